"""booking.aws.ecs_task_definition / ecs_service_rollout / ecs_run_task / container_image_info.

Against the in-process emulator, whose ECS data plane (tools/moto_ecs.py) the tests script:
rollouts that fail, one-off tasks that exit non-zero.
"""

from __future__ import annotations

import http.server
import threading
from types import SimpleNamespace

import boto3
import pytest
from harness import AnsibleRunner, create_fargate_cluster, emulator_process
from moto_ecs import RUNTIME

CLUSTER = "release-test"
FAMILY = "release-test-web"


@pytest.fixture
def network(fresh_emulator, aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24")["Subnet"]["SubnetId"]
               for i in (1, 2)]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    create_fargate_cluster(aws, clusterName=CLUSTER, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    RUNTIME.rollout_seconds = 0.5
    yield {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group],
                                   "assignPublicIp": "DISABLED"}}
    RUNTIME.reset()


def _definition(image="registry/app:1", **overrides):
    container = {
        "name": "web", "image": image, "essential": True,
        "portMappings": [{"containerPort": 8000}],
        "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        "secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/s"}],
        "stopTimeout": 30,
    }
    container.update(overrides.pop("container", {}))
    return {"family": FAMILY, "cpu": "1024", "memory": "2048",
            "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
            "container_definitions": [container], "tags": {"Project": "t"}, **overrides}


def _revisions(aws):
    return aws("ecs").list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]


# --- ecs_task_definition ---------------------------------------------------------------------

def test_task_definition_registers_once_and_check_mode_registers_nothing(ansible, aws, network):
    checked = ansible.module("booking.aws.ecs_task_definition", _definition(), check=True,
                             diff=True)
    assert checked["changed"] is True, checked
    assert checked["revision"] is None, checked
    assert _revisions(aws) == []

    first = ansible.module("booking.aws.ecs_task_definition", _definition())
    assert first["changed"] is True, first
    assert first["revision"] == 1, first
    # AWS's reordering and defaults (env order, hostPort, protocol) are not differences.
    again = ansible.module("booking.aws.ecs_task_definition", _definition(), check=True,
                           diff=True)
    assert again["changed"] is False, again["diff"]
    assert ansible.module("booking.aws.ecs_task_definition", _definition())["changed"] is False
    assert len(_revisions(aws)) == 1


@pytest.mark.parametrize("change", [
    {"cpu": "2048"},  # task-level size: missed by community.aws.ecs_taskdefinition
    {"container": {"environment": [{"name": "A", "value": "changed"}, {"name": "B",
                                                                        "value": "2"}]}},
    {"container": {"secrets": [{"name": "S", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/x"}]}},
    {"container": {"stopTimeout": 120}},
    {"container": {"image": "registry/app:2"}},
])
def test_task_definition_any_real_change_registers_a_new_revision(ansible, aws, network, change):
    ansible.module("booking.aws.ecs_task_definition", _definition())
    changed = ansible.module("booking.aws.ecs_task_definition", _definition(**change), diff=True)
    assert changed["changed"] is True, changed
    assert changed["revision"] == 2, changed
    assert changed["diff"]["before"] != changed["diff"]["after"]


def test_task_definition_any_active_reuses_an_identical_older_revision(ansible, aws, network):
    ansible.module("booking.aws.ecs_task_definition", _definition(image="r/app:1"))
    ansible.module("booking.aws.ecs_task_definition", _definition(image="r/app:2"))
    # Latest-only comparison registers a copy of revision 1 ...
    latest = ansible.module("booking.aws.ecs_task_definition", _definition(image="r/app:1"),
                            check=True)
    assert latest["changed"] is True
    # ... any_active finds revision 1 itself (a rollback target), and registers nothing.
    reused = ansible.module("booking.aws.ecs_task_definition",
                            {**_definition(image="r/app:1"), "match": "any_active"})
    assert reused["changed"] is False, reused
    assert reused["revision"] == 1, reused
    assert len(_revisions(aws)) == 2


# --- ecs_service_rollout ---------------------------------------------------------------------

def _service_args(network, task_definition, **overrides):
    return {
        "cluster": CLUSTER, "name": "web", "task_definition": task_definition,
        "desired_count": 2, "capacity_provider_strategy": [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        "network_configuration": network,
        "deployment_configuration": {
            "minimumHealthyPercent": 100, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        "health_check_grace_period_seconds": 60, "enable_execute_command": False,
        "propagate_tags": "SERVICE", "tags": {"Project": "t"}, "poll_interval": 1,
        "wait_timeout": 60, **overrides,
    }


def _register(ansible, image):
    return ansible.module("booking.aws.ecs_task_definition", _definition(image=image))["arn"]


def _service(aws):
    return aws("ecs").describe_services(cluster=CLUSTER, services=["web"])["services"][0]


def test_service_created_rolled_out_and_then_unchanged(ansible, aws, network):
    td1 = _register(ansible, "r/app:1")
    checked = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1),
                             check=True)
    assert checked["changed"] is True
    assert aws("ecs").describe_services(cluster=CLUSTER, services=["web"])["services"] == []

    created = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    assert created["changed"] is True, created
    assert created["deployment"]["rolloutState"] == "COMPLETED", created["deployment"]
    service = _service(aws)
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True, "rollback": True}
    assert service["runningCount"] == 2

    for check in (True, False):
        again = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1),
                               check=check, diff=True)
        assert again["changed"] is False, again["diff"]


def test_service_rollout_to_a_new_revision_waits_until_completed(ansible, aws, network):
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    td2 = _register(ansible, "r/app:2")
    RUNTIME.rollout_seconds = 3
    rolled = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td2),
                            diff=True)
    assert rolled["changed"] is True, rolled
    assert rolled["rolled_back"] is False, rolled
    assert rolled["deployment"]["rolloutState"] == "COMPLETED"
    assert rolled["deployment"]["taskDefinition"] == td2
    assert rolled["diff"]["after"]["taskDefinition"] == td2
    service = _service(aws)
    assert service["taskDefinition"] == td2
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]


