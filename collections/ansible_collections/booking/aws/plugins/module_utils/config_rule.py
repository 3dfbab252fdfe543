# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One AWS managed AWS Config rule, compared and converged: shared by booking.aws.config_rule (one
rule) and booking.aws.config_rules (a list in one module run)."""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    read_until_found,
)

# Seconds a rule just put may take to appear in DescribeConfigRules.
READ_TIMEOUT = 30


class RuleNotReadable(Exception):
    """A rule AWS accepted did not show in DescribeConfigRules in time."""


# The options of one rule (the module's own, and each item of the list module's rules).
RULE_OPTIONS: dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "identifier": {"type": "str"},
    "description": {"type": "str", "default": ""},
    "input_parameters": {"type": "dict", "default": {}},
    "compliance_resource_types": {"type": "list", "elements": "str", "default": []},
    "maximum_execution_frequency": {
        "type": "str",
        "choices": ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"]},
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}
RULE_REQUIRED_IF: list[list[Any]] = [["state", "present", ["identifier"]]]


def _describe(client: Any, name: str) -> dict[str, Any] | None:
    try:
        rules = client.describe_config_rules(aws_retry=True, ConfigRuleNames=[name])["ConfigRules"]
    except is_boto3_error_code("NoSuchConfigRuleException"):
        return None
    return rules[0] if rules else None


def _read_back(client: Any, name: str) -> dict[str, Any]:
    """The rule just put, read back: DescribeConfigRules may not know a new rule for a few seconds
    (NoSuchConfigRuleException; AWS's eventual consistency), so the read is retried for up to
    READ_TIMEOUT seconds. Raises RuleNotReadable when it never shows."""
    found = read_until_found(lambda: _describe(client, name), timeout=READ_TIMEOUT)
    if not found:
        raise RuleNotReadable(f"AWS Config accepted the rule {name}, but DescribeConfigRules has "
                              f"not shown it for {READ_TIMEOUT} s")
    return found


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


def converge_rule(client: Any, p: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """Make one rule as its options say (p); return changed, rule, rule_arn and diff.

    Raises botocore errors from AWS, and RuleNotReadable.
    """
    name = p["name"]
    found = _describe(client, name)
    arn = found["ConfigRuleArn"] if found else ""
    before = _state(found, _tags(client, arn)) if found else {}

    if p["state"] == "absent":
        if found and not check_mode:
            try:
                client.delete_config_rule(aws_retry=True, ConfigRuleName=name)
            except is_boto3_error_code("NoSuchConfigRuleException"):
                pass  # deleted meanwhile: the wanted state
        return {"changed": bool(found), "rule": {}, "rule_arn": "",
                "diff": {"before": before, "after": {}}}

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

    if changed and not check_mode:
        if rule_changed:
            # Every wanted tag goes with the rule: PutConfigRule may apply its Tags to an
            # existing rule (the emulator replaces them), so the tags are read back after it.
            kwargs: dict[str, Any] = {"ConfigRule": _request(wanted)}
            if tags:
                kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
            client.put_config_rule(aws_retry=True, **kwargs)
            arn = _read_back(client, name)["ConfigRuleArn"]
            to_set, to_unset = compare_aws_tags(_tags(client, arn), tags, True)
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=to_unset)
        if to_set:
            client.tag_resource(aws_retry=True, ResourceArn=arn,
                                Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
        wanted = _state(_read_back(client, name), _tags(client, arn))
    return {"changed": changed, "rule": wanted, "rule_arn": arn,
            "diff": {"before": before, "after": wanted}}
