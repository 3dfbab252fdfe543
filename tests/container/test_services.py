"""ECS services on the real data plane (tools/ecs_services.py): the scheduler runs a service's
tasks as containers, keeps the desired count, rolls deployments out as ECS does and fails them
with the circuit breaker.

Each service here runs a small HTTP server from the app's image (the image fixture of
conftest.py), with a container health check; the checks' 5 s interval (ECS's minimum) sets the
pace. Cost: about 90 s, two tasks at a time at most (each about 60 MB of memory, little CPU).
"""

from __future__ import annotations

import contextlib
import ipaddress
import sys
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from container_support import REPO

sys.path.insert(0, str(REPO / "tools"))
import ecs_podman  # tools/, above
from emulator import Emulator

pytestmark = pytest.mark.usefixtures("podman_ready")

CLUSTER = "services"
FAMILY = "booking-service-test"
PORT = 8000
# A web server answering every GET with its version (an environment variable).
SERVER = """
import http.server, os
class Version(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ['VERSION'].encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('0.0.0.0', 8000), Version).serve_forever()
"""
HEALTHY = ["CMD", "python", "-c",
           "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=2)"]


@pytest.fixture(scope="module")
def subnets(emulator: Emulator) -> dict[str, Any]:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
    ids = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
           for cidr in ("10.31.1.0/24", "10.31.2.0/24")]
    emulator.client("ecs").create_cluster(clusterName=CLUSTER)
    return {"ids": ids, "cidrs": {ids[0]: "10.31.1.0/24", ids[1]: "10.31.2.0/24"},
            "network": {"awsvpcConfiguration": {"subnets": ids}}}


def _definition(emulator: Emulator, image: str, version: str, **container: Any) -> str:
    definition = {"name": "web", "image": image, "essential": True,
                  "command": ["python", "-c", SERVER],
                  "environment": [{"name": "VERSION", "value": version}],
                  "portMappings": [{"containerPort": PORT}],
                  "healthCheck": {"command": HEALTHY, "interval": 5, "timeout": 3, "retries": 2},
                  "stopTimeout": 2, **container}
    return emulator.client("ecs").register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[definition])[
        "taskDefinition"]["taskDefinitionArn"]


def _service(emulator: Emulator, name: str) -> dict:
    return emulator.client("ecs").describe_services(cluster=CLUSTER, services=[name])[
        "services"][0]


def _wait(emulator: Emulator, name: str, done: Callable[[dict], bool], timeout: float = 120,
          what: str = "") -> dict:
    deadline = time.monotonic() + timeout
    while True:
        service = _service(emulator, name)
        if done(service):
            return service
        assert time.monotonic() < deadline, (what, service["deployments"],
                                             [e["message"] for e in service["events"][:10]])
        time.sleep(1)


def _rollout(service: dict) -> str:
    return service["deployments"][0]["rolloutState"]


def _tasks(emulator: Emulator, name: str) -> list[dict]:
    ecs = emulator.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=name)["taskArns"]
    return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []


def _ip(task: dict) -> str:
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    return details["privateIPv4Address"]


def _get(ip: str) -> str:
    with urllib.request.urlopen(f"http://{ip}:{PORT}/", timeout=5) as response:
        return response.read().decode()


def _messages(service: dict) -> list[str]:
    return [e["message"] for e in service["events"]]


@pytest.fixture(scope="module")
def web(emulator: Emulator, subnets: dict, registry_image: str) -> str:
    """A service of two healthy tasks, rolled out (the tests below change it in turn)."""
    emulator.client("ecs").create_service(
        cluster=CLUSTER, serviceName="web", desiredCount=2, launchType="FARGATE",
        taskDefinition=_definition(emulator, registry_image, "v1"),
        networkConfiguration=subnets["network"],
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200,
                                 "deploymentCircuitBreaker": {"enable": True,
                                                              "rollback": True}})
    _wait(emulator, "web", lambda s: _rollout(s) == "COMPLETED", what="first rollout")
    return "web"


def test_a_service_runs_its_desired_count_of_healthy_tasks(emulator, subnets, web):
    service = _service(emulator, web)
    assert service["runningCount"] == 2
    tasks = [t for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"]
    assert len(tasks) == 2
    assert {t["healthStatus"] for t in tasks} == {"HEALTHY"}
    assert {t["group"] for t in tasks} == {"service:web"}
    # awsvpc: each task its own private IP, in its subnet, one task per subnet in turn; the
    # container really answers there.
    ips = {_ip(t) for t in tasks}
    assert len(ips) == 2
    for task in tasks:
        subnet = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}["subnetId"]
        assert ipaddress.ip_address(_ip(task)) in ipaddress.ip_network(subnets["cidrs"][subnet])
        assert _get(_ip(task)) == "v1"
    messages = _messages(service)
    assert any("has started" in m for m in messages)
    assert messages[0] == "(service web) has reached a steady state."


