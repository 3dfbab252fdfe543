#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage an AWS managed AWS Config rule, with tags."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_rule
short_description: Manage an AWS managed AWS Config rule
description:
  - Creates, updates or deletes one AWS Config rule whose source is an AWS managed rule
    (C(Owner=AWS)), with its tags.
  - Compares only what it sets (source, description, input parameters, scope, maximum execution
    frequency, tags), so a second run reports no change. C(community.aws.config_rule) has no
    check mode and no tags, and compares the whole returned rule with its request.
  - A rule just put is read back; DescribeConfigRules may not know it for a few seconds (AWS's
    eventual consistency), so that read is retried for up to 30 seconds.
  - Supports check mode and diff mode.
options:
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
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Buckets must refuse plain HTTP
  booking.aws.config_rule:
    name: booking-api-prod-s3-bucket-ssl-requests-only
    identifier: S3_BUCKET_SSL_REQUESTS_ONLY
    description: S3 buckets deny requests without TLS
    compliance_resource_types: ["AWS::S3::Bucket"]
    tags: {Project: booking-api, Environment: prod}
"""

RETURN = r"""
rule:
  description: The rule after the run as compared (empty when absent).
  returned: always
  type: dict
  sample: {name: r, identifier: S3_BUCKET_SSL_REQUESTS_ONLY, tags: {}}
rule_arn:
  description: ARN of the rule; empty when absent or, in check mode, not created yet.
  returned: always
  type: str
  sample: arn:aws:config:us-east-1:123456789012:config-rule/config-rule-ab12cd
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.config_rule import (
    RULE_OPTIONS,
    RULE_REQUIRED_IF,
    RuleNotReadable,
    converge_rule,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=RULE_OPTIONS,
        required_if=RULE_REQUIRED_IF,
        supports_check_mode=True,
    )
    client = module.client("config", retry_decorator=AWSRetry.jittered_backoff())
    try:
        result = converge_rule(client, module.params, module.check_mode)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"Unable to converge the AWS Config rule {module.params['name']}")
    except RuleNotReadable as e:
        module.fail_json(msg=str(e), changed=True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