def test_service_desired_count_is_left_to_the_autoscaler(ansible, aws, network):
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    aws("ecs").update_service(cluster=CLUSTER, service="web", desiredCount=7)  # scaled out
    again = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    assert again["changed"] is False
    assert _service(aws)["desiredCount"] == 7
    enforced = ansible.module("booking.aws.ecs_service_rollout",
                              _service_args(network, td1, enforce_desired_count=True))
    assert enforced["changed"] is True
    assert _service(aws)["desiredCount"] == 2


def test_service_deployment_configuration_change_is_applied(ansible, aws, network):
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    args = _service_args(network, td1, deployment_configuration={"minimumHealthyPercent": 50})
    changed = ansible.module("booking.aws.ecs_service_rollout", args, diff=True)
    assert changed["changed"] is True, changed
    configuration = _service(aws)["deploymentConfiguration"]
    assert configuration["minimumHealthyPercent"] == 50
    assert configuration["deploymentCircuitBreaker"]["rollback"] is True  # the rest is kept
    assert ansible.module("booking.aws.ecs_service_rollout", args)["changed"] is False


def test_service_compared_with_its_revision_kept_only_in_check_mode(ansible, aws, network):
    """make diff: a revision the release would register has no ARN yet; an empty
    task_definition compares the other settings with the service's current revision kept."""
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    args = _service_args(network, "", deployment_configuration={"maximumPercent": 150})
    checked = ansible.module("booking.aws.ecs_service_rollout", args, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["after"] == {"deploymentConfiguration": {
        **checked["diff"]["before"]["deploymentConfiguration"], "maximumPercent": 150}}
    assert _service(aws)["deploymentConfiguration"]["maximumPercent"] == 200
    same = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, ""),
                          check=True)
    assert same["changed"] is False, same
    refused = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, ""))
    assert refused.get("failed"), refused
    assert "only a check-mode run" in refused["msg"]
    elsewhere = ansible.module("booking.aws.ecs_service_rollout",
                               dict(_service_args(network, ""), cluster="no-such-cluster"),
                               check=True)
    assert elsewhere["changed"] is True, elsewhere  # no cluster: the service would be created


