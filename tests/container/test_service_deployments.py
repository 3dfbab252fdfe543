"""ECS blue/green deployments on the real data plane (tools/ecs_deployments.py with
tools/ecs_services.py and tools/elb_proxy.py): real tasks, real target health, real traffic moved
by the listener rules' weights.

An ALB with a production listener (port 80) and a test listener (8080), a rule on each forwarding
to two target groups (blue 100 / green 0), a BLUE_GREEN service of one task running the version
server of test_services.py, with a PAUSE hook after the test traffic shift. The test checks what
ECS promises: while paused, the test listener answers green and production blue only; CONTINUE
moves production to green without one failed request; StopServiceDeployment ROLLBACK during the
bake time puts production back on blue within seconds, without starting a task.

Cost: about 40 s (35 s measured on a 2-core machine; two tasks at a time at most, each about 60
MB of memory, little CPU), plus conftest.py's image build (all cache hits after `make image`); a
deployment minute lasts 2 s here (BOOKING_EMULATOR_ECS_MINUTE_SECONDS).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from container_support import METRICS, REPO

sys.path.insert(0, str(REPO / "tools"))
import elb_proxy
from ecs_deployments import MINUTE_ENV
from emulator import Emulator
from test_services import HEALTHY, PORT, SERVER  # the small version server

pytestmark = pytest.mark.usefixtures("podman_ready")

CLUSTER = "deployments"
SERVICE = "bgtest-web"
FAMILY = "bgtest-web"
MINUTE = 2.0  # seconds in a deployment minute here


@pytest.fixture(scope="module")
def minute() -> Any:
    saved = os.environ.get(MINUTE_ENV)
    os.environ[MINUTE_ENV] = str(MINUTE)
    yield MINUTE
    if saved is None:
        os.environ.pop(MINUTE_ENV, None)
    else:
        os.environ[MINUTE_ENV] = saved


@pytest.fixture(scope="module")
def world(emulator: Emulator, registry_image: str, minute: float) -> dict[str, Any]:
    ec2, elb, ecs = (emulator.client(name) for name in ("ec2", "elbv2", "ecs"))
    vpc = ec2.create_vpc(CidrBlock="10.32.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.32.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    balancer = elb.create_load_balancer(Name="bgtest-alb", Subnets=subnets)["LoadBalancers"][0]
    groups = {}
    for color in ("blue", "green"):
        groups[color] = elb.create_target_group(
            Name=f"bgtest-{color}", Protocol="HTTP", Port=PORT, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(TargetGroupArn=groups[color], Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
    rules = {}
    for name, port in (("production", 80), ("test", 8080)):
        listener = elb.create_listener(
            LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no rule"}}],
        )["Listeners"][0]["ListenerArn"]
        rules[name] = elb.create_rule(
            ListenerArn=listener, Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": groups["blue"], "Weight": 100},
                {"TargetGroupArn": groups["green"], "Weight": 0}]}}])["Rules"][0]["RuleArn"]
    role = emulator.client("iam").create_role(
        RoleName="bgtest-ecs-infrastructure", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    ecs.create_cluster(clusterName=CLUSTER)
    revisions = {}
    for version in ("v1", "v2"):
        revisions[version] = ecs.register_task_definition(
            family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="256", memory="512", containerDefinitions=[{
                "name": "web", "image": registry_image, "essential": True,
                "command": ["python", "-c", SERVER],
                "environment": [{"name": "VERSION", "value": version}],
                "portMappings": [{"containerPort": PORT}],
                # startPeriod: beside make test's other streams the server can take many
                # seconds to answer its first check on two busy cores.
                "healthCheck": {"command": HEALTHY, "interval": 5, "timeout": 5, "retries": 2,
                                "startPeriod": 30},
                "stopTimeout": 2}])["taskDefinition"]["taskDefinitionArn"]
    address = elb_proxy.address_of(balancer["LoadBalancerArn"])
    assert address, "the load balancer has no proxy (BOOKING_EMULATOR_ELB=proxy)"
    return {"emulator": emulator, "ecs": ecs, "elb": elb, "groups": groups, "rules": rules,
            "role": role,
            "revisions": revisions, "address": address,
            "network": {"awsvpcConfiguration": {"subnets": subnets}}}


def _get(world: dict[str, Any], port: int) -> str:
    with urllib.request.urlopen(f"http://{world['address']}:{port}/", timeout=5) as response:
        return response.read().decode()


def _answers(world: dict[str, Any], port: int, count: int = 12) -> set[str]:
    return {_get(world, port) for _ in range(count)}


def _wait(done: Callable[[], Any], what: str, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = done()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _sd(world: dict[str, Any], arn: str) -> dict[str, Any]:
    return world["ecs"].describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"][0]


def _task_arns(world: dict[str, Any]) -> set[str]:
    ecs = world["ecs"]
    return {arn for status in ("RUNNING", "STOPPED") for arn in ecs.list_tasks(
        cluster=CLUSTER, serviceName=SERVICE, desiredStatus=status)["taskArns"]}


class _Traffic:
    """Requests to production in a loop, in a thread, each answer or failure recorded."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.world, self.answers, self.failures = world, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.answers.append(_get(self.world, 80))
            except (urllib.error.URLError, OSError) as error:
                self.failures.append(repr(error))
            time.sleep(0.02)

    def __enter__(self) -> _Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def blue(world: dict[str, Any]) -> dict[str, Any]:
    """The service, its first deployment rolled out: v1 serves production."""
    started = time.monotonic()
    world["ecs"].create_service(
        cluster=CLUSTER, serviceName=SERVICE, desiredCount=1, launchType="FARGATE",
        taskDefinition=world["revisions"]["v1"], networkConfiguration=world["network"],
        loadBalancers=[{"targetGroupArn": world["groups"]["blue"], "containerName": "web",
                        "containerPort": PORT, "advancedConfiguration": {
                            "alternateTargetGroupArn": world["groups"]["green"],
                            "productionListenerRule": world["rules"]["production"],
                            "testListenerRule": world["rules"]["test"],
                            "roleArn": world["role"]}}],
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    [first] = world["ecs"].list_service_deployments(cluster=CLUSTER, service=SERVICE)[
        "serviceDeployments"]
    _wait(lambda: _sd(world, first["serviceDeploymentArn"])["status"] == "SUCCESSFUL",
          "the first deployment")
    METRICS["blue/green: first deployment (s)"] = round(time.monotonic() - started, 1)
    assert _answers(world, 80) == {"v1"}
    return world


def test_a_blue_green_deployment_tests_green_then_moves_production_without_a_failure(blue):
    world = blue
    ecs = world["ecs"]
    started = time.monotonic()
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=world["revisions"]["v2"],
                       deploymentConfiguration={
                           "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 60,
                           "lifecycleHooks": [{"targetType": "PAUSE",
                                               "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]})
    arn = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"][
        0]["serviceDeploymentArn"]
    world["deployment"] = arn

    def paused() -> dict[str, Any] | None:
        sd = _sd(world, arn)
        assert sd["status"] == "IN_PROGRESS", sd
        return sd if sd.get("lifecycleStage") == "POST_TEST_TRAFFIC_SHIFT" else None

    sd = _wait(paused, "the pause after the test traffic shift")
    METRICS["blue/green: green up and tested (s)"] = round(time.monotonic() - started, 1)
    # Paused: the test listener answers green, production blue only; both revisions run.
    assert _answers(world, 8080) == {"v2"}
    assert _answers(world, 80) == {"v1"}
    assert len(ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE,
                              desiredStatus="RUNNING")["taskArns"]) == 2

    with _Traffic(world) as traffic:
        time.sleep(1)
        [hook] = sd["lifecycleHookDetails"]
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"],
                                        action="CONTINUE")
        _wait(lambda: traffic.answers[-5:] == ["v2"] * 5, "production on green", timeout=30)
        time.sleep(1)
    assert traffic.failures == [], traffic.failures[:5]
    assert set(traffic.answers) == {"v1", "v2"}
    first_green = traffic.answers.index("v2")
    assert "v1" not in traffic.answers[first_green:]  # all at once, no going back
    METRICS["blue/green: production requests during the shift"] = len(traffic.answers)
    _wait(lambda: _sd(world, arn).get("lifecycleStage") == "BAKE_TIME", "the bake time",
          timeout=30)


def test_stop_rollback_during_bake_time_puts_production_back_on_the_running_blue(blue):
    world = blue
    ecs, arn = world["ecs"], world.get("deployment")
    assert arn, "runs after the deployment test"
    assert _sd(world, arn)["lifecycleStage"] == "BAKE_TIME"
    assert _answers(world, 80) == {"v2"}
    before = _task_arns(world)
    stopped = time.monotonic()
    ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    _wait(lambda: _answers(world, 80, 6) == {"v1"}, "production back on blue", timeout=5)
    METRICS["blue/green: rollback to blue answering (s)"] = round(time.monotonic() - stopped, 2)
    done = _wait(lambda: (lambda sd: sd if sd["status"] == "ROLLBACK_SUCCESSFUL" else None)(
        _sd(world, arn)), "the rollback's end", timeout=60)
    assert done["rollback"]["serviceRevisionArn"] == done["sourceServiceRevisions"][0]["arn"]
    assert _task_arns(world) <= before, "the rollback started a task"
    running = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE,
                             desiredStatus="RUNNING")["taskArns"]
    [task] = ecs.describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
    assert task["taskDefinitionArn"] == world["revisions"]["v1"]
    service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert [d["taskDefinition"] for d in service["deployments"]] == [world["revisions"]["v1"]]
    assert _answers(world, 80) == {"v1"}
