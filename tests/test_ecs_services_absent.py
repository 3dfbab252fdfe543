"""booking.aws.ecs_services_absent: the teardown of the app layer, against the emulator."""

from __future__ import annotations

import pytest
from moto_ecs import RUNTIME

CLUSTER = "absent-test"
SERVICES = ["absent-test-web", "absent-test-worker"]
FAMILIES = ["absent-test-web", "absent-test-worker", "absent-test-migrate"]
ARGS = {"cluster": CLUSTER, "services": SERVICES, "task_definition_families": FAMILIES,
        "poll_interval": 1, "wait_timeout": 60}


@pytest.fixture
def app(fresh_emulator, aws):
    """Two services with scaling, two revisions per family (one already INACTIVE), and a family
    whose name starts like ours but is not ours."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    ecs = aws("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    container = {"name": "app", "image": "registry/app:1", "memory": 512}
    for family in [*FAMILIES, "absent-test-web-other"]:
        first = ecs.register_task_definition(family=family, containerDefinitions=[container])
        ecs.register_task_definition(family=family, containerDefinitions=[container])
        if family != "absent-test-web-other":
            ecs.deregister_task_definition(
                taskDefinition=first["taskDefinition"]["taskDefinitionArn"])
    scaling = aws("application-autoscaling")
    for name in SERVICES:
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=f"{name}:2",
                           desiredCount=2, launchType="FARGATE", networkConfiguration={
                               "awsvpcConfiguration": {"subnets": [subnet],
                                                        "securityGroups": [group]}})
        scaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/{name}",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=4)
        scaling.put_scaling_policy(
            PolicyName=f"{name}-cpu", ServiceNamespace="ecs",
            ResourceId=f"service/{CLUSTER}/{name}", ScalableDimension="ecs:service:DesiredCount",
            PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 60.0, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    RUNTIME.rollout_seconds = 0.2
    yield aws
    RUNTIME.reset()


def _state(aws):
    ecs = aws("ecs")
    services = ecs.describe_services(cluster=CLUSTER, services=SERVICES)["services"]
    revisions = {status: sorted(a.rsplit("/", 1)[-1] for a in ecs.list_task_definitions(
        status=status)["taskDefinitionArns"]) for status in ("ACTIVE", "INACTIVE")}
    scaling = aws("application-autoscaling")
    return {
        "services": {s["serviceName"]: s["status"] for s in services},
        "revisions": revisions,
        "targets": len(scaling.describe_scalable_targets(ServiceNamespace="ecs")[
            "ScalableTargets"]),
        "policies": len(scaling.describe_scaling_policies(ServiceNamespace="ecs")[
            "ScalingPolicies"]),
    }


def test_check_mode_reports_everything_and_removes_nothing(ansible, app):
    before = _state(app)
    checked = ansible.module("booking.aws.ecs_services_absent", ARGS, check=True)
    assert checked["changed"] is True, checked
    assert sorted(checked["deleted_services"]) == SERVICES
    assert len(checked["deregistered_scalable_targets"]) == 2
    assert len(checked["deregistered_task_definitions"]) == 3
    # The three ACTIVE revisions (once deregistered) and the three INACTIVE ones.
    assert len(checked["deleted_task_definitions"]) == 6
    assert _state(app) == before


def test_removes_services_scaling_and_revisions_once(ansible, app):
    removed = ansible.module("booking.aws.ecs_services_absent", ARGS)
    assert removed["changed"] is True, removed
    state = _state(app)
    assert state["services"] == {name: "INACTIVE" for name in SERVICES}
    assert state["targets"] == 0
    assert state["policies"] == 0
    # Only the family that merely starts with our name survives, untouched.
    assert state["revisions"] == {"ACTIVE": ["absent-test-web-other:1",
                                             "absent-test-web-other:2"], "INACTIVE": []}

    again = ansible.module("booking.aws.ecs_services_absent", ARGS)
    assert again["changed"] is False, again
    assert ansible.module("booking.aws.ecs_services_absent", ARGS, check=True)["changed"] is False


def test_missing_cluster_is_nothing_to_remove(ansible, fresh_emulator):
    result = ansible.module("booking.aws.ecs_services_absent", ARGS)
    assert result["changed"] is False, result
    assert result["deleted_services"] == []
