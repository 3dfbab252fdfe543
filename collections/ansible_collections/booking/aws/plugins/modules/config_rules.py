#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a list of AWS managed AWS Config rules in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_rules
short_description: Manage a list of AWS managed AWS Config rules in one module run
description:
  - Creates, updates or deletes each rule of I(rules) exactly as M(booking.aws.config_rule) does
    for one (the same options per item, comparison, tags and check mode), in one module run.
  - Exists for speed - one module start-up (a Python process, boto3 and a client) for all the
    rules instead of one per rule (bench/RESULTS.md, provisioning).
  - The first AWS error stops the run with the rule it was converging named (rules before it are
    converged, as a loop would leave them).
  - Supports check mode and diff mode.
options:
  rules:
    description: The rules, each with the options of M(booking.aws.config_rule).
    type: list
    elements: dict
    required: true
    suboptions:
        name:
          description: Name of the rule.
          type: str
          required: true
        identifier:
          description:
            - The AWS managed rule, e.g. C(S3_BUCKET_SSL_REQUESTS_ONLY).
            - Required with I(state=present).
          type: str
        description:
          description: Description of the rule.
          type: str
          default: ""
        input_parameters:
          description: The managed rule's parameters (written as the JSON AWS expects).
          type: dict
          default: {}
        compliance_resource_types:
          description: Resource types the rule evaluates (its scope); empty leaves the scope unset.
          type: list
          elements: str
          default: []
        maximum_execution_frequency:
          description: For periodic rules, how often AWS Config evaluates them.
          type: str
          choices: [One_Hour, Three_Hours, Six_Hours, Twelve_Hours, TwentyFour_Hours]
        state:
          description: Whether the rule should exist.
          type: str
          choices: [present, absent]
          default: present
        tags:
          description: Tags of the rule; unset leaves tags alone.
          type: dict
          aliases: [resource_tags]
        purge_tags:
          description: Whether tags not in I(tags) are removed.
          type: bool
          default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Buckets only over TLS, root without access keys
  booking.aws.config_rules:
    rules:
      - name: booking-api-prod-s3-ssl-requests-only
        identifier: S3_BUCKET_SSL_REQUESTS_ONLY
        compliance_resource_types: [AWS::S3::Bucket]
        tags: {Project: booking-api}
      - name: booking-api-prod-root-no-access-key
        identifier: IAM_ROOT_ACCESS_KEY_CHECK
        maximum_execution_frequency: TwentyFour_Hours
"""

RETURN = r"""
rules:
  description:
    - One result per item of I(rules), in order, as M(booking.aws.config_rule) returns it
      (C(rule), C(rule_arn)), with the item's C(name) and whether it C(changed).
  returned: always
  type: list
  elements: dict
  sample:
    - name: booking-api-prod-s3-ssl-requests-only
      changed: false
      rule_arn: arn:aws:config:us-east-1:123456789012:config-rule/config-rule-ab12cd
      rule: {name: booking-api-prod-s3-ssl-requests-only, identifier: S3_BUCKET_SSL_REQUESTS_ONLY}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.config_rule import (
    RULE_OPTIONS,
    RULE_REQUIRED_IF,
    RuleNotReadable,
    converge_rule,
)
from ansible_collections.booking.aws.plugins.module_utils.list_module import (
    converge_each,
    refuse_repeats,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "rules": {"type": "list", "elements": "dict", "required": True,
                      "options": RULE_OPTIONS, "required_if": RULE_REQUIRED_IF},
        },
        supports_check_mode=True,
    )
    rules: list[dict[str, Any]] = module.params["rules"]
    refuse_repeats(module, "rules", [r["name"] for r in rules])

    client = module.client("config", retry_decorator=AWSRetry.jittered_backoff())

    def converge(rule: dict[str, Any]) -> dict[str, Any]:
        try:
            return converge_rule(client, rule, module.check_mode)
        except RuleNotReadable as e:
            module.fail_json(msg=str(e), changed=True)
            raise  # not reached: fail_json exits

    converge_each(module, "rules", rules, converge,
                  lambda rule: f"the AWS Config rule {rule['name']}")


if __name__ == "__main__":
    main()