def test_service_switched_from_canary_to_blue_green_drops_the_canary_settings(
        ansible, aws, network):
    """make deploy STRATEGY=canary, then STRATEGY=blue_green (found by
    bench/release_strategies.py): merging the wanted configuration into the current one kept
    canaryConfiguration, which ECS refuses unless the strategy is CANARY."""
    td1 = _register(ansible, "r/app:1")
    base = _service_args(network, td1)["deployment_configuration"]
    canary = {**base, "strategy": "CANARY", "bakeTimeInMinutes": 0,
              "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 0}}
    ansible.module("booking.aws.ecs_service_rollout",
                   _service_args(network, td1, deployment_configuration=canary))
    assert _service(aws)["deploymentConfiguration"]["strategy"] == "CANARY"
    blue_green = {**base, "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}
    args = _service_args(network, td1, deployment_configuration=blue_green)
    switched = ansible.module("booking.aws.ecs_service_rollout", args)
    assert switched["changed"] is True, switched
    configuration = _service(aws)["deploymentConfiguration"]
    assert configuration["strategy"] == "BLUE_GREEN"
    assert "canaryConfiguration" not in configuration
    assert configuration["deploymentCircuitBreaker"]["rollback"] is True  # the rest is kept
    assert ansible.module("booking.aws.ecs_service_rollout", args)["changed"] is False


def test_service_exec_change_alone_starts_a_new_deployment(ansible, aws, network):
    # ECS Exec reaches only tasks started after it is turned on (AWS: update-service
    # --enable-execute-command --force-new-deployment); without a new deployment the running
    # tasks never get the agent.
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    first = _service(aws)["deployments"][0]["id"]
    args = _service_args(network, td1, enable_execute_command=True)
    turned_on = ansible.module("booking.aws.ecs_service_rollout", args)
    assert turned_on["changed"] is True, turned_on
    service = _service(aws)
    assert service["enableExecuteCommand"] is True
    assert service["deployments"][0]["id"] != first, "no new deployment: tasks lack exec"
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    assert ansible.module("booking.aws.ecs_service_rollout", args)["changed"] is False


def test_service_failed_rollout_reports_the_circuit_breaker_rollback(ansible, aws, network):
    td1 = _register(ansible, "r/app:1")
    ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td1))
    td2 = _register(ansible, "r/app:2")
    RUNTIME.script_rollout("web", "FAILED")
    failed = ansible.module("booking.aws.ecs_service_rollout", _service_args(network, td2))
    assert failed.get("failed") is True, failed
    assert failed["rolled_back"] is True
    assert "circuit breaker" in failed["msg"], failed["msg"]
    assert td1 in failed["msg"], failed["msg"]
    assert _service(aws)["taskDefinition"] == td1


# --- ecs_run_task ----------------------------------------------------------------------------

def _migrate(ansible, network, **overrides):
    return ansible.module("booking.aws.ecs_run_task", {
        "cluster": CLUSTER, "task_definition": FAMILY, "launch_type": "FARGATE",
        "network_configuration": network, "poll_interval": 1, "started_by": "test",
        "overrides": {"containerOverrides": [{"name": "web", "command": ["migrate"]}]},
        **overrides})


def test_run_task_waits_for_the_exit_code(ansible, aws, network):
    _register(ansible, "r/app:1")
    ok = _migrate(ansible, network)
    assert ok["changed"] is True, ok
    assert ok["succeeded"] is True, ok
    assert ok["last_status"] == "STOPPED"
    assert ok["exit_codes"] == {"web": 0}

    RUNTIME.script_exit_code(FAMILY, 1)
    failed = _migrate(ansible, network)
    assert failed.get("failed") is True, failed
    assert failed["exit_codes"] == {"web": 1}, failed
    assert "Essential container in task exited" in failed["msg"]


