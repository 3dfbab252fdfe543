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
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
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

import json
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def _describe(client: Any, name: str) -> dict[str, Any] | None:
    try:
        rules = client.describe_config_rules(aws_retry=True, ConfigRuleNames=[name])["ConfigRules"]
    except is_boto3_error_code("NoSuchConfigRuleException"):
        return None
    return rules[0] if rules else None


def _tags(client: Any, arn: str) -> dict[str, str]:
    found = client.list_tags_for_resource(aws_retry=True, ResourceArn=arn).get("Tags", [])
    return {t["Key"]: t["Value"] for t in found}


def _state(rule: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    params = rule.get("InputParameters") or "{}"
    return {"name": rule["ConfigRuleName"],
            "identifier": rule["Source"].get("SourceIdentifier", ""),
            "owner": rule["Source"].get("Owner", ""),
            "description": rule.get("Description", ""),
            "input_parameters": json.loads(params) if params.strip() else {},
            "compliance_resource_types": sorted(
                (rule.get("Scope") or {}).get("ComplianceResourceTypes") or []),
            "maximum_execution_frequency": rule.get("MaximumExecutionFrequency", ""),
            "tags": tags}


def _request(wanted: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "ConfigRuleName": wanted["name"],
        "Source": {"Owner": "AWS", "SourceIdentifier": wanted["identifier"]},
        "ConfigRuleState": "ACTIVE",
    }
    if wanted["description"]:
        rule["Description"] = wanted["description"]
    if wanted["input_parameters"]:
        rule["InputParameters"] = json.dumps(wanted["input_parameters"], sort_keys=True)
    if wanted["compliance_resource_types"]:
        rule["Scope"] = {"ComplianceResourceTypes": wanted["compliance_resource_types"]}
    if wanted["maximum_execution_frequency"]:
        rule["MaximumExecutionFrequency"] = wanted["maximum_execution_frequency"]
    return rule


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "identifier": {"type": "str"},
            "description": {"type": "str", "default": ""},
            "input_parameters": {"type": "dict", "default": {}},
            "compliance_resource_types": {"type": "list", "elements": "str", "default": []},
            "maximum_execution_frequency": {
                "type": "str",
                "choices": ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours",
                            "TwentyFour_Hours"]},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[["state", "present", ["identifier"]]],
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    client = module.client("config", retry_decorator=AWSRetry.jittered_backoff())

    try:
        found = _describe(client, name)
        arn = found["ConfigRuleArn"] if found else ""
        before = _state(found, _tags(client, arn)) if found else {}

        if p["state"] == "absent":
            if found and not module.check_mode:
                try:
                    client.delete_config_rule(aws_retry=True, ConfigRuleName=name)
                except is_boto3_error_code("NoSuchConfigRuleException"):
                    pass  # deleted meanwhile: the wanted state
            module.exit_json(changed=bool(found), rule={}, rule_arn="",
                             diff={"before": before, "after": {}})

        current_tags = before.get("tags", {})
        to_set, to_unset = ({}, [])
        if p["tags"] is not None:
            to_set, to_unset = compare_aws_tags(current_tags, p["tags"], p["purge_tags"])
        tags = {k: v for k, v in current_tags.items() if k not in to_unset}
        tags.update(to_set)
        # Round trip through JSON: Ansible's string and number types become plain ones.
        wanted = {"name": name, "identifier": p["identifier"], "owner": "AWS",
                  "description": p["description"],
                  "input_parameters": json.loads(json.dumps(p["input_parameters"])),
                  "compliance_resource_types": sorted(p["compliance_resource_types"]),
                  "maximum_execution_frequency": p["maximum_execution_frequency"] or "",
                  "tags": tags}
        rule_changed = {k: v for k, v in before.items() if k != "tags"} != \
            {k: v for k, v in wanted.items() if k != "tags"}
        changed = rule_changed or bool(to_set or to_unset)

        if changed and not module.check_mode:
            if rule_changed:
                # Every wanted tag goes with the rule: PutConfigRule may apply its Tags to an
                # existing rule (the emulator replaces them), so the tags are read back after it.
                kwargs: dict[str, Any] = {"ConfigRule": _request(wanted)}
                if tags:
                    kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
                client.put_config_rule(aws_retry=True, **kwargs)
                arn = _describe(client, name)["ConfigRuleArn"]  # type: ignore[index]
                to_set, to_unset = compare_aws_tags(_tags(client, arn), tags, True)
            if to_unset:
                client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=to_unset)
            if to_set:
                client.tag_resource(aws_retry=True, ResourceArn=arn,
                                    Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
            wanted = _state(_describe(client, name), _tags(client, arn))  # type: ignore[arg-type]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge the AWS Config rule {name}")

    module.exit_json(changed=changed, rule=wanted, rule_arn=arn,
                     diff={"before": before, "after": wanted})


if __name__ == "__main__":
    main()
