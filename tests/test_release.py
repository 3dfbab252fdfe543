"""deploy.yml and rollback.yml on the emulator, whose ECS data plane the tests script.

The happy path and the ways back: a release, its idempotent re-run (under the other strategy)
and dry run, a second release, rollback to previous, by tag and by revision.
"""

from __future__ import annotations

import pytest
import release_env as env
from harness import other_strategy, strategy_seen_at_vvv
from moto_ecs import RUNTIME

# The images are in the emulator's ECR (release_env.push), not in the local registry.
ECR = {"release_registry": ""}


@pytest.fixture
def environment(fresh_emulator, aws):
    env.provision(aws)
    RUNTIME.rollout_seconds = 0.5
    yield aws
    RUNTIME.reset()


def deploy(ansible, tag, *args, **extra):
    return ansible.playbook("playbooks/deploy.yml", *args,
                            extra_vars={**ECR, "image_tag": tag, **extra})


def rollback(ansible, *args, **extra):
    return ansible.playbook("playbooks/rollback.yml", *args, extra_vars={**ECR, **extra})


def test_deploy_releases_then_reruns_and_rolls_back(ansible, environment, emulator):
    aws = environment
    env.push(aws, "aaa111")
    env.push(aws, "bbb222")

    first = deploy(ansible, "aaa111")
    assert first.rc == 0, first.explain()
    current = env.record(aws)
    assert current["tag"] == "aaa111"
    assert current["image"] == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-api-local:aaa111")
    assert set(current["task_definitions"]) == {"web", "worker", "migrate"}
    assert current["by"]
    assert current["at"].endswith("Z")
    assert env.running(aws) == {k: current["task_definitions"][k] for k in env.SERVICES}
    assert env.record(aws, "previous") == {}
    web = env.service(aws, "web")
    assert web["desiredCount"] == 2
    assert web["loadBalancers"][0]["containerPort"] == 8000
    assert web["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True,
                                                                         "rollback": True}
    assert web["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    worker = env.service(aws, "worker")
    assert worker["capacityProviderStrategy"][0]["capacityProvider"] == "FARGATE_SPOT"
    # The web's traffic alarms guard the web rollout only: web trouble must not roll the worker
    # back (nor make its rollouts wait out the alarms).
    assert web["deploymentConfiguration"]["alarms"] == {
        "alarmNames": ["booking-api-local-web-5xx-rate", "booking-api-local-web-unhealthy-hosts"],
        "enable": True, "rollback": True}
    assert worker["deploymentConfiguration"]["alarms"]["alarmNames"] == []
    assert worker["deploymentConfiguration"]["alarms"]["enable"] is False
    # Read-only root (ECS Exec is off; it needs a writable root).
    assert web["enableExecuteCommand"] is False
    # The migration ran once, as a one-off task of the release's migrate revision.
    migrations = [t for t in aws("ecs").describe_tasks(
        cluster=env.CLUSTER, tasks=aws("ecs").list_tasks(cluster=env.CLUSTER)["taskArns"])[
            "tasks"] if t.get("startedBy") == "release aaa111"]
    assert [t["taskDefinitionArn"] for t in migrations] == [current["task_definitions"]["migrate"]]
    targets = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    assert {(t["ResourceId"].split("/")[-1], t["MinCapacity"], t["MaxCapacity"])
            for t in targets} == {("booking-api-local-web", 2, 10),
                                  ("booking-api-local-worker", 1, 5)}

    # The same tag again: nothing registered, migrated or recorded; under the strategy the suite
    # does not use by default (Ansible's own `linear`, the way back from Mitogen's), so the
    # release's roles and modules keep working under both (tests/test_site.py guards the tag
    # selection under it).
    revisions = env.revisions(aws)
    again = ansible.playbook("playbooks/deploy.yml", "-vvv", extra_vars={
        **ECR, "image_tag": "aaa111"}, env={"ANSIBLE_STRATEGY": other_strategy()})
    assert again.rc == 0, again.explain()
    assert strategy_seen_at_vvv(again.output) == other_strategy(), "not the strategy asked"
    assert again.changed == 0, again.explain()
    checked = deploy(ansible, "aaa111", "--check", "--diff")
    assert checked.rc == 0, checked.explain()
    assert checked.changed == 0, checked.explain()
    assert env.revisions(aws) == revisions
    assert env.record(aws)["at"] == current["at"]

    second = deploy(ansible, "bbb222")
    assert second.rc == 0, second.explain()
    released_b = env.record(aws)
    assert released_b["tag"] == "bbb222"
    assert env.record(aws, "previous")["tag"] == "aaa111"
    assert env.image_of(aws, env.running(aws)["web"]).endswith(":bbb222")

    # Back to previous: the old revisions themselves, no copies.
    back = rollback(ansible)
    assert back.rc == 0, back.explain()
    assert env.running(aws) == {k: current["task_definitions"][k] for k in env.SERVICES}
    assert env.revisions(aws) == sorted(revisions + [
        released_b["task_definitions"][k] for k in ("web", "worker", "migrate")])
    assert env.record(aws)["tag"] == "aaa111"
    assert env.record(aws)["rolled_back_from"] == "bbb222"
    assert env.record(aws, "previous")["tag"] == "bbb222"

    # By tag, forward again to bbb222; then by revision, back to web revision 1 (aaa111).
    by_tag = rollback(ansible, image_tag="bbb222")
    assert by_tag.rc == 0, by_tag.explain()
    assert env.running(aws)["web"] == released_b["task_definitions"]["web"]
    by_revision = rollback(ansible, revision=1)
    assert by_revision.rc == 0, by_revision.explain()
    assert env.running(aws)["web"] == current["task_definitions"]["web"]
    assert env.record(aws)["tag"] == "aaa111"
    # A rollback never runs a migration unless asked to.
    started = {t.get("startedBy") for t in aws("ecs").describe_tasks(
        cluster=env.CLUSTER, tasks=aws("ecs").list_tasks(cluster=env.CLUSTER)["taskArns"])[
            "tasks"]}
    assert started == {"release aaa111", "release bbb222"}


def _production_weights(aws):
    """Target group name -> weight of the production rule (443) ECS shifts."""
    elb = aws("elbv2")
    [alb] = elb.describe_load_balancers(Names=[f"{env.PREFIX}-alb"])["LoadBalancers"]
    [listener] = [item for item in elb.describe_listeners(LoadBalancerArn=alb[
        "LoadBalancerArn"])["Listeners"] if item["Port"] == 443]
    [rule] = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
              if r["Priority"] == "1"]
    return {g["TargetGroupArn"].split("/")[-2]: g["Weight"]
            for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}


