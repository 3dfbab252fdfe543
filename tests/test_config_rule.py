"""booking.aws.config_rule on the emulator: create, no change, check mode, update, tags, absent."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from harness import AnsibleRunner, emulator_process

MODULE = "booking.aws.config_rule"
NAME = "test-rds-storage-encrypted"
ARGS = {"name": NAME, "identifier": "RDS_STORAGE_ENCRYPTED",
        "description": "RDS instances are encrypted at rest",
        "compliance_resource_types": ["AWS::RDS::DBInstance"],
        "tags": {"Project": "booking-api", "Name": NAME}}


def _rule(aws):
    rules = aws("config").describe_config_rules()["ConfigRules"]
    found = [r for r in rules if r["ConfigRuleName"] == NAME]
    if not found:
        return None
    tags = aws("config").list_tags_for_resource(ResourceArn=found[0]["ConfigRuleArn"])["Tags"]
    return found[0], {t["Key"]: t["Value"] for t in tags}


def test_creates_once_then_reports_no_change(ansible, aws, fresh_emulator):
    checked = ansible.module(MODULE, ARGS, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert _rule(aws) is None, "check mode created the rule"

    first = ansible.module(MODULE, ARGS)
    assert first["changed"] is True, first
    rule, tags = _rule(aws)
    assert rule["Source"] == {"Owner": "AWS", "SourceIdentifier": "RDS_STORAGE_ENCRYPTED"}
    assert rule["Scope"]["ComplianceResourceTypes"] == ["AWS::RDS::DBInstance"]
    assert tags == ARGS["tags"]
    assert first["rule_arn"] == rule["ConfigRuleArn"]

    second = ansible.module(MODULE, ARGS)
    assert second["changed"] is False, second
    again = ansible.module(MODULE, ARGS, check=True, diff=True)
    assert again["changed"] is False, again


def test_updates_parameters_and_tags(ansible, aws, fresh_emulator):
    ansible.module(MODULE, ARGS)
    changed = dict(ARGS, input_parameters={"kmsKeyId": "alias/test"},
                   tags={"Project": "booking-api", "Team": "ops"})
    checked = ansible.module(MODULE, changed, check=True, diff=True)
    assert checked["changed"] is True
    assert _rule(aws)[1] == ARGS["tags"], "check mode changed the tags"

    updated = ansible.module(MODULE, changed)
    assert updated["changed"] is True, updated
    rule, tags = _rule(aws)
    assert json.loads(rule["InputParameters"]) == {"kmsKeyId": "alias/test"}
    assert tags == {"Project": "booking-api", "Team": "ops"}
    assert ansible.module(MODULE, changed)["changed"] is False


def test_absent_deletes_then_reports_no_change(ansible, aws, fresh_emulator):
    gone_before = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert gone_before["changed"] is False, gone_before
    ansible.module(MODULE, ARGS)
    checked = ansible.module(MODULE, {"name": NAME, "state": "absent"}, check=True)
    assert checked["changed"] is True
    assert _rule(aws) is not None, "check mode deleted the rule"
    gone = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert gone["changed"] is True
    assert _rule(aws) is None
    assert ansible.module(MODULE, {"name": NAME, "state": "absent"})["changed"] is False


# booking.aws.config_rules: the same rules, a list in one module run.
LIST_MODULE = "booking.aws.config_rules"
OTHER = {"name": "test-root-no-access-key", "identifier": "IAM_ROOT_ACCESS_KEY_CHECK",
         "maximum_execution_frequency": "TwentyFour_Hours", "tags": {"Project": "booking-api"}}


def _names(aws):
    return sorted(r["ConfigRuleName"] for r in aws("config").describe_config_rules()["ConfigRules"])


def test_list_module_converges_each_rule_once(ansible, aws, fresh_emulator):
    rules = {"rules": [ARGS, OTHER]}
    checked = ansible.module(LIST_MODULE, rules, check=True, diff=True)
    assert checked["changed"] is True
    assert set(checked["diff"]["after"]) == {NAME, OTHER["name"]}
    assert _names(aws) == [], "check mode created a rule"

    first = ansible.module(LIST_MODULE, rules)
    assert [(r["name"], r["changed"]) for r in first["rules"]] == [
        (NAME, True), (OTHER["name"], True)]
    assert _names(aws) == sorted([NAME, OTHER["name"]])
    assert _rule(aws)[1] == ARGS["tags"]

    assert ansible.module(LIST_MODULE, rules)["changed"] is False
    assert ansible.module(LIST_MODULE, rules, check=True)["changed"] is False

    changed = ansible.module(LIST_MODULE, {"rules": [
        {**ARGS, "description": "changed"}, {"name": OTHER["name"], "state": "absent"}]})
    assert [(r["name"], r["changed"]) for r in changed["rules"]] == [
        (NAME, True), (OTHER["name"], True)]
    assert _names(aws) == [NAME]
    assert _rule(aws)[0]["Description"] == "changed"


def test_list_module_refuses_a_repeated_name_or_a_rule_without_identifier(ansible, aws,
                                                                          fresh_emulator):
    repeated = ansible.module(LIST_MODULE, {"rules": [ARGS, ARGS]})
    assert repeated.get("failed") is True
    assert "each name once; repeated: " + NAME in repeated["msg"]
    missing = ansible.module(LIST_MODULE, {"rules": [ARGS, {"name": "test-x"}]})
    assert missing.get("failed") is True
    assert "identifier" in missing["msg"]
    assert _names(aws) == [], "a rule was written before the bad item failed"


# --- a new rule read back at once (issue 15, item 5) --------------------------------------------

LAG = 3.0  # seconds a new rule stays unknown to DescribeConfigRules on the strict emulator


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    """(runner, client factory) on an emulator whose DescribeConfigRules lags LAG s behind."""
    calls = tmp_path_factory.mktemp("config-rule-lag") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"consistency={LAG:g}") as url:
        def client(service):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="emulator", aws_secret_access_key="emulator")
        yield AnsibleRunner(SimpleNamespace(url=url)), client


def test_waits_until_describe_knows_the_new_rule(lagging):
    runner, client = lagging
    config = client("config")
    # What the module did before: put the rule, then read it by name right away (its _describe
    # answered None for NoSuchConfigRuleException, and None["ConfigRuleArn"] failed). On a loaded
    # machine the read may come later than LAG after the put (CI, 2026-12-07: it did); the rule may
    # be known only then, never sooner.
    put_at = time.monotonic()
    config.put_config_rule(ConfigRule={
        "ConfigRuleName": "old-way", "ConfigRuleState": "ACTIVE",
        "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_PUBLIC_READ_PROHIBITED"}})
    try:
        config.describe_config_rules(ConfigRuleNames=["old-way"])
        code = None
    except ClientError as missing:
        code = missing.response["Error"]["Code"]
    if code is None:
        assert time.monotonic() - put_at >= LAG, "a new rule was known before the lag was over"
    else:
        assert code == "NoSuchConfigRuleException"

    started = time.monotonic()
    created = runner.module(MODULE, ARGS)
    assert created["changed"] is True, created
    assert created["rule_arn"].startswith("arn:aws:config:")
    assert created["rule"]["tags"] == ARGS["tags"]
    assert time.monotonic() - started >= LAG - 0.5, "the read did not have to wait"
    assert runner.module(MODULE, ARGS)["changed"] is False

    # The list module shares the read: a second rule through booking.aws.config_rules.
    listed = runner.module("booking.aws.config_rules", {"rules": [
        ARGS, dict(ARGS, name="test-s3-ssl", identifier="S3_BUCKET_SSL_REQUESTS_ONLY",
                   compliance_resource_types=["AWS::S3::Bucket"])]})
    assert [r["changed"] for r in listed["rules"]] == [False, True], listed
