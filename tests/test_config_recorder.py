"""booking.aws.config_recorder on the emulator: create, no change, check, start, update, absent."""

from __future__ import annotations

import json
import time
import urllib.request
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from harness import AnsibleRunner, emulator_process

MODULE = "booking.aws.config_recorder"
NAME = "test-recorder"
SLR_PATH = "/aws-service-role/config.amazonaws.com/"


def _recorders(aws):
    config = aws("config")
    statuses = {s["name"]: s["recording"] for s in
                config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]}
    return {r["name"]: (r["roleARN"], r["recordingGroup"]["allSupported"],
                        r["recordingGroup"]["includeGlobalResourceTypes"], statuses[r["name"]])
            for r in config.describe_configuration_recorders()["ConfigurationRecorders"]}


def _channel(aws):
    aws("s3").create_bucket(Bucket="test-config-bucket")
    aws("config").put_delivery_channel(DeliveryChannel={
        "name": "test-channel", "s3BucketName": "test-config-bucket", "s3KeyPrefix": "config"})


def test_creates_with_the_service_linked_role_then_reports_no_change(ansible, aws, fresh_emulator):
    checked = ansible.module(MODULE, {"name": NAME}, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert SLR_PATH in checked["role_arn"]
    assert _recorders(aws) == {}, "check mode created a recorder"
    assert aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"] == [], "check mode made the role"

    first = ansible.module(MODULE, {"name": NAME})
    assert first["changed"] is True, first
    [role] = aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"]
    assert _recorders(aws) == {NAME: (role["Arn"], True, False, False)}
    assert first["role_arn"] == role["Arn"]

    second = ansible.module(MODULE, {"name": NAME})
    assert second["changed"] is False, second
    again = ansible.module(MODULE, {"name": NAME}, check=True, diff=True)
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"]


def test_starts_updates_and_stops(ansible, aws, fresh_emulator):
    # A role of our own: AWS Config must be able to assume it (strict mode refuses a role that
    # does not exist, and one IAM has not propagated yet, which the module waits out).
    role = aws("iam").create_role(RoleName="test-config", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "config.amazonaws.com"}}]}))["Role"]["Arn"]
    created = ansible.module(MODULE, {"name": NAME, "role_arn": role})
    assert created["changed"] is True, created
    _channel(aws)

    checked = ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True},
                             check=True)
    assert checked["changed"] is True
    assert _recorders(aws)[NAME][3] is False, "check mode started the recorder"
    started = ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True})
    assert started["changed"] is True, started
    assert started["recording"] is True
    assert _recorders(aws)[NAME] == (role, True, False, True)
    assert ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True})[
        "changed"] is False
    # recording omitted: the status is left alone.
    assert ansible.module(MODULE, {"name": NAME, "role_arn": role})["changed"] is False

    updated = ansible.module(MODULE, {"name": NAME, "role_arn": role,
                                      "include_global_resource_types": True})
    assert updated["changed"] is True, updated
    assert _recorders(aws)[NAME] == (role, True, True, True)

    stopped = ansible.module(MODULE, {"name": NAME, "role_arn": role,
                                      "include_global_resource_types": True, "recording": False})
    assert stopped["changed"] is True
    assert _recorders(aws)[NAME][3] is False


def test_refuses_a_second_recorder(ansible, aws, fresh_emulator):
    ansible.module(MODULE, {"name": "someone-elses"})
    refused = ansible.module(MODULE, {"name": NAME})
    assert refused.get("failed") is True
    assert "someone-elses" in refused["msg"]


