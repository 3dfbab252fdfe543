"""ECS's native blue/green, canary and linear deployments on the scripted data plane
(tools/ecs_deployments.py): service deployments and revisions, the lifecycle stages, PAUSE hooks,
traffic shifted in the listener rules, rollbacks, deployment alarms, the validation ECS does.

plain moto has none of it: no ListServiceDeployments / DescribeServiceDeployments /
DescribeServiceRevisions / StopServiceDeployment / ContinueServiceDeployment (NotImplemented), no
stages, no weights moved, no validation. Minutes last BOOKING_EMULATOR_ECS_MINUTE_SECONDS (0.4 s
here), green is healthy RUNTIME.rollout_seconds after SCALE_UP began. About 50 s in all.

tests/test_ecs_service_deployment.py (the Ansible module's tests) imports the ``stack`` fixture and
the helpers: keep their names and meaning.
"""

from __future__ import annotations

import datetime
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ecs_deployments import MINUTE_ENV
from moto_ecs import RUNTIME

CLUSTER = "bg"
SERVICE = "bg-web"
FAMILY = "bg-web"
ROLE = "bg-ecs-infrastructure"  # ECS's infrastructure role for load balancers
MINUTE = 0.4  # seconds in a deployment minute here
ROLLOUT = 0.3  # seconds until green is healthy


# What every test shares, built once per emulator state (the VPC is the slow part) and built
# again when another test file reset the emulator.
_SHARED: dict[str, Any] = {}
_COUNT = itertools.count(1)


def _shared(emulator) -> dict[str, Any]:
    """A VPC, an ALB with a production and a test listener, a cluster, three task definition
    revisions."""
    aws = emulator.client
    if _SHARED.get("emulator") is emulator:
        try:
            clusters = aws("ecs").describe_clusters(clusters=[CLUSTER])["clusters"]
            aws("ec2").describe_vpcs(VpcIds=[_SHARED["vpc"]])
            if clusters and clusters[0]["status"] == "ACTIVE":
                return _SHARED
        except ClientError:
            pass
    emulator.reset()
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.41.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    elb = aws("elbv2")
    alb = elb.create_load_balancer(Name="bg-alb", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"]
    listeners = {name: elb.create_listener(
        LoadBalancerArn=alb, Protocol="HTTP", Port=port, DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"] for name, port in (("production", 80), ("test", 8080))}
    role = aws("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    ecs = aws("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    revisions = [ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{
            "name": "web", "image": f"registry/web:{n}", "essential": True,
            "portMappings": [{"containerPort": 8000}]}])["taskDefinition"]["taskDefinitionArn"]
        for n in (1, 2, 3)]
    _SHARED.clear()
    _SHARED.update(emulator=emulator, aws=aws, vpc=vpc, listeners=listeners, role=role,
                   revisions=revisions, network={"awsvpcConfiguration": {"subnets": subnets}})
    return _SHARED


@pytest.fixture
def stack(emulator, monkeypatch) -> Any:
    """The shared set-up, and the test's own target groups (blue, green) and listener rules:
    the production one forwards to blue 100 / green 0, the test one likewise. The service is
    SERVICE, deleted afterwards (with its service deployments)."""
    monkeypatch.setenv(MINUTE_ENV, str(MINUTE))
    shared = _shared(emulator)
    n = next(_COUNT)
    RUNTIME.rollout_seconds = ROLLOUT
    elb = shared["aws"]("elbv2")
    blue, green = (elb.create_target_group(
        Name=f"bg{n}-{color}", Protocol="HTTP", Port=8000, VpcId=shared["vpc"],
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for color in ("blue", "green"))
    rules = {name: elb.create_rule(
        ListenerArn=listener, Priority=n, Conditions=[{"Field": "path-pattern",
                                                       "Values": [f"/{n}/*"]}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100},
            {"TargetGroupArn": green, "Weight": 0}]}}])["Rules"][0]["RuleArn"]
        for name, listener in shared["listeners"].items()}
    rules["production_listener"] = shared["listeners"]["production"]
    yield {**shared, "service": SERVICE, "blue": blue, "green": green, "rules": rules,
           "alarm": f"bg{n}"}
    ecs = shared["aws"]("ecs")
    for arn in ecs.list_services(cluster=CLUSTER)["serviceArns"]:
        ecs.delete_service(cluster=CLUSTER, service=arn, force=True)
    RUNTIME.reset()


def _balancer(stack: dict[str, Any], test: bool = True, **advanced: Any) -> dict[str, Any]:
    config = {"alternateTargetGroupArn": stack["green"],
              "productionListenerRule": stack["rules"]["production"],
              "roleArn": stack["role"]}
    if test:
        config["testListenerRule"] = stack["rules"]["test"]
    config.update(advanced)
    return {"targetGroupArn": stack["blue"], "containerName": "web", "containerPort": 8000,
            "advancedConfiguration": config}