def test_a_killed_task_is_replaced(emulator, web):
    [victim, *_] = [t for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"]
    name = f"ecs-{victim['taskArn'].rsplit('/', 1)[-1][:12]}-web"
    assert ecs_podman.podman("kill", name).returncode == 0
    [stopped] = emulator.client("ecs").describe_tasks(cluster=CLUSTER,
                                                      tasks=[victim["taskArn"]])["tasks"]
    _wait(emulator, web, lambda s: len([t for t in _tasks(emulator, web)
                                        if t["lastStatus"] == "RUNNING"
                                        and t.get("healthStatus") == "HEALTHY"]) == 2
          and victim["taskArn"] not in {t["taskArn"] for t in _tasks(emulator, web)
                                        if t["lastStatus"] == "RUNNING"},
          what="replacement")
    [stopped] = emulator.client("ecs").describe_tasks(cluster=CLUSTER,
                                                      tasks=[victim["taskArn"]])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"


def test_a_rolling_deployment_keeps_the_healthy_minimum(emulator, web, registry_image):
    ecs = emulator.client("ecs")
    ecs.update_service(cluster=CLUSTER, service=web,
                       taskDefinition=_definition(emulator, registry_image, "v2"))
    lowest, seen_versions = 2, set()
    deadline = time.monotonic() + 120
    while True:
        service = _service(emulator, web)
        running = [t for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"]
        healthy = [t for t in running if t.get("healthStatus") == "HEALTHY"]
        lowest = min(lowest, len(healthy))
        assert len(running) <= 4  # maximumPercent 200
        for task in healthy:
            with contextlib.suppress(OSError):  # stopped between the two calls
                seen_versions.add(_get(_ip(task)))
        if len(service["deployments"]) == 1 and _rollout(service) == "COMPLETED":
            break
        assert time.monotonic() < deadline, service["deployments"]
        time.sleep(1)
    assert lowest >= 2, "fewer healthy tasks than minimumHealthyPercent 100 allows"
    assert seen_versions >= {"v1", "v2"}
    assert {_get(_ip(t)) for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"} == {
        "v2"}


def test_a_crashing_release_is_rolled_back_by_the_circuit_breaker(emulator, web,
                                                                  registry_image):
    ecs = emulator.client("ecs")
    good = _service(emulator, web)["taskDefinition"]
    crashing = _definition(emulator, registry_image, "v3", command=[
        "python", "-c", "raise SystemExit('configuration error: no such setting')"])
    ecs.update_service(cluster=CLUSTER, service=web, taskDefinition=crashing)
    failed: list[dict] = []

    def rolled_back(service: dict) -> bool:
        failed.extend(d for d in service["deployments"] if d["rolloutState"] == "FAILED")
        return (service["taskDefinition"] == good and _rollout(service) == "COMPLETED"
                and len(service["deployments"]) == 1)

    service = _wait(emulator, web, rolled_back, timeout=240, what="circuit breaker rollback")
    assert failed, "the crashing deployment was never FAILED"
    assert failed[-1]["taskDefinition"] == crashing
    assert failed[-1]["failedTasks"] >= 3  # the threshold: half of 2, at least 3
    messages = _messages(service)
    assert any("deployment failed: tasks failed to start" in m and "Rolling back" in m
               for m in messages), messages
    assert {_get(_ip(t)) for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"} == {
        "v2"}


def test_a_failing_container_health_check_replaces_the_task(emulator, web, registry_image):
    """A task whose health check fails is stopped ("Task failed container health checks") and
    its deployment fails: the tasks never became healthy."""
    ecs = emulator.client("ecs")
    sick = _definition(emulator, registry_image, "v4", healthCheck={
        "command": ["CMD", "python", "-c", "raise SystemExit(1)"], "interval": 5,
        "timeout": 3, "retries": 1})
    ecs.update_service(cluster=CLUSTER, service=web, taskDefinition=sick)
    service = _wait(emulator, web, lambda s: "failed container health checks" in " ".join(
        _messages(s)), timeout=120, what="health check")
    stopped = ecs.list_tasks(cluster=CLUSTER, serviceName=web, desiredStatus="STOPPED")
    reasons = {t["stoppedReason"] for t in ecs.describe_tasks(
        cluster=CLUSTER, tasks=stopped["taskArns"])["tasks"]} if stopped["taskArns"] else set()
    assert "Task failed container health checks" in reasons, reasons
    # The healthy v2 tasks were never stopped for it: minimumHealthyPercent 100.
    assert sum(1 for t in _tasks(emulator, web) if t["lastStatus"] == "RUNNING"
               and t.get("healthStatus") == "HEALTHY") >= 2
    del service


def test_deleting_the_service_stops_its_tasks(emulator, web):
    ecs = emulator.client("ecs")
    ecs.update_service(cluster=CLUSTER, service=web, desiredCount=0)
    ecs.delete_service(cluster=CLUSTER, service=web, force=True)
    deadline = time.monotonic() + 90
    while any(t["lastStatus"] != "STOPPED" for t in _tasks(emulator, web)):
        assert time.monotonic() < deadline
        time.sleep(1)


def test_a_reset_stops_the_services_tasks(emulator, subnets, registry_image):
    """/moto-api/reset forgets the services: their scheduling ends and their containers stop
    (the scheduler's thread lives on for the next services)."""
    ecs = emulator.client("ecs")
    ecs.create_service(cluster=CLUSTER, serviceName="doomed", desiredCount=1,
                       launchType="FARGATE", networkConfiguration=subnets["network"],
                       taskDefinition=_definition(emulator, registry_image, "v5"))
    [task] = _wait(emulator, "doomed", lambda s: s["runningCount"] == 1 and _tasks(
        emulator, "doomed"), what="doomed service running") and _tasks(emulator, "doomed")
    name = f"ecs-{task['taskArn'].rsplit('/', 1)[-1][:12]}-web"
    emulator.reset()
    deadline = time.monotonic() + 60
    while name in ecs_podman.podman("ps", "--all", "--format", "{{.Names}}").stdout.split():
        assert time.monotonic() < deadline, "the container outlived the reset"
        time.sleep(1)
