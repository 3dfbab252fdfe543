"""booking.aws.audit_rule_requests (plugins/filter/audit.py), in pure Python.

The audit role's AWS Config rule requests were built by a Jinja loop in roles/audit/vars/main.yml;
the filter must build the very same requests so a converged environment stays unchanged. The
REFERENCE below is what that Jinja rendered (ansible-core 2.21, before the move) for the molecule
scenario's inputs and the role's default rules; OTHER_REFERENCE for rules with parameters, nulls
and no optional keys at all, and tags that already hold Name. No emulator: the plugin file is
loaded from its path.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter import audit

REPO = Path(__file__).resolve().parents[1]





def _json(value: Any) -> str:
    """Compared as JSON: key order, and null vs '' vs {} count."""
    return json.dumps(value)


# roles/audit/molecule/default/molecule.yml's inputs and the role's default audit_config_rules
# (roles/audit/defaults/main.yml when the reference was rendered).
PREFIX = "molecule-prod"
TAGS = {"Project": "molecule", "Environment": "prod", "ManagedBy": "ansible"}
RULES: list[dict[str, Any]] = [
    {"name": "s3-bucket-public-read-prohibited", "identifier": "S3_BUCKET_PUBLIC_READ_PROHIBITED",
     "description": "S3 buckets do not allow public read access.",
     "resource_types": ["AWS::S3::Bucket"]},
    {"name": "s3-bucket-ssl-requests-only", "identifier": "S3_BUCKET_SSL_REQUESTS_ONLY",
     "description": "S3 bucket policies deny requests without TLS.",
     "resource_types": ["AWS::S3::Bucket"]},
    {"name": "rds-storage-encrypted", "identifier": "RDS_STORAGE_ENCRYPTED",
     "description": "RDS instances are encrypted at rest.",
     "resource_types": ["AWS::RDS::DBInstance"]},
    {"name": "rds-instance-public-access-check", "identifier": "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
     "description": "RDS instances are not publicly accessible.",
     "resource_types": ["AWS::RDS::DBInstance"]},
    {"name": "vpc-flow-logs-enabled", "identifier": "VPC_FLOW_LOGS_ENABLED",
     "description": "Every VPC has flow logs.", "max_frequency": "TwentyFour_Hours"},
    {"name": "cloudtrail-enabled", "identifier": "CLOUD_TRAIL_ENABLED",
     "description": "The account has a CloudTrail trail logging.",
     "max_frequency": "TwentyFour_Hours"},
    {"name": "ecs-task-definition-nonroot-user", "identifier": "ECS_TASK_DEFINITION_NONROOT_USER",
     "description": "ECS task definitions run their containers as a non-root user.",
     "resource_types": ["AWS::ECS::TaskDefinition"]},
]


def _reference(name: str, identifier: str, description: str, types: list[str],
               frequency: str | None = None) -> dict[str, Any]:
    request = {"name": f"molecule-prod-{name}", "identifier": identifier,
               "description": description, "input_parameters": {},
               "compliance_resource_types": types,
               "tags": {**TAGS, "Name": f"molecule-prod-{name}"},
               "purge_tags": True, "state": "present"}
    if frequency:
        request["maximum_execution_frequency"] = frequency
    return request


# Rendered by the former Jinja of roles/audit/vars/main.yml (__audit_rule_requests) for RULES.
REFERENCE: list[dict[str, Any]] = [
    _reference("s3-bucket-public-read-prohibited", "S3_BUCKET_PUBLIC_READ_PROHIBITED",
               "S3 buckets do not allow public read access.", ["AWS::S3::Bucket"]),
    _reference("s3-bucket-ssl-requests-only", "S3_BUCKET_SSL_REQUESTS_ONLY",
               "S3 bucket policies deny requests without TLS.", ["AWS::S3::Bucket"]),
    _reference("rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED",
               "RDS instances are encrypted at rest.", ["AWS::RDS::DBInstance"]),
    _reference("rds-instance-public-access-check", "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
               "RDS instances are not publicly accessible.", ["AWS::RDS::DBInstance"]),
    _reference("vpc-flow-logs-enabled", "VPC_FLOW_LOGS_ENABLED", "Every VPC has flow logs.", [],
               "TwentyFour_Hours"),
    _reference("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED",
               "The account has a CloudTrail trail logging.", [], "TwentyFour_Hours"),
    _reference("ecs-task-definition-nonroot-user", "ECS_TASK_DEFINITION_NONROOT_USER",
               "ECS task definitions run their containers as a non-root user.",
               ["AWS::ECS::TaskDefinition"]),
]

# Rules with parameters and a frequency, with no optional key, with every optional key null, and
# tags that already carry a Name and a number.
OTHER_PREFIX = "booking-api-staging"
OTHER_TAGS = {"Name": "overridden", "Project": "booking", "Owner": 7}
OTHER_RULES: list[dict[str, Any]] = [
    {"name": "required-tags", "identifier": "REQUIRED_TAGS",
     "parameters": {"tag1Key": "Project", "tag2Key": "Environment"},
     "resource_types": ["AWS::S3::Bucket", "AWS::RDS::DBInstance"], "max_frequency": "One_Hour"},
    {"name": "bare", "identifier": "BARE"},
    {"name": "nulls", "identifier": "NULLS", "description": None, "parameters": None,
     "resource_types": None, "max_frequency": None},
]
# Rendered by the former Jinja for OTHER_RULES.
OTHER_REFERENCE: list[dict[str, Any]] = [
    {"name": "booking-api-staging-required-tags", "identifier": "REQUIRED_TAGS",
     "description": "", "input_parameters": {"tag1Key": "Project", "tag2Key": "Environment"},
     "compliance_resource_types": ["AWS::S3::Bucket", "AWS::RDS::DBInstance"],
     "tags": {"Name": "booking-api-staging-required-tags", "Project": "booking", "Owner": 7},
     "purge_tags": True, "state": "present", "maximum_execution_frequency": "One_Hour"},
    {"name": "booking-api-staging-bare", "identifier": "BARE", "description": "",
     "input_parameters": {}, "compliance_resource_types": [],
     "tags": {"Name": "booking-api-staging-bare", "Project": "booking", "Owner": 7},
     "purge_tags": True, "state": "present"},
    {"name": "booking-api-staging-nulls", "identifier": "NULLS", "description": None,
     "input_parameters": None, "compliance_resource_types": None,
     "tags": {"Name": "booking-api-staging-nulls", "Project": "booking", "Owner": 7},
     "purge_tags": True, "state": "present", "maximum_execution_frequency": None},
]


# --- the former Jinja's output --------------------------------------------------------------------

def test_requests_of_the_default_rules_are_what_the_former_jinja_rendered():
    assert _json(audit.audit_rule_requests(RULES, PREFIX, TAGS)) == _json(REFERENCE)


def test_requests_of_other_rules_are_what_the_former_jinja_rendered():
    requests = audit.audit_rule_requests(OTHER_RULES, OTHER_PREFIX, OTHER_TAGS)
    assert _json(requests) == _json(OTHER_REFERENCE)


def test_the_roles_default_rules_pass_the_filters_checks():
    defaults = yaml.safe_load((REPO / "roles/audit/defaults/main.yml").read_text())
    requests = audit.audit_rule_requests(defaults["audit_config_rules"], PREFIX, TAGS)
    assert len(requests) == len(defaults["audit_config_rules"])


# --- behaviour ------------------------------------------------------------------------------------

def test_max_frequency_only_when_the_rule_gives_one():
    requests = {r["name"]: r for r in audit.audit_rule_requests(RULES, PREFIX, TAGS)}
    periodic = {name for name, r in requests.items() if "maximum_execution_frequency" in r}
    assert periodic == {"molecule-prod-vpc-flow-logs-enabled", "molecule-prod-cloudtrail-enabled"}
    assert requests["molecule-prod-cloudtrail-enabled"]["maximum_execution_frequency"] == (
        "TwentyFour_Hours")


def test_each_rule_is_named_with_the_prefix_tagged_and_present_in_the_given_order():
    requests = audit.audit_rule_requests(RULES, PREFIX, TAGS)
    assert [r["name"] for r in requests] == [f"molecule-prod-{rule['name']}" for rule in RULES]
    for request in requests:
        assert request["tags"] == {**TAGS, "Name": request["name"]}
        assert request["purge_tags"] is True
        assert request["state"] == "present"


def test_left_out_keys_get_the_empty_defaults_and_the_inputs_are_not_changed():
    rules, tags = copy.deepcopy(OTHER_RULES), copy.deepcopy(OTHER_TAGS)
    [request] = audit.audit_rule_requests(rules[1:2], "x-y", tags)
    assert (request["description"], request["input_parameters"],
            request["compliance_resource_types"]) == ("", {}, [])
    assert request["tags"] == {"Name": "x-y-bare", "Project": "booking", "Owner": 7}
    assert (rules, tags) == (OTHER_RULES, OTHER_TAGS)


def test_no_rules_no_requests():
    assert audit.audit_rule_requests([], PREFIX, TAGS) == []


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rules", "prefix", "tags", "message"), [
    (RULES, "", TAGS, "name prefix must be a non-empty string"),
    (RULES, None, TAGS, "name prefix must be a non-empty string"),
    (RULES, PREFIX, None, "tags must be a dict"),
    ({"name": "x", "identifier": "X"}, PREFIX, TAGS, "audit_config_rules must be a list"),
    ("s3-bucket-public-read-prohibited", PREFIX, TAGS, "audit_config_rules must be a list"),
    (["S3_BUCKET_PUBLIC_READ_PROHIBITED"], PREFIX, TAGS, r"audit_config_rules\[0\] must be a dict"),
    ([{"identifier": "X"}], PREFIX, TAGS, r"audit_config_rules\[0\]\.name must be a non-empty"),
    ([RULES[0], {"name": "x"}], PREFIX, TAGS, r"audit_config_rules\[1\]\.identifier must be"),
    ([{"name": "x", "identifier": ""}], PREFIX, TAGS, r"\.identifier must be a non-empty"),
    ([{"name": "x", "identifier": "X", "params": {}}], PREFIX, TAGS,
     r"unknown keys \['params'\]"),
    ([{"name": "x", "identifier": "X", "parameters": ["a"]}], PREFIX, TAGS,
     r"\.parameters must be a dict"),
    ([{"name": "x", "identifier": "X", "resource_types": "AWS::S3::Bucket"}], PREFIX, TAGS,
     r"\.resource_types must be a list of strings"),
    ([{"name": "x", "identifier": "X", "max_frequency": 24}], PREFIX, TAGS,
     r"\.max_frequency must be a string"),
    ([{"name": "x", "identifier": "X"}, {"name": "x", "identifier": "Y"}], PREFIX, TAGS,
     "two rules are named 'x'"),
])
def test_bad_input_is_refused_with_its_name(rules: Any, prefix: Any, tags: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        audit.audit_rule_requests(rules, prefix, tags)


# --- wiring ---------------------------------------------------------------------------------------

def test_filter_module_names_the_filter():
    assert audit.FilterModule().filters() == {"audit_rule_requests": audit.audit_rule_requests}


def test_the_roles_vars_use_the_filter_and_the_contract_and_loop_no_more():
    text = (REPO / "roles/audit/vars/main.yml").read_text()
    assert "{%" not in text
    values = yaml.safe_load(text)
    assert "booking.aws.audit_rule_requests(" in values["__audit_rule_requests"]
    assert "booking.aws.resource_names" in values["__audit_names"]
    assert values["__audit_trail_name"] == "{{ __audit_names.trail }}"
    assert values["__audit_log_group"] == "{{ __audit_names.audit_log_group }}"