def _create(stack: dict[str, Any], name: str | None = None, wait: bool = True,
            balancers: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    """A service (first deployment without hooks, bake 0), rolled out."""
    name = name or stack["service"]
    configuration = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, **config}
    service = stack["aws"]("ecs").create_service(
        cluster=CLUSTER, serviceName=name, desiredCount=2, launchType="FARGATE",
        taskDefinition=stack["revisions"][0], networkConfiguration=stack["network"],
        loadBalancers=[_balancer(stack)] if balancers is None else balancers,
        deploymentConfiguration=configuration)["service"]
    if wait:
        _wait(stack, lambda: _service(stack, name)["deployments"][0]["rolloutState"]
              == "COMPLETED", "first deployment")
    return service


def _update(stack: dict[str, Any], revision: int, name: str | None = None,
            **config: Any) -> str:
    """UpdateService to task definition `revision` (1-3) with this deployment configuration;
    the new service deployment's ARN."""
    ecs = stack["aws"]("ecs")
    name = name or stack["service"]
    ecs.update_service(cluster=CLUSTER, service=name,
                       taskDefinition=stack["revisions"][revision - 1],
                       deploymentConfiguration={"strategy": "BLUE_GREEN",
                                                "bakeTimeInMinutes": 0, **config})
    return ecs.list_service_deployments(cluster=CLUSTER, service=name)["serviceDeployments"][
        0]["serviceDeploymentArn"]