def test_run_task_without_security_groups_gets_the_vpcs_default(ansible, aws, network):
    """AwsVpcConfiguration: "If you don't specify a security group, the default security group
    for the VPC is used" (moto answered HTTP 500)."""
    _register(ansible, "r/app:1")
    network = {"awsvpcConfiguration": {
        k: v for k, v in network["awsvpcConfiguration"].items() if k != "securityGroups"}}
    ran = _migrate(ansible, network)
    assert ran["succeeded"] is True, ran
    ec2 = aws("ec2")
    [subnet] = ec2.describe_subnets(SubnetIds=network["awsvpcConfiguration"]["subnets"][:1])[
        "Subnets"]
    [default] = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [subnet["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    [task] = aws("ecs").describe_tasks(cluster=CLUSTER, tasks=[ran["task_arn"]])["tasks"]
    [eni] = [d["value"] for a in task["attachments"] for d in a["details"]
             if d["name"] == "networkInterfaceId"]
    [interface] = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"]
    assert [g["GroupId"] for g in interface["Groups"]] == [default["GroupId"]]


def test_run_task_check_mode_runs_nothing(ansible, aws, network):
    _register(ansible, "r/app:1")
    checked = ansible.module("booking.aws.ecs_run_task", {
        "cluster": CLUSTER, "task_definition": FAMILY, "launch_type": "FARGATE",
        "network_configuration": network}, check=True)
    assert checked["changed"] is True
    assert checked["task_arn"] is None
    assert aws("ecs").list_tasks(cluster=CLUSTER)["taskArns"] == []


# --- container_image_info --------------------------------------------------------------------

MANIFEST = ('{"schemaVersion": 2, "mediaType": '
            '"application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": '
            '"application/vnd.docker.container.image.v1+json", "size": 2, "digest": '
            '"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}, '
            '"layers": []}')


def test_image_info_in_ecr(ansible, aws, fresh_emulator):
    aws("ecr").create_repository(repositoryName="app")
    aws("ecr").put_image(repositoryName="app", imageManifest=MANIFEST, imageTag="abc123")
    found = ansible.module("booking.aws.container_image_info", {"repository": "app",
                                                                 "tag": "abc123"})
    assert found["exists"] is True, found
    assert found["digest"].startswith("sha256:"), found
    assert found["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:abc123"
    missing = ansible.module("booking.aws.container_image_info", {"repository": "app",
                                                                   "tag": "nope"})
    assert missing["exists"] is False
    assert missing["changed"] is False
    no_repo = ansible.module("booking.aws.container_image_info", {"repository": "none",
                                                                   "tag": "x"})
    assert no_repo["exists"] is False


class _Registry(http.server.BaseHTTPRequestHandler):
    """The one request the module makes of a v2 registry: HEAD of a tag's manifest."""

    def do_HEAD(self):
        if self.path == "/v2/app/manifests/abc123" and "manifest" in self.headers["Accept"]:
            self.send_response(200)
            self.send_header("Docker-Content-Digest", "sha256:feed")
        else:
            self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_image_info_in_a_v2_registry(ansible):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        found = ansible.module("booking.aws.container_image_info",
                               {"repository": "app", "tag": "abc123", "registry": url})
        assert found["exists"] is True, found
        assert found["digest"] == "sha256:feed", found
        assert found["image"] == f"127.0.0.1:{server.server_port}/app:abc123"
        missing = ansible.module("booking.aws.container_image_info",
                                 {"repository": "app", "tag": "other", "registry": url})
        assert missing["exists"] is False
    finally:
        server.shutdown()


def test_ecr_login_token_decodes_the_registry_login(ansible, fresh_emulator):
    login = ansible.module("booking.aws.ecr_login_token", {"registry_id": None})
    assert login["changed"] is False
    assert login["username"] == "AWS"
    assert login["password"]
    assert login["registry"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"


# --- a new task read back at once (issue 15, item 5) --------------------------------------------

LAG = 3.0  # seconds a new task is MISSING from DescribeTasks on the strict emulator


@pytest.fixture(scope="module")
def lagging(tmp_path_factory):
    """(runner, client factory, network) on an emulator whose DescribeTasks lags LAG s."""
    calls = tmp_path_factory.mktemp("ecs-lag") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"consistency={LAG:g}") as url:
        def client(service):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="emulator", aws_secret_access_key="emulator")
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="app", Description="app",
                                          VpcId=vpc)["GroupId"]
        client("ecs").create_cluster(clusterName=CLUSTER)
        client("ecs").register_task_definition(
            family=FAMILY, cpu="256", memory="512", networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            containerDefinitions=[{"name": "web", "image": "r/app:1", "essential": True}])
        network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group],
                                           "assignPublicIp": "DISABLED"}}
        yield AnsibleRunner(SimpleNamespace(url=url)), client, network


def test_run_task_waits_until_describe_shows_the_new_task(lagging):
    runner, client, network = lagging
    ecs = client("ecs")
    # What the module did before: run the task, then take [0] of DescribeTasks' tasks.
    started = ecs.run_task(cluster=CLUSTER, taskDefinition=FAMILY, launchType="FARGATE",
                           networkConfiguration=network)["tasks"][0]["taskArn"]
    answer = ecs.describe_tasks(cluster=CLUSTER, tasks=[started])
    assert answer["failures"] == [{"arn": started, "reason": "MISSING"}]
    with pytest.raises(IndexError):
        answer["tasks"][0]

    ok = runner.module("booking.aws.ecs_run_task", {
        "cluster": CLUSTER, "task_definition": FAMILY, "launch_type": "FARGATE",
        "network_configuration": network, "poll_interval": 1})
    assert ok["changed"] is True, ok
    assert (ok["succeeded"], ok["last_status"], ok["exit_codes"]) == (True, "STOPPED", {"web": 0})