def _request_scaling_groups(aws):
    """The target groups whose requests the web service's request scaling policy counts."""
    [policy] = aws("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", PolicyNames=[f"{env.PREFIX}-web-requests"])["ScalingPolicies"]
    metrics = policy["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"]["Metrics"]
    return {m["MetricStat"]["Metric"]["Dimensions"][0]["Value"].split("/")[1]
            for m in metrics if "MetricStat" in m}


def test_a_blue_green_release_pauses_continues_and_records_then_rolls_back(
        ansible, environment, emulator):
    """release_strategy=blue_green on the scripted plane: the web service gets ECS's strategy,
    the pause hook and the alb role's groups and rules (found by name); deploy.yml answers the
    pause (no smoke URLs on this plane), waits for SUCCESSFUL and records; production moved to
    the other group. A re-run changes nothing; rollback.yml releases the previous record the
    same way."""
    aws = environment
    env.push(aws, "aaa111")
    env.push(aws, "bbb222")
    blue_green = {"release_strategy": "blue_green", "release_bake_minutes": 0}
    first = deploy(ansible, "aaa111", **blue_green)
    assert first.rc == 0, first.explain()
    web = env.service(aws, "web")
    config = web["deploymentConfiguration"]
    assert config["strategy"] == "BLUE_GREEN"
    assert config["lifecycleHooks"][0]["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert config["lifecycleHooks"][0]["targetType"] == "PAUSE"
    advanced = web["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["alternateTargetGroupArn"].split("/")[-2] == f"{env.PREFIX}-web-alt"
    assert advanced["roleArn"].endswith(f":role/{env.PREFIX}-ecs-infrastructure")
    worker = env.service(aws, "worker")["deploymentConfiguration"]
    assert worker.get("strategy", "ROLLING") == "ROLLING"

    second = deploy(ansible, "bbb222", **blue_green)
    assert second.rc == 0, second.explain()
    assert env.record(aws)["tag"] == "bbb222"
    weights = _production_weights(aws)
    assert sorted(weights.values()) == [0, 100]
    # Request scaling still counts production's requests, in whichever group they now are.
    assert {g for g, w in weights.items() if w == 100} <= _request_scaling_groups(aws)
    assert _request_scaling_groups(aws) == {f"{env.PREFIX}-web", f"{env.PREFIX}-web-alt"}
    again = deploy(ansible, "bbb222", **blue_green)
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.explain()
    assert _production_weights(aws) == weights
    # Production is in the alternate group now: a rolling release (the local default) would
    # register its tasks where no production traffic goes. Refused before anything changes.
    revisions = env.revisions(aws)
    refused = deploy(ansible, "aaa111")
    assert refused.rc != 0, refused.explain()
    assert (f"Production is served from {env.PREFIX}-web-alt since the last blue/green"
            in " ".join(refused.output.split())), refused.explain()
    assert refused.changed == 0, refused.explain()
    assert env.revisions(aws) == revisions
    assert _production_weights(aws) == weights

    back = rollback(ansible, **blue_green)
    assert back.rc == 0, back.explain()
    assert env.record(aws)["tag"] == "aaa111"
    assert env.image_of(aws, env.running(aws)["web"]).endswith(":aaa111")
    assert _production_weights(aws) != weights  # the other group again