def _service(stack: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return stack["aws"]("ecs").describe_services(cluster=CLUSTER, services=[
        name or stack["service"]])[
        "services"][0]


def _sd(stack: dict[str, Any], arn: str) -> dict[str, Any]:
    return stack["aws"]("ecs").describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"][0]


def _weights(stack: dict[str, Any], rule: str = "production") -> dict[str, int]:
    [described] = stack["aws"]("elbv2").describe_rules(RuleArns=[stack["rules"][rule]])["Rules"]
    groups = described["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {("blue" if g["TargetGroupArn"] == stack["blue"] else "green"): g["Weight"]
            for g in groups}


def _wait(stack: dict[str, Any], done: Callable[[], Any], what: str,
          timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = done()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _paused(stack: dict[str, Any], arn: str, stage: str) -> dict[str, Any]:
    """Wait until the deployment awaits a PAUSE hook at `stage`; its description."""
    def waiting() -> dict[str, Any] | None:
        sd = _sd(stack, arn)
        assert sd["status"] == "IN_PROGRESS", sd
        awaiting = [h for h in sd.get("lifecycleHookDetails", [])
                    if h["status"] == "AWAITING_ACTION"]
        return sd if sd.get("lifecycleStage") == stage and awaiting else None

    return _wait(stack, waiting, f"a pause at {stage}")


def _continue(stack: dict[str, Any], sd: dict[str, Any], action: str = "CONTINUE") -> None:
    [hook] = sd["lifecycleHookDetails"]
    stack["aws"]("ecs").continue_service_deployment(
        serviceDeploymentArn=sd["serviceDeploymentArn"], hookId=hook["hookId"], action=action)


def _ended(stack: dict[str, Any], arn: str, timeout: float = 15) -> dict[str, Any]:
    return _wait(stack, lambda: (lambda sd: sd if sd["status"] in (
        "SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED") else None)(
        _sd(stack, arn)), f"the end of {arn}", timeout)


def _pause(*stages: str, **timeout: Any) -> list[dict[str, Any]]:
    hook: dict[str, Any] = {"targetType": "PAUSE", "lifecycleStages": list(stages)}
    if timeout:
        hook["timeoutConfiguration"] = timeout
    return [hook]


def _error(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


# --- CreateService / UpdateService keep the settings and validate them --------------------------

def test_create_and_update_keep_every_strategy_setting(stack):
    name = stack["service"]
    alarms = {"alarmNames": [stack["alarm"] + "-5xx"], "enable": True, "rollback": True}
    hooks = _pause("POST_TEST_TRAFFIC_SHIFT", timeoutInMinutes=30, action="CONTINUE")
    _create(stack, wait=False, alarms=alarms, lifecycleHooks=hooks, bakeTimeInMinutes=5)
    described = _service(stack)
    config = described["deploymentConfiguration"]
    assert config["strategy"] == "BLUE_GREEN"
    assert config["bakeTimeInMinutes"] == 5
    assert config["alarms"] == alarms
    assert config["lifecycleHooks"] == hooks
    assert described["loadBalancers"][0]["advancedConfiguration"] == _balancer(stack)[
        "advancedConfiguration"]

    stack["aws"]("ecs").update_service(cluster=CLUSTER, service=name, deploymentConfiguration={
        "strategy": "CANARY", "bakeTimeInMinutes": 2,
        "canaryConfiguration": {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 3}})
    config = _service(stack)["deploymentConfiguration"]
    assert config["strategy"] == "CANARY"
    assert config["canaryConfiguration"] == {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 3}
    stack["aws"]("ecs").update_service(cluster=CLUSTER, service=name, deploymentConfiguration={
        "strategy": "LINEAR", "bakeTimeInMinutes": 2,
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1}})
    assert _service(stack)["deploymentConfiguration"]["linearConfiguration"] == {
        "stepPercent": 25.0, "stepBakeTimeInMinutes": 1}


@pytest.mark.parametrize(("config", "balancer", "code", "message"), [
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, "plain", "ClientException",
     "advancedConfiguration field is required for all loadBalancers when using the Blue/green "
     "deployment strategy"),
    ({"strategy": "LINEAR"}, "plain", "ClientException",
     "advancedConfiguration field is required for all loadBalancers when using the linear "
     "deployment strategy"),
    ({"strategy": "CANARY"}, "plain", "ClientException",
     "advancedConfiguration field is required for all loadBalancers when using the canary "
     "deployment strategy"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, "listener", "InvalidParameterException",
     "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB or ListenerArn "
     "for NLB. Got: "),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, "same-rule", "InvalidParameterException",
     "The following rules cannot be used as both production and test listener rules: "),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, "duplicate", "ClientException",
     "Duplicate targetGroupArn found: "),
    ({"strategy": "BLUE_GREEN"}, "advanced", "InvalidParameterException",
     "bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN."),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
      "lifecycleHooks": _pause("TEST_TRAFFIC_SHIFT")}, "advanced", "InvalidParameterException",
     "Invalid lifecycle stage provided for Pause Hook"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": [{
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:check",
        "roleArn": "arn:aws:iam::123456789012:role/hook", "lifecycleStages": ["PRE_SCALE_UP"]}]},
     "advanced", "InvalidParameterException", "The local emulator runs no Lambda functions"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
      "lifecycleHooks": _pause("PRE_SCALE_UP", timeoutInMinutes=20161)}, "advanced",
     "InvalidParameterException", "timeoutInMinutes must be between 1 and 20160"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
      "canaryConfiguration": {"canaryPercent": 10.0}}, "advanced", "InvalidParameterException",
     "canaryConfiguration is only valid when the deployment strategy is CANARY."),
    ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}}, "advanced",
     "InvalidParameterException", "stepPercent must be between 3 and 100"),
    ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.05}}, "advanced",
     "InvalidParameterException", "canaryPercent must be between 0.1 and 100 in multiples"),
    ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "advanced",
     "InvalidParameterException", "bakeTimeInMinutes must be between 0 and 1440"),
])
def test_create_service_refuses_what_ecs_refuses(stack, config, balancer, code, message):
    name = stack["service"]
    balancers = {
        "plain": [{"targetGroupArn": stack["blue"], "containerName": "web",
                   "containerPort": 8000}],
        "advanced": [_balancer(stack)],
        "listener": [_balancer(stack, productionListenerRule=stack["rules"][
            "production_listener"])],
        "same-rule": [_balancer(stack, testListenerRule=stack["rules"]["production"])],
        "duplicate": [_balancer(stack, alternateTargetGroupArn=stack["blue"])],
    }[balancer]
    got = _error(lambda: stack["aws"]("ecs").create_service(
        cluster=CLUSTER, serviceName=name + "-refused", desiredCount=1, launchType="FARGATE",
        taskDefinition=stack["revisions"][0], networkConfiguration=stack["network"],
        loadBalancers=balancers, deploymentConfiguration=config))
    assert got[0] == code
    assert got[1].startswith(message), got
    assert not [a for a in stack["aws"]("ecs").list_services(cluster=CLUSTER)["serviceArns"]
                if a.endswith("-refused")]


def test_update_service_refuses_a_strategy_its_load_balancers_cannot_carry(stack):
    name = stack["service"]
    ecs = stack["aws"]("ecs")
    ecs.create_service(cluster=CLUSTER, serviceName=name + "-rolling", desiredCount=1,
                       launchType="FARGATE", taskDefinition=stack["revisions"][0],
                       networkConfiguration=stack["network"], loadBalancers=[{
                           "targetGroupArn": stack["blue"], "containerName": "web",
                           "containerPort": 8000}])
    code, message = _error(lambda: ecs.update_service(
        cluster=CLUSTER, service=name + "-rolling", taskDefinition=stack["revisions"][1],
        deploymentConfiguration={"strategy": "LINEAR"}))
    assert (code, message) == ("ClientException", "advancedConfiguration field is required for "
                               "all loadBalancers when using the linear deployment strategy")
    service = _service(stack, name + "-rolling")
    assert service["taskDefinition"] == stack["revisions"][0]  # nothing changed
    assert service.get("deploymentConfiguration", {}).get("strategy", "ROLLING") == "ROLLING"


# --- the stages, the hooks and the weights -------------------------------------------------------