def test_absent_stops_and_deletes_only_the_named_recorder(ansible, aws, fresh_emulator):
    ansible.module(MODULE, {"name": "someone-elses"})
    other = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert other["changed"] is False
    assert list(_recorders(aws)) == ["someone-elses"]
    ansible.module(MODULE, {"name": "someone-elses", "state": "absent"})

    ansible.module(MODULE, {"name": NAME})
    _channel(aws)
    ansible.module(MODULE, {"name": NAME, "recording": True})
    checked = ansible.module(MODULE, {"name": NAME, "state": "absent"}, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {}
    assert NAME in _recorders(aws), "check mode deleted the recorder"

    gone = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert gone["changed"] is True, gone
    assert _recorders(aws) == {}
    # The delivery channel can go once no recorder records.
    aws("config").delete_delivery_channel(DeliveryChannelName="test-channel")
    twice = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert twice["changed"] is False, twice
    assert aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"], "the service-linked role stays"


# --- recording strategies: all but some types (exclusion), only some types (inclusion) ----------

ENI = "AWS::EC2::NetworkInterface"
IAM = ["AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User"]


def _group(aws):
    [recorder] = aws("config").describe_configuration_recorders()["ConfigurationRecorders"]
    group = recorder["recordingGroup"]
    return (group["recordingStrategy"]["useOnly"], group["allSupported"],
            group["includeGlobalResourceTypes"], sorted(group.get("resourceTypes") or []),
            sorted(group["exclusionByResourceTypes"]["resourceTypes"]))


def test_exclusions_record_all_but_those_types_then_report_no_change(ansible, aws, fresh_emulator):
    # What the audit role asks for: every Fargate task's ENI is a billed configuration item.
    ansible.module(MODULE, {"name": NAME, "all_supported": True,
                            "include_global_resource_types": True})
    args = {"name": NAME, "exclusion_resource_types": [ENI, *IAM]}
    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"]["recording_group"]["recordingStrategy"] == {
        "useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}
    assert checked["diff"]["after"]["recording_group"]["exclusionByResourceTypes"] == {
        "resourceTypes": sorted([ENI, *IAM])}
    assert _group(aws)[0] == "ALL_SUPPORTED_RESOURCE_TYPES", "check mode changed the recorder"

    changed = ansible.module(MODULE, args)
    assert changed["changed"] is True, changed
    assert _group(aws) == ("EXCLUSION_BY_RESOURCE_TYPES", False, False, [], sorted([ENI, *IAM]))
    assert changed["recording_group"]["recordingStrategy"] == {
        "useOnly": "EXCLUSION_BY_RESOURCE_TYPES"}

    # The same types in another order, or all_supported=false said out loud: no change.
    reordered = {"name": NAME, "all_supported": False, "exclusion_resource_types": [*IAM, ENI]}
    assert ansible.module(MODULE, reordered)["changed"] is False
    again = ansible.module(MODULE, args, check=True, diff=True)
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"]

    # Fewer exclusions (IAM recorded again in this Region): one update.
    narrowed = ansible.module(MODULE, {"name": NAME, "exclusion_resource_types": [ENI]})
    assert narrowed["changed"] is True
    assert _group(aws) == ("EXCLUSION_BY_RESOURCE_TYPES", False, False, [], [ENI])

    # Back to every type, global ones included.
    back = ansible.module(MODULE, {"name": NAME, "include_global_resource_types": True})
    assert back["changed"] is True
    assert _group(aws) == ("ALL_SUPPORTED_RESOURCE_TYPES", True, True, [], [])


def test_inclusion_records_only_the_listed_types(ansible, aws, fresh_emulator):
    types = ["AWS::S3::Bucket", "AWS::RDS::DBInstance", *IAM]
    assert ansible.module(MODULE, {"name": NAME, "resource_types": types})["changed"] is True
    assert _group(aws) == ("INCLUSION_BY_RESOURCE_TYPES", False, False, sorted(types), [])
    assert ansible.module(MODULE, {"name": NAME, "resource_types": types[::-1]})[
        "changed"] is False
    switched = ansible.module(MODULE, {"name": NAME, "exclusion_resource_types": [ENI]})
    assert switched["changed"] is True
    assert _group(aws) == ("EXCLUSION_BY_RESOURCE_TYPES", False, False, [], [ENI])


def test_a_strategy_that_cannot_be_refuses_before_any_call(ansible, aws, fresh_emulator):
    cases = [
        ({"exclusion_resource_types": [ENI], "resource_types": ["AWS::S3::Bucket"]}, "not both"),
        ({"exclusion_resource_types": [ENI], "all_supported": True}, "all_supported=false"),
        ({"exclusion_resource_types": [ENI], "include_global_resource_types": True},
         "include_global_resource_types needs all_supported=true"),
        ({"all_supported": False}, "needs resource_types or exclusion_resource_types"),
    ]
    for extra, message in cases:
        refused = ansible.module(MODULE, {"name": NAME, **extra})
        assert refused.get("failed") is True, extra
        assert message in refused["msg"], refused["msg"]
    assert _recorders(aws) == {}


# --- a new account: AWS Config's service-linked role is created and used at once ----------------

IAM_SECONDS = 3.0


@pytest.fixture(scope="module")
def strict_config_url(tmp_path_factory):
    calls = tmp_path_factory.mktemp("config-strict") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"slr=2,iam={IAM_SECONDS:g}") as url:
        yield url


@pytest.fixture
def strict_config(strict_config_url):
    """(runner, client factory) on an emulator whose IAM propagates in IAM_SECONDS (strict),
    every resource forgotten first."""
    url = strict_config_url
    reset = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(reset, timeout=10) as response:
        assert response.status == 200

    def client(service):
        return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="emulator", aws_secret_access_key="emulator")

    return AnsibleRunner(SimpleNamespace(url=url)), client


def test_waits_until_config_can_assume_its_new_service_linked_role(strict_config):
    runner, client = strict_config
    # What the module did before (audit #11): create the role, then put the recorder at once.
    arn = client("iam").create_service_linked_role(AWSServiceName="config.amazonaws.com")[
        "Role"]["Arn"]
    with pytest.raises(ClientError) as refused:
        client("config").put_configuration_recorder(ConfigurationRecorder={
            "name": "old-way", "roleARN": arn, "recordingGroup": {"allSupported": True}})
    assert refused.value.response["Error"]["Code"] == "InvalidRoleException"
    client("iam").delete_service_linked_role(RoleName=arn.rsplit("/", 1)[1])

    started = time.monotonic()
    first = runner.module(MODULE, {"name": NAME})
    assert first["changed"] is True, first
    assert SLR_PATH in first["role_arn"]
    assert time.monotonic() - started >= IAM_SECONDS - 0.5, "no refusal was waited out"
    assert runner.module(MODULE, {"name": NAME})["changed"] is False


def test_a_role_config_never_accepts_fails_after_role_wait_timeout(strict_config):
    runner, _ = strict_config
    missing = "arn:aws:iam::123456789012:role/no-such-role"
    started = time.monotonic()
    result = runner.module(MODULE, {"name": "never", "role_arn": missing, "role_wait_timeout": 3})
    assert result.get("failed") is True, result
    assert "InvalidRoleException" in result["msg"] or "cannot be assumed" in result["msg"]
    assert time.monotonic() - started < 30
