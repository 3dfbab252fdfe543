"""booking.aws.ec2_vpc_flow_log against the emulator: create, idempotence, check mode, replace."""

from __future__ import annotations

import time
from types import SimpleNamespace

import boto3
import pytest
from harness import AnsibleRunner, emulator_process

MODULE = "booking.aws.ec2_vpc_flow_log"
GROUP = "/aws/vpc/test-flow-logs"


@pytest.fixture
def vpc_and_role(fresh_emulator, aws):
    vpc_id = aws("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    aws("logs").create_log_group(logGroupName=GROUP)
    role_arn = aws("iam").create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    other_arn = aws("iam").create_role(
        RoleName="flow-logs-2", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return vpc_id, role_arn, other_arn


def _flow_logs(aws, vpc_id):
    logs = aws("ec2").describe_flow_logs()["FlowLogs"]
    return [f for f in logs if f["ResourceId"] == vpc_id]


def _args(vpc_id, role_arn, **overrides):
    return {"resource_id": vpc_id, "log_group_name": GROUP,
            "deliver_logs_permission_arn": role_arn, "tags": {"Project": "t"}, **overrides}


def test_check_mode_on_nothing_reports_a_change_and_creates_nothing(ansible, aws, vpc_and_role):
    vpc_id, role_arn, _ = vpc_and_role
    result = ansible.module(MODULE, _args(vpc_id, role_arn), check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["TrafficType"] == "ALL"
    assert _flow_logs(aws, vpc_id) == []


def test_creates_once_then_reports_no_change(ansible, aws, vpc_and_role):
    vpc_id, role_arn, _ = vpc_and_role
    first = ansible.module(MODULE, _args(vpc_id, role_arn))
    assert first["changed"] is True, first
    [flow_log] = _flow_logs(aws, vpc_id)
    assert flow_log["LogGroupName"] == GROUP
    assert flow_log["DeliverLogsPermissionArn"] == role_arn
    assert flow_log["TrafficType"] == "ALL"
    assert {"Key": "Project", "Value": "t"} in flow_log["Tags"]

    second = ansible.module(MODULE, _args(vpc_id, role_arn))
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, _args(vpc_id, role_arn), check=True, diff=True)
    assert checked["changed"] is False
    assert len(_flow_logs(aws, vpc_id)) == 1


def test_a_changed_setting_replaces_the_flow_log(ansible, aws, vpc_and_role):
    vpc_id, role_arn, other_arn = vpc_and_role
    ansible.module(MODULE, _args(vpc_id, role_arn))
    [old] = _flow_logs(aws, vpc_id)

    checked = ansible.module(MODULE, _args(vpc_id, other_arn, traffic_type="REJECT"),
                             check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["TrafficType"] == "ALL"
    assert checked["diff"]["after"]["TrafficType"] == "REJECT"
    assert _flow_logs(aws, vpc_id)[0]["FlowLogId"] == old["FlowLogId"], "check mode changed AWS"

    replaced = ansible.module(MODULE, _args(vpc_id, other_arn, traffic_type="REJECT"))
    assert replaced["changed"] is True
    [new] = _flow_logs(aws, vpc_id)
    assert new["FlowLogId"] != old["FlowLogId"]
    assert (new["TrafficType"], new["DeliverLogsPermissionArn"]) == ("REJECT", other_arn)


def test_traffic_type_alone_replaces_the_flow_log_once(ansible, aws, vpc_and_role):
    # Staging moves from ALL to REJECT with the same role and group: one delete + create, then
    # nothing; a check-mode run afterwards agrees.
    vpc_id, role_arn, _ = vpc_and_role
    ansible.module(MODULE, _args(vpc_id, role_arn))
    [old] = _flow_logs(aws, vpc_id)
    replaced = ansible.module(MODULE, _args(vpc_id, role_arn, traffic_type="REJECT"), diff=True)
    assert replaced["changed"] is True, replaced
    assert (replaced["diff"]["before"]["TrafficType"],
            replaced["diff"]["after"]["TrafficType"]) == ("ALL", "REJECT")
    [new] = _flow_logs(aws, vpc_id)
    assert new["FlowLogId"] != old["FlowLogId"]
    assert (new["TrafficType"], new["DeliverLogsPermissionArn"], new["LogGroupName"]) == (
        "REJECT", role_arn, GROUP)
    assert replaced["flow_log"]["traffic_type"] == "REJECT"
    again = ansible.module(MODULE, _args(vpc_id, role_arn, traffic_type="REJECT"))
    assert again["changed"] is False, again
    checked = ansible.module(MODULE, _args(vpc_id, role_arn, traffic_type="REJECT"), check=True)
    assert checked["changed"] is False
    assert [f["FlowLogId"] for f in _flow_logs(aws, vpc_id)] == [new["FlowLogId"]]


def test_tags_are_updated_in_place(ansible, aws, vpc_and_role):
    vpc_id, role_arn, _ = vpc_and_role
    ansible.module(MODULE, _args(vpc_id, role_arn))
    [before] = _flow_logs(aws, vpc_id)
    result = ansible.module(MODULE, _args(vpc_id, role_arn, tags={"Project": "u", "Team": "x"}))
    assert result["changed"] is True
    [after] = _flow_logs(aws, vpc_id)
    assert after["FlowLogId"] == before["FlowLogId"]
    tags = sorted((t["Key"], t["Value"]) for t in after["Tags"])
    assert tags == [("Project", "u"), ("Team", "x")]


def test_absent_deletes_and_then_reports_no_change(ansible, aws, vpc_and_role):
    vpc_id, role_arn, _ = vpc_and_role
    ansible.module(MODULE, _args(vpc_id, role_arn))
    args = {"resource_id": vpc_id, "log_group_name": GROUP, "state": "absent"}
    assert ansible.module(MODULE, args, check=True)["changed"] is True
    assert len(_flow_logs(aws, vpc_id)) == 1
    assert ansible.module(MODULE, args)["changed"] is True
    assert _flow_logs(aws, vpc_id) == []
    assert ansible.module(MODULE, args)["changed"] is False


def test_present_without_a_role_fails_clearly(ansible, vpc_and_role):
    vpc_id, _, _ = vpc_and_role
    result = ansible.module(MODULE, {"resource_id": vpc_id, "log_group_name": GROUP})
    assert result.get("failed") is True
    assert "deliver_logs_permission_arn" in result["msg"]


# --- a new flow log read back at once (issue 15, item 5) ----------------------------------------

LAG = 3.0  # seconds a new flow log stays out of DescribeFlowLogs on the strict emulator


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    """(runner, client factory) on an emulator whose DescribeFlowLogs lags LAG s behind creates."""
    calls = tmp_path_factory.mktemp("flow-log-lag") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"consistency={LAG:g}") as url:
        def client(service):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="emulator", aws_secret_access_key="emulator")
        yield AnsibleRunner(SimpleNamespace(url=url)), client


def test_waits_until_describe_shows_the_new_flow_log(lagging):
    runner, client = lagging
    ec2 = client("ec2")
    client("logs").create_log_group(logGroupName=GROUP)
    role_arn = client("iam").create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    # What the module did before: create, then take [0] of the describe right away.
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.create_flow_logs(ResourceIds=[other], ResourceType="VPC", TrafficType="ALL",
                         LogDestinationType="cloud-watch-logs", LogGroupName=GROUP,
                         DeliverLogsPermissionArn=role_arn)
    with pytest.raises(IndexError):
        ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [other]}])[
            "FlowLogs"][0]

    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    started = time.monotonic()
    created = runner.module(MODULE, _args(vpc_id, role_arn))
    assert created["changed"] is True, created
    assert created["flow_log"]["resource_id"] == vpc_id
    assert created["flow_log"]["flow_log_id"].startswith("fl-")
    assert time.monotonic() - started >= LAG - 0.5, "the read did not have to wait"
    assert runner.module(MODULE, _args(vpc_id, role_arn))["changed"] is False