def test_a_blue_green_deployment_pauses_at_each_stage_and_shifts_traffic_in_order(stack):
    _create(stack)
    blue_deployment = _service(stack)["deployments"][0]["id"]
    stages = ("PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
              "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
    arn = _update(stack, 2, bakeTimeInMinutes=3, lifecycleHooks=_pause(*stages))
    assert arn.startswith(f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/"
                          f"{stack['service']}/")
    seen = {}
    for stage in stages:
        sd = _paused(stack, arn, stage)
        seen[stage] = (_weights(stack), _weights(stack, "test"),
                       sd["targetServiceRevision"].get("runningTaskCount"))
        service = _service(stack)
        primary, active = service["deployments"]
        assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
        assert (active["status"], active["id"]) == ("ACTIVE", blue_deployment)
        assert service["taskDefinition"] == stack["revisions"][1]
        _continue(stack, sd)
    blue_only, green_only = {"blue": 100, "green": 0}, {"blue": 0, "green": 100}
    assert seen == {
        "PRE_SCALE_UP": (blue_only, blue_only, 0),  # green not started yet
        "POST_SCALE_UP": (blue_only, blue_only, 2),  # green runs, no traffic
        "POST_TEST_TRAFFIC_SHIFT": (blue_only, green_only, 2),  # test traffic on green
        "PRE_PRODUCTION_TRAFFIC_SHIFT": (blue_only, green_only, 2),
        "POST_PRODUCTION_TRAFFIC_SHIFT": (green_only, green_only, 2),  # all at once
    }
    # BAKE_TIME: blue still runs beside green; then CLEAN_UP lets it go.
    baking = _wait(stack, lambda: (lambda sd: sd if sd.get("lifecycleStage") == "BAKE_TIME"
                                   else None)(_sd(stack, arn)), "bake time")
    assert baking["status"] == "IN_PROGRESS"
    assert len(_service(stack)["deployments"]) == 2
    done = _ended(stack, arn)
    assert done["status"] == "SUCCESSFUL"
    assert done["lifecycleStage"] == "CLEAN_UP"
    service = _service(stack)
    [deployment] = service["deployments"]
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "COMPLETED")
    assert deployment["taskDefinition"] == stack["revisions"][1]
    steady = f"(service {stack['service']}) has reached a steady state."
    assert service["events"][0]["message"] == steady
    assert _weights(stack) == green_only


def test_the_service_deployment_and_its_revisions_read_back(stack):
    name = stack["service"]
    _create(stack)
    arn = _update(stack, 2, lifecycleHooks=_pause("POST_SCALE_UP", timeoutInMinutes=30))
    sd = _paused(stack, arn, "POST_SCALE_UP")
    [hook] = sd["lifecycleHookDetails"]
    assert hook["hookId"].startswith("ecs-pause-")
    assert (hook["targetType"], hook["status"], hook["timeoutAction"]) == (
        "PAUSE", "AWAITING_ACTION", "ROLLBACK")
    expected = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30 * MINUTE)
    assert abs((hook["expiresAt"] - expected).total_seconds()) < 3
    assert sd["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    [source] = sd["sourceServiceRevisions"]
    target = sd["targetServiceRevision"]
    assert target["arn"].startswith(f"arn:aws:ecs:us-east-1:123456789012:service-revision/"
                                    f"{CLUSTER}/{name}/")
    assert (target["requestedTaskCount"], target["runningTaskCount"]) == (2, 2)
    assert (target["requestedProductionTrafficWeight"], source[
        "requestedProductionTrafficWeight"]) == (0.0, 100.0)
    ecs = stack["aws"]("ecs")
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[source["arn"], target["arn"]])
    assert [r["taskDefinition"] for r in revisions["serviceRevisions"]] == stack["revisions"][:2]
    assert revisions["serviceRevisions"][1]["containerImages"] == [
        {"containerName": "web", "image": "registry/web:2"}]
    listed = ecs.list_service_deployments(cluster=CLUSTER, service=name)["serviceDeployments"]
    assert [b["status"] for b in listed] == ["IN_PROGRESS", "SUCCESSFUL"]  # newest first
    assert listed[0]["targetServiceRevisionArn"] == target["arn"]
    assert [b["serviceDeploymentArn"] for b in ecs.list_service_deployments(
        cluster=CLUSTER, service=name, status=["SUCCESSFUL"])["serviceDeployments"]] == [
        listed[1]["serviceDeploymentArn"]]
    page = ecs.list_service_deployments(cluster=CLUSTER, service=name, maxResults=1)
    assert [b["serviceDeploymentArn"] for b in page["serviceDeployments"]] == [arn]
    rest = ecs.list_service_deployments(cluster=CLUSTER, service=name, maxResults=1,
                                        nextToken=page["nextToken"])
    assert [b["serviceDeploymentArn"] for b in rest["serviceDeployments"]] == [
        listed[1]["serviceDeploymentArn"]]
    assert "nextToken" not in rest
    missing = arn[:-3] + "xyz"
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn, missing])
    assert [d["serviceDeploymentArn"] for d in answer["serviceDeployments"]] == [arn]
    assert answer["failures"] == [{"arn": missing, "reason": "MISSING"}]
    assert _error(lambda: ecs.list_service_deployments(cluster=CLUSTER, service="nope"))[0] == \
        "ServiceNotFoundException"
    assert _error(lambda: ecs.list_service_deployments(cluster="nope", service=name))[0] == \
        "ClusterNotFoundException"


