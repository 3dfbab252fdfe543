"""Emulator.snapshot / restore: a state built once (a deploy) and restored before each test that
starts from it (tests/test_release_failures.py). A restore must give back exactly that state,
any number of times, whatever happened in between."""

from __future__ import annotations

import pytest
from moto_ecs import RUNTIME


@pytest.fixture
def built(fresh_emulator, aws):
    """Resources in several backends that refer to each other (ELBv2 -> EC2's VPC)."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")
    aws("elbv2").create_target_group(Name="snap-web", Protocol="HTTP", Port=8000, VpcId=vpc,
                                     TargetType="ip")
    aws("ssm").put_parameter(Name="/snap/setting", Value="one", Type="String")
    aws("ecs").create_cluster(clusterName="snap")
    RUNTIME.rollout_seconds = 0.25
    RUNTIME.script_exit_code("snap-migrate", 3)
    yield vpc
    RUNTIME.reset()


def _state(aws, vpc):
    return {
        "subnets": sorted(s["CidrBlock"] for s in aws("ec2").describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]),
        "target_groups": [(t["TargetGroupName"], t["VpcId"])
                          for t in aws("elbv2").describe_target_groups()["TargetGroups"]],
        "parameter": aws("ssm").get_parameter(Name="/snap/setting")["Parameter"]["Value"],
        "clusters": aws("ecs").list_clusters()["clusterArns"],
        "queues": aws("sqs").list_queues().get("QueueUrls", []),
    }


def test_restore_gives_back_the_state_each_time_whatever_changed(emulator, aws, built):
    vpc = built
    before = _state(aws, vpc)
    snapshot = emulator.snapshot()

    for value in ("two", "three"):
        aws("ssm").put_parameter(Name="/snap/setting", Value=value, Type="String",
                                 Overwrite=True)
        aws("ec2").create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24",
                                 AvailabilityZone="us-east-1b")
        aws("ecs").delete_cluster(cluster="snap")
        aws("sqs").create_queue(QueueName="first-used-after-the-snapshot")
        # A region SSM had not served before the snapshot (same account's backends).
        aws("ssm", region="eu-west-2").put_parameter(Name="/snap/elsewhere", Value="x",
                                                     Type="String")
        RUNTIME.rollout_seconds = 9
        assert _state(aws, vpc) != before

        emulator.restore(snapshot)
        assert emulator.calls == []
        assert _state(aws, vpc) == before
        assert aws("ssm", region="eu-west-2").describe_parameters()["Parameters"] == []
        assert RUNTIME.rollout_seconds == 0.25
        assert RUNTIME.exit_code("snap-migrate") == 3  # consumed here, given back next time

    # The restored state is live: it changes and answers as moto's own.
    aws("ssm").put_parameter(Name="/snap/setting", Value="four", Type="String", Overwrite=True)
    assert aws("ssm").get_parameter(Name="/snap/setting")["Parameter"]["Version"] == 2
    target_group = aws("elbv2").describe_target_groups()["TargetGroups"][0]
    aws("elbv2").register_targets(TargetGroupArn=target_group["TargetGroupArn"],
                                  Targets=[{"Id": "10.9.1.10", "Port": 8000}])


def test_a_reset_after_a_restore_forgets_everything(emulator, aws, built):
    snapshot = emulator.snapshot()
    emulator.restore(snapshot)
    emulator.reset()
    assert aws("ecs").list_clusters()["clusterArns"] == []
    assert aws("elbv2").describe_target_groups()["TargetGroups"] == []