def test_continue_service_deployment_answers_as_ecs(stack):
    _create(stack)
    ecs = stack["aws"]("ecs")
    arn = _update(stack, 2, lifecycleHooks=_pause("PRE_SCALE_UP"))
    sd = _paused(stack, arn, "PRE_SCALE_UP")
    assert _error(lambda: ecs.continue_service_deployment(
        serviceDeploymentArn=arn[:-2] + "zz", hookId=sd["lifecycleHookDetails"][0]["hookId"])) \
        == ("ServiceDeploymentNotFoundException", "The service deployment does not exist.")
    assert _error(lambda: ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId="not-a-hook")) == (
        "InvalidParameterException",
        "Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}")
    assert _error(lambda: ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId="ecs-pause-AnotherHookOfNoDeployment")) == (
        "InvalidParameterException", "Provided hookId is either completed, unavailable, or not "
        "associated with the given Resource ARN")
    hook_id = sd["lifecycleHookDetails"][0]["hookId"]
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id)  # CONTINUE default
    assert _error(lambda: ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=hook_id))[1].startswith("Provided hookId is either")
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"
    assert _error(lambda: ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=hook_id)) == (
        "ClientException", "Continuing a service deployment is not allowed for service "
        "deployment in terminal states.")


def test_rollback_at_a_hook_puts_traffic_back_on_blue_at_once(stack):
    _create(stack)
    blue_deployment = _service(stack)["deployments"][0]["id"]
    arn = _update(stack, 2, lifecycleHooks=_pause("POST_TEST_TRAFFIC_SHIFT"))
    sd = _paused(stack, arn, "POST_TEST_TRAFFIC_SHIFT")
    assert _weights(stack, "test") == {"blue": 0, "green": 100}
    _continue(stack, sd, "ROLLBACK")
    # At once, before the green tasks are gone: both rules back on blue.
    assert _weights(stack) == {"blue": 100, "green": 0}
    assert _weights(stack, "test") == {"blue": 100, "green": 0}
    rolling_back = _sd(stack, arn)
    # ...and the deployment rolling back until green is drained (rollout_seconds; a busy machine
    # may be past that already).
    assert rolling_back["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    service = _service(stack)
    assert service["taskDefinition"] == stack["revisions"][0]
    primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    assert primary["id"] == blue_deployment  # blue again, no new deployment
    done = _ended(stack, arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    reason = "Service deployment rolled back because POST_TEST_TRAFFIC_SHIFT lifecycle hook(s) " \
             "failed."
    assert done["statusReason"] == reason
    assert done["rollback"]["reason"] == reason
    assert done["rollback"]["serviceRevisionArn"] == done["sourceServiceRevisions"][0]["arn"]
    assert "startedAt" in done["rollback"]
    [deployment] = _service(stack)["deployments"]
    assert (deployment["id"], deployment["status"]) == (blue_deployment, "PRIMARY")
    messages = [e["message"] for e in _service(stack)["events"]]
    assert f"(service {stack['service']}) rolling back to deployment {blue_deployment}." in messages


@pytest.mark.parametrize("action", ["ROLLBACK", "CONTINUE"])
def test_a_pause_hook_times_out_with_its_action(stack, action):
    _create(stack)
    arn = _update(stack, 2, lifecycleHooks=_pause("POST_SCALE_UP", timeoutInMinutes=1,
                                                   action=action))
    _paused(stack, arn, "POST_SCALE_UP")
    done = _ended(stack, arn)
    if action == "ROLLBACK":
        assert done["status"] == "ROLLBACK_SUCCESSFUL"
        assert done["statusReason"] == ("Service deployment rolled back because POST_SCALE_UP "
                                        "pause hook timed out.")
        assert _weights(stack) == {"blue": 100, "green": 0}
    else:
        assert done["status"] == "SUCCESSFUL"
        assert _weights(stack) == {"blue": 0, "green": 100}


def test_the_next_deployment_uses_the_other_target_group(stack):
    _create(stack)
    assert _ended(stack, _update(stack, 2))["status"] == "SUCCESSFUL"
    assert _weights(stack) == {"blue": 0, "green": 100}  # the alternate group is production
    arn = _update(stack, 3, lifecycleHooks=_pause("POST_TEST_TRAFFIC_SHIFT"))
    sd = _paused(stack, arn, "POST_TEST_TRAFFIC_SHIFT")
    assert _weights(stack, "test") == {"blue": 100, "green": 0}  # the primary group is green now
    assert _weights(stack) == {"blue": 0, "green": 100}
    _continue(stack, sd)
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"
    assert _weights(stack) == {"blue": 100, "green": 0}


# --- canary and linear ----------------------------------------------------------------------------

def test_a_canary_deployment_shifts_its_percent_then_the_rest(stack):
    _create(stack)
    arn = _update(stack, 2, strategy="CANARY", bakeTimeInMinutes=0,
                  canaryConfiguration={"canaryPercent": 2.5, "canaryBakeTimeInMinutes": 2},
                  lifecycleHooks=_pause("PRE_PRODUCTION_TRAFFIC_SHIFT"))
    first = _paused(stack, arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")
    assert _weights(stack) == {"blue": 100, "green": 0}
    # The canary step starts with the CONTINUE: timed from before it, a late look (a loaded
    # machine) only adds to the measured bake, never takes from it.
    started = time.monotonic()
    _continue(stack, first)
    # The canary step: 2.5% (ALB weights are integers: thousandths), for its bake time.
    assert _weights(stack) == {"blue": 975, "green": 25}
    assert _sd(stack, arn)["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert _sd(stack, arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 2.5
    second = _paused(stack, arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")  # before the second step
    assert time.monotonic() - started >= 2 * MINUTE - 0.2
    assert second["lifecycleHookDetails"][0]["hookId"] != first["lifecycleHookDetails"][0][
        "hookId"]
    assert _weights(stack) == {"blue": 975, "green": 25}
    _continue(stack, second)
    assert _weights(stack) == {"blue": 0, "green": 100}
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"


def test_a_linear_deployment_shifts_step_by_step(stack):
    _create(stack)
    arn = _update(stack, 2, strategy="LINEAR", bakeTimeInMinutes=0,
                  linearConfiguration={"stepPercent": 40.0, "stepBakeTimeInMinutes": 0},
                  lifecycleHooks=_pause("PRE_PRODUCTION_TRAFFIC_SHIFT"))
    before_each_step = []
    for _ in range(3):  # 40%, 80%, then the last step to 100%
        sd = _paused(stack, arn, "PRE_PRODUCTION_TRAFFIC_SHIFT")
        before_each_step.append(_weights(stack)["green"])
        _continue(stack, sd)
    assert before_each_step == [0, 40, 80]
    done = _ended(stack, arn)
    assert done["status"] == "SUCCESSFUL"
    assert _weights(stack) == {"blue": 0, "green": 100}


def test_a_linear_step_waits_its_bake_time(stack):
    _create(stack)
    arn = _update(stack, 2, strategy="LINEAR", bakeTimeInMinutes=0,
                  linearConfiguration={"stepPercent": 50.0, "stepBakeTimeInMinutes": 3})
    # (the scripted plane moves when ECS is asked: each look at the rules follows one at ECS)
    _wait(stack, lambda: _sd(stack, arn) and _weights(stack)["green"] == 50, "the first step")
    started = time.monotonic()
    _wait(stack, lambda: _sd(stack, arn) and _weights(stack)["green"] == 100, "the second step")
    assert time.monotonic() - started >= 3 * MINUTE - 0.3
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"


# --- StopServiceDeployment, alarms, the circuit breaker ------------------------------------------

def test_stop_rollback_during_bake_time_goes_back_to_the_running_blue(stack):
    _create(stack)
    ecs = stack["aws"]("ecs")
    blue_deployment = _service(stack)["deployments"][0]["id"]
    arn = _update(stack, 2, bakeTimeInMinutes=30)
    _wait(stack, lambda: _sd(stack, arn).get("lifecycleStage") == "BAKE_TIME", "bake time")
    assert _weights(stack) == {"blue": 0, "green": 100}
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")[
        "serviceDeploymentArn"] == arn
    assert _weights(stack) == {"blue": 100, "green": 0}
    # Green drains for rollout_seconds: on a busy machine the rollback may be over already.
    assert _sd(stack, arn)["status"] in (
        "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    done = _ended(stack, arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    service = _service(stack)
    assert [(d["id"], d["status"]) for d in service["deployments"]] == [
        (blue_deployment, "PRIMARY")]  # the blue that ran all along: no new deployment
    assert service["taskDefinition"] == stack["revisions"][0]
    assert _error(lambda: ecs.stop_service_deployment(
        serviceDeploymentArn=arn, stopType="ROLLBACK"))[0] == "ConflictException"


def test_stop_service_deployment_refuses_what_it_cannot_do(stack):
    _create(stack)
    ecs = stack["aws"]("ecs")
    arn = _update(stack, 2, lifecycleHooks=_pause("PRE_SCALE_UP"))
    _paused(stack, arn, "PRE_SCALE_UP")
    assert _error(lambda: ecs.stop_service_deployment(
        serviceDeploymentArn=arn[:-2] + "zz", stopType="ROLLBACK"))[0] == \
        "ServiceDeploymentNotFoundException"
    code, message = _error(lambda: ecs.stop_service_deployment(serviceDeploymentArn=arn,
                                                               stopType="ABORT"))
    assert code == "InvalidParameterException"
    assert "ROLLBACK" in message
    assert _sd(stack, arn)["status"] == "IN_PROGRESS"


def test_an_alarm_in_alarm_during_bake_time_rolls_back(stack):
    name, alarm = stack["service"], stack["alarm"] + "-5xx"
    cloudwatch = stack["aws"]("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, MetricName="HTTPCode_ELB_5XX_Count", Namespace="AWS/ApplicationELB",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold")
    _create(stack)
    arn = _update(stack, 2, bakeTimeInMinutes=30,
                  alarms={"alarmNames": [alarm], "enable": True, "rollback": True})
    _wait(stack, lambda: _sd(stack, arn).get("lifecycleStage") == "BAKE_TIME", "bake time")
    assert _sd(stack, arn)["alarms"]["status"] == "MONITORING"
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx")
    done = _ended(stack, arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert alarm in done["statusReason"]
    assert done["alarms"] == {"status": "TRIGGERED", "alarmNames": [alarm],
                              "triggeredAlarmNames": [alarm]}
    assert _weights(stack) == {"blue": 100, "green": 0}
    messages = [e["message"] for e in _service(stack)["events"]]
    green = _service(stack)["deployments"][0]["id"]
    assert any(m.endswith("deployment failed: alarm detected.") for m in messages), messages
    assert f"(service {name}) rolling back to deployment {green}." in messages


def test_an_alarm_already_in_alarm_at_the_start_is_not_monitored(stack):
    alarm = stack["alarm"] + "-old"
    cloudwatch = stack["aws"]("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, MetricName="CPUUtilization", Namespace="AWS/ECS", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="before")
    _create(stack)
    arn = _update(stack, 2, alarms={"alarmNames": [alarm], "enable": True, "rollback": True})
    done = _ended(stack, arn)
    assert done["status"] == "SUCCESSFUL"
    assert done["alarms"]["status"] == "DISABLED"


def test_the_circuit_breaker_rolls_back_a_green_that_fails(stack):
    name = stack["service"]
    _create(stack, deploymentCircuitBreaker={"enable": True, "rollback": True})
    RUNTIME.script_rollout(name, "FAILED")
    arn = _update(stack, 2, deploymentCircuitBreaker={"enable": True, "rollback": True})
    done = _ended(stack, arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == ("Service deployment rolled back because the circuit breaker "
                                    "threshold was exceeded.")
    assert done["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert done["deploymentCircuitBreaker"]["threshold"] == 3
    assert _weights(stack) == {"blue": 100, "green": 0}  # production never left blue
    assert _service(stack)["taskDefinition"] == stack["revisions"][0]


def test_a_production_rule_serving_two_groups_rolls_the_deployment_back(stack):
    _create(stack)
    stack["aws"]("elbv2").modify_rule(RuleArn=stack["rules"]["production"], Actions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": stack["blue"], "Weight": 50},
            {"TargetGroupArn": stack["green"], "Weight": 50}]}}])
    done = _ended(stack, _update(stack, 2))
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == (
        "Service deployment rolled back because of invalid networking configuration. "
        f"productionListenerRule {stack['rules']['production']} should have exactly one target "
        "group serving traffic but found 2 target groups which are serving traffic")


def test_an_infrastructure_role_ecs_cannot_assume_rolls_the_deployment_back(stack):
    _create(stack)
    stack["aws"]("ecs").update_service(
        cluster=CLUSTER, service=stack["service"], taskDefinition=stack["revisions"][1],
        loadBalancers=[_balancer(stack, roleArn="arn:aws:iam::123456789012:role/missing")],
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = stack["aws"]("ecs").list_service_deployments(
        cluster=CLUSTER, service=stack["service"])["serviceDeployments"][0]["serviceDeploymentArn"]
    done = _ended(stack, arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["statusReason"] == (
        "Service deployment rolled back because of invalid networking configuration. ECS was "
        "unable to manage the ELB resources due to missing permissions on ECS Infrastructure "
        "Role 'arn:aws:iam::123456789012:role/missing'.")
    assert _weights(stack) == {"blue": 100, "green": 0}


def test_a_new_deployment_stops_the_ongoing_one(stack):
    _create(stack)
    first = _update(stack, 2, lifecycleHooks=_pause("POST_TEST_TRAFFIC_SHIFT"))
    _paused(stack, first, "POST_TEST_TRAFFIC_SHIFT")
    # The second one holds before it scales up: its own test traffic shift cannot race the
    # check that the first one gave the test listener back to blue.
    second = _update(stack, 3, lifecycleHooks=_pause("PRE_SCALE_UP"))
    stopped = _sd(stack, first)
    assert stopped["status"] == "STOPPED"
    held = _paused(stack, second, "PRE_SCALE_UP")
    assert _weights(stack, "test") == {"blue": 100, "green": 0}
    assert held["sourceServiceRevisions"][0]["arn"] == stopped[
        "sourceServiceRevisions"][0]["arn"]  # the new one starts from blue
    _continue(stack, held)
    assert _ended(stack, second)["status"] == "SUCCESSFUL"
    [deployment] = _service(stack)["deployments"]
    assert deployment["taskDefinition"] == stack["revisions"][2]


def test_a_snapshot_keeps_a_paused_deployment(emulator, stack):
    """The service deployments live in moto's ECS backend: Emulator.snapshot/restore copy them
    with the services they move (tests/test_release_failures.py restores such states)."""
    _create(stack)
    arn = _update(stack, 2, lifecycleHooks=_pause("POST_TEST_TRAFFIC_SHIFT"))
    paused = _paused(stack, arn, "POST_TEST_TRAFFIC_SHIFT")
    snapshot = emulator.snapshot()
    _continue(stack, paused)
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"
    emulator.restore(snapshot)
    again = _paused(stack, arn, "POST_TEST_TRAFFIC_SHIFT")
    assert again["lifecycleHookDetails"] == paused["lifecycleHookDetails"]
    assert _weights(stack, "test") == {"blue": 0, "green": 100}
    assert _weights(stack) == {"blue": 100, "green": 0}
    _continue(stack, again)
    assert _ended(stack, arn)["status"] == "SUCCESSFUL"
    assert _weights(stack) == {"blue": 0, "green": 100}


def test_deleting_the_service_deletes_its_service_deployments(stack):
    name = stack["service"]
    _create(stack)
    ecs = stack["aws"]("ecs")
    arn = ecs.list_service_deployments(cluster=CLUSTER, service=name)["serviceDeployments"][
        0]["serviceDeploymentArn"]
    ecs.delete_service(cluster=CLUSTER, service=name, force=True)
    assert ecs.describe_service_deployments(serviceDeploymentArns=[arn])["failures"] == [
        {"arn": arn, "reason": "MISSING"}]


# --- rolling services have service deployments too ----------------------------------------------

def test_rolling_deployments_are_service_deployments(stack):
    name = stack["service"]
    ecs = stack["aws"]("ecs")
    ecs.create_service(cluster=CLUSTER, serviceName=name + "-rolling", desiredCount=1,
                       launchType="FARGATE", taskDefinition=stack["revisions"][0],
                       networkConfiguration=stack["network"], deploymentConfiguration={
                           "deploymentCircuitBreaker": {"enable": True, "rollback": True}})

    def listed() -> list[dict[str, Any]]:
        _service(stack, name + "-rolling")
        return ecs.list_service_deployments(cluster=CLUSTER, service=name + "-rolling")[
            "serviceDeployments"]

    _wait(stack, lambda: [b["status"] for b in listed()] == ["SUCCESSFUL"], "the first rollout")
    ecs.update_service(cluster=CLUSTER, service=name + "-rolling",
                       taskDefinition=stack["revisions"][1])
    # Newest first; the new one may have completed already on a busy machine (rollout_seconds).
    first, second = (b["status"] for b in listed())
    assert (first, second) in (("IN_PROGRESS", "SUCCESSFUL"), ("SUCCESSFUL", "SUCCESSFUL"))
    _wait(stack, lambda: [b["status"] for b in listed()] == ["SUCCESSFUL", "SUCCESSFUL"],
          "the second rollout")
    RUNTIME.script_rollout(name + "-rolling", "FAILED")
    ecs.update_service(cluster=CLUSTER, service=name + "-rolling",
                       taskDefinition=stack["revisions"][2])
    newest = _wait(stack, lambda: (lambda b: b if b[0]["status"] == "ROLLBACK_SUCCESSFUL"
                                   else None)(listed()), "the rollback")[0]
    sd = _sd(stack, newest["serviceDeploymentArn"])
    assert sd["statusReason"] == ("Service deployment rolled back because the circuit breaker "
                                  "threshold was exceeded.")
    revision = ecs.describe_service_revisions(serviceRevisionArns=[sd["rollback"][
        "serviceRevisionArn"]])["serviceRevisions"][0]
    assert revision["taskDefinition"] == stack["revisions"][1]
    target = ecs.describe_service_revisions(serviceRevisionArns=[sd["targetServiceRevision"][
        "arn"]])["serviceRevisions"][0]
    assert target["taskDefinition"] == stack["revisions"][2]
    assert "lifecycleStage" not in sd
