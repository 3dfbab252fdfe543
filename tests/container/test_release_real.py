"""Releases on the real data plane: site.yml and deploy.yml run the app's image for real behind
the local load balancer, against real PostgreSQL and Redis (issue 17), and the release sees what
AWS would show it.

One stack for the module: an emulator process of its own with every real-data-plane switch on
(tasks as containers, DB instance and replication group as servers, the load balancer a proxy,
the Twilio stub), site.yml from empty releasing the app's image from the loopback registry. The
tests then release images derived from it (a new revision, a migration that fails, a crashing
command, an image without its /tmp VOLUME) and change the environment (a missing parameter, a
served name Django refuses), in file order, each leaving the good release in place but the last.
Cost: about 6 min wall on two
cores, most of it waiting on ECS's timings (the local inventory's: container and load balancer
health checks every 5 s, 5 s of connection draining), about 2.5 min of CPU; up to four app
containers at a time (about 120 MB each).
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from container_support import REPO, TOOLS, container_env

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools"))
import ecs_podman  # tools/, above
import local_ca
import local_net
from harness import AnsibleRunner, PlaybookRun, RemoteEmulator, emulator_process, local_vault_values

pytestmark = pytest.mark.usefixtures("podman_ready")

PREFIX = "booking-api-local"
CLUSTER = f"{PREFIX}-cluster"
WEB = f"{PREFIX}-web"
SERVED = "api.local.booking-api.example.com"
DB = f"{PREFIX}-postgres"
# The emulator's transaction log upload interval here (AWS: about 5 minutes, the default).
LOG_UPLOAD_SECONDS = 5
REAL_DATA_PLANE = {"BOOKING_EMULATOR_ECS_TASKS": "podman", "BOOKING_EMULATOR_RDS": "postgres",
                   "BOOKING_EMULATOR_ELASTICACHE": "redis", "BOOKING_EMULATOR_ELB": "proxy",
                   "BOOKING_EMULATOR_TWILIO": "stub", "BOOKING_EMULATOR_STRICT": "off",
                   "BOOKING_EMULATOR_RDS_LOG_UPLOAD_SECONDS": str(LOG_UPLOAD_SECONDS)}


class Stack:
    """The module's environment: its emulator, an Ansible runner aimed at it, the registry."""

    def __init__(self, emulator: RemoteEmulator, registry: str, base_image: str) -> None:
        self.emulator, self.registry, self.base_image = emulator, registry, base_image
        self.ansible = AnsibleRunner(emulator)
        self.port = registry.rsplit(":", 1)[1]

    def playbook(self, name: str, tag: str = "", timeout: int = 900,
                 **extra_vars: Any) -> PlaybookRun:
        if tag:
            extra_vars["image_tag"] = tag
        return self.ansible.playbook(name, extra_vars=extra_vars, timeout=timeout, env={
            "BOOKING_EMULATOR_DATA_PLANE": "real", "REGISTRY_PORT": self.port})

    def push(self, tag: str, *containerfile_lines: str) -> str:
        """The app's image, changed by `containerfile_lines`, in the registry as `tag`."""
        remote = f"{self.registry}/{PREFIX}:{tag}"
        with tempfile.TemporaryDirectory() as context:
            (Path(context) / "Containerfile").write_text(
                "\n".join([f"FROM {self.base_image}", *containerfile_lines]) + "\n")
            built = ecs_podman.podman("build", "--format", "docker", "-t", remote, context,
                                      timeout=300)
        assert built.returncode == 0, built.stderr[-2000:]
        pushed = ecs_podman.podman("push", "--quiet", "--tls-verify=false", remote)
        assert pushed.returncode == 0, pushed.stderr
        return tag

    def push_without_tmp_volume(self, tag: str) -> str:
        """The app's image as if its Dockerfile had lost ``VOLUME ["/tmp"]``, in the registry as
        `tag`: a derived image cannot drop a declared volume, buildah's ``config --volume
        /tmp-`` can. Fargate then mounts the task's /tmp volume root-owned, mode 0755."""
        remote = f"{self.registry}/{PREFIX}:{tag}"
        script = ('set -euo pipefail; source tools/container/common.sh; '
                  'c=$(buildah from --pull=never "$1"); buildah config --volume /tmp- "$c"; '
                  'buildah commit --quiet --format docker "$c" "$2" >/dev/null; '
                  'buildah rm "$c" >/dev/null')
        built = subprocess.run(["bash", "-c", script, "-", self.base_image, remote], cwd=REPO,
                               capture_output=True, text=True, timeout=300, check=False)
        assert built.returncode == 0, built.stderr[-2000:]
        pushed = ecs_podman.podman("push", "--quiet", "--tls-verify=false", remote)
        assert pushed.returncode == 0, pushed.stderr
        return tag

    def image_volumes(self, tag: str) -> set[str]:
        remote = f"{self.registry}/{PREFIX}:{tag}"
        config = json.loads(ecs_podman.podman("image", "inspect", remote).stdout)[0]["Config"]
        return set(config.get("Volumes") or {})

    def rolled_back_to(self, task_definition: str) -> dict[str, Any]:
        """The web service once ECS's rollback has run on: the previous revision, healthy."""
        deadline = time.monotonic() + 300
        while True:
            web = self.web()
            if (web["taskDefinition"] == task_definition and len(web["deployments"]) == 1
                    and web["deployments"][0]["rolloutState"] == "COMPLETED"):
                return web
            assert time.monotonic() < deadline, web["deployments"]
            time.sleep(2)

    def web(self) -> dict[str, Any]:
        return self.emulator.client("ecs").describe_services(cluster=CLUSTER, services=[WEB])[
            "services"][0]


def get(path: str, timeout: float = 5) -> tuple[int, Any]:
    """GET https://<served name><path> through the local load balancer, trusting the local CA
    (the emulator maps the name in /etc/hosts)."""
    context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
    try:
        with urllib.request.urlopen(f"https://{SERVED}{path}", timeout=timeout,
                                    context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.fixture(scope="module")
def stack(registry: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = local_net.other_emulators_serving(SERVED)
    if running:  # the served name would resolve to that emulator's load balancer, not ours
        pytest.fail(f"another emulator (PID {running[0]}) serves {SERVED} on the real data "
                    "plane; stop it first (make down)")
    build = subprocess.run([str(TOOLS / "build.sh")], capture_output=True, text=True,
                           timeout=900, env=container_env(IMAGE_BUILDER="podman"), check=False)
    assert build.returncode == 0, build.stderr[-3000:]
    calls = tmp_path_factory.mktemp("release-real") / "calls.jsonl"
    # A deployment minute of ECS's blue/green lasts 6 s (the emulator's test knob): the bake
    # times below are minutes of the inventory's, seconds here.
    with emulator_process(calls, **REAL_DATA_PLANE, BOOKING_EMULATOR_ECS_MINUTE_SECONDS="6") as url:
        stack = Stack(RemoteEmulator(url, calls), registry, build.stdout.strip().splitlines()[-1])
        stack.push("good")
        run = stack.playbook("site.yml", "good", timeout=1500)
        assert run.rc == 0, run.explain()
        yield stack


def test_site_releases_through_the_load_balancer(stack):
    status, body = get("/health/")
    assert status == 200
    assert body["status"] == "ok"
    assert get("/api/salons/")[0] == 200  # host validation: the served name is allowed
    web = stack.web()
    assert web["runningCount"] == web["desiredCount"]
    health = stack.emulator.client("elbv2").describe_target_health(
        TargetGroupArn=web["loadBalancers"][0]["targetGroupArn"])["TargetHealthDescriptions"]
    assert [t["TargetHealth"]["State"] for t in health] == ["healthy"] * web["desiredCount"]


def test_a_second_site_run_changes_nothing_and_keeps_serving(stack):
    """The alb role once deregistered every task ECS had registered (elb_target_group's
    modify_targets defaults to true): the re-run's smoke test then met a 503."""
    run = stack.playbook("site.yml", "good")
    assert run.rc == 0, run.explain()
    assert run.changed == 0, run.explain()
    assert get("/api/salons/")[0] == 200


def test_run_command_runs_a_management_command_in_the_current_release(stack):
    """playbooks/run-command.yml: the demo data lands in the real database; a failing command
    fails the run with its exit code."""
    seeded = stack.ansible.playbook("playbooks/run-command.yml", extra_vars={
        "release_command": ["python", "manage.py", "seed_demo"]}, env={
        "BOOKING_EMULATOR_DATA_PLANE": "real", "REGISTRY_PORT": stack.port})
    assert seeded.rc == 0, seeded.explain()
    status, salons = get("/api/salons/")
    assert status == 200
    assert "Demo Salon Berlin" in json.dumps(salons)
    failed = stack.ansible.playbook("playbooks/run-command.yml", extra_vars={
        "release_command": ["python", "-c", "raise SystemExit(3)"]}, env={
        "BOOKING_EMULATOR_DATA_PLANE": "real", "REGISTRY_PORT": stack.port})
    assert failed.rc != 0
    assert "exit codes {'migrate': 3}" in failed.output, failed.output[-3000:]


def test_status_logs_and_exec_read_the_running_stack(stack, tmp_path):
    """make status, make logs SERVICE=web SINCE=5m and make exec SERVICE=web CMD=... on the
    converged stack (reads only): the status says what DescribeServices says, the logs show a
    request just made through the load balancer, the command runs in a web task's container."""
    status = stack.playbook("playbooks/status.yml")
    assert status.rc == 0, status.explain()
    assert status.changed == 0, status.explain()
    web = stack.web()
    record = json.loads(stack.emulator.client("ssm").get_parameter(
        Name="/booking-api/local/release/current")["Parameter"]["Value"])
    assert record["tag"] in status.output
    assert f"{web['runningCount']}/{web['desiredCount']} running" in status.output, status.output

    probe = f"probe-{time.time_ns()}"
    assert get(f"/health/?probe={probe}")[0] == 200
    logs = stack.emulator.client("logs")
    deadline = time.monotonic() + 60  # the tasks' log shipper sends every few seconds
    while not [e for e in logs.filter_log_events(logGroupName=f"/ecs/{PREFIX}",
                                                 filterPattern=f'"{probe}"')["events"]]:
        assert time.monotonic() < deadline, "the request never reached CloudWatch Logs"
        time.sleep(2)
    shown = stack.ansible.playbook("playbooks/logs.yml", extra_vars={
        "logs_service": "web", "logs_since": "5m"}, env={"BOOKING_EMULATOR_DATA_PLANE": "real"})
    assert shown.rc == 0, shown.explain()
    # gunicorn's JSON access line: "path": "/health/", "query": "probe=..."
    lines = [line for line in shown.output.splitlines() if probe in line]
    assert any("/health/" in line for line in lines), shown.output[-3000:]

    target = tmp_path / "exec-target.json"
    found = stack.ansible.playbook("playbooks/exec.yml", extra_vars={
        "exec_service": "web", "exec_target_file": str(target)},
        env={"BOOKING_EMULATOR_DATA_PLANE": "real"})
    assert found.rc == 0, found.explain()
    ran = subprocess.run([sys.executable, str(REPO / "tools/ecs_exec.py"), str(target),
                          "python manage.py check --deploy"], capture_output=True, text=True,
                         timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "System check identified" in ran.stdout + ran.stderr, ran.stdout + ran.stderr
    assert f"# {WEB}: task " in ran.stderr


class TrafficLoop:
    """Requests through the load balancer, back to back, while a release runs."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str | None]] = []
        self.times: list[float] = []  # time.time() of each answer: comparable to Call.at
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                status, body = get("/health/")
                self.answers.append((status, (body or {}).get("revision")))
            except OSError as error:  # a refused or reset connection counts as an error too
                self.answers.append((0, repr(error)))
            self.times.append(time.time())
            time.sleep(0.05)

    def __enter__(self) -> TrafficLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_a_deploy_moves_real_traffic_without_an_error(stack):
    tag = stack.push("next", "ENV BOOKING_REVISION=next")
    with TrafficLoop() as traffic:
        run = stack.playbook("playbooks/deploy.yml", tag)
        time.sleep(2)  # a few answers after the release
    assert run.rc == 0, run.explain()
    errors = [answer for answer in traffic.answers if answer[0] != 200]
    assert errors == [], f"{len(errors)} failed of {len(traffic.answers)}: {errors[:5]}"
    revisions = [revision for _, revision in traffic.answers]
    assert "next" in revisions
    assert revisions[0] != "next"
    assert revisions[-20:] == ["next"] * 20  # it ends on the new version


def _unchanged(stack: Stack, task_definition: str) -> None:
    """The release stopped before the rollout: the services and the record have not moved."""
    assert stack.web()["taskDefinition"] == task_definition
    record = json.loads(stack.emulator.client("ssm").get_parameter(
        Name="/booking-api/local/release/current")["Parameter"]["Value"])
    assert record["tag"] == "next"
    assert get("/health/")[1]["revision"] == "next"


def test_a_migration_that_exits_1_stops_the_release(stack):
    before = stack.web()["taskDefinition"]
    tag = stack.push("badmigrate", "ENV DJANGO_SETTINGS_MODULE=booking_api.no_such_settings")
    run = stack.playbook("playbooks/deploy.yml", tag)
    assert run.rc != 0
    assert "exit codes {'migrate': 1}" in run.output, run.output[-3000:]
    _unchanged(stack, before)


def test_a_secret_pointing_to_a_missing_parameter_fails_the_task_start(stack):
    ssm = stack.emulator.client("ssm")
    name = "/booking-api/local/twilio_token"
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    before = stack.web()["taskDefinition"]
    ssm.delete_parameter(Name=name)
    try:
        run = stack.playbook("playbooks/deploy.yml", stack.push("nosecret", "ENV PROBE=secret"))
    finally:
        ssm.put_parameter(Name=name, Value=value, Type="SecureString")
    assert run.rc != 0
    assert "ResourceInitializationError: unable to pull secrets" in run.output, (
        run.output[-3000:])
    assert f"invalid ssm parameters: {name}" in run.output
    _unchanged(stack, before)


def test_a_crashing_release_is_rolled_back_by_the_circuit_breaker(stack):
    before = stack.web()["taskDefinition"]
    tag = stack.push("crash", 'CMD ["python", "-c", "raise SystemExit(\'no such setting\')"]')
    run = stack.playbook("playbooks/deploy.yml", tag)
    assert run.rc != 0
    assert "circuit breaker" in run.output.lower(), run.output[-3000:]
    web = stack.rolled_back_to(before)
    messages = [event["message"] for event in web["events"]]
    assert any("deployment failed: tasks failed to start" in m and "Rolling back" in m
               for m in messages), messages[:20]
    assert get("/health/")[1]["revision"] == "next"  # production kept the good release


def test_an_image_that_cannot_write_tmp_as_fargate_mounts_it_fails_its_health_check(stack):
    """Without ``VOLUME ["/tmp"]`` the app's user cannot write the task's /tmp volume: gunicorn
    starts and serves, but /health/ answers 503, so the container health check fails, ECS
    replaces the tasks until the circuit breaker rolls the release back."""
    before = stack.web()["taskDefinition"]
    tag = stack.push_without_tmp_volume("notmpvolume")
    assert "/tmp" in stack.image_volumes("next")
    assert stack.image_volumes(tag) == set()
    run = stack.playbook("playbooks/deploy.yml", tag)
    assert run.rc != 0
    assert "circuit breaker" in run.output.lower(), run.output[-3000:]
    web = stack.rolled_back_to(before)
    messages = [event["message"] for event in web["events"]]
    assert any("failed container health checks" in m for m in messages), messages[:20]
    assert any("deployment failed" in m and "Rolling back" in m for m in messages), messages[:20]
    assert get("/health/")[1]["revision"] == "next"  # production kept the good release


def test_a_served_name_django_refuses_fails_the_smoke_test(stack):
    ssm = stack.emulator.client("ssm")
    name = "/booking-api/local/allowed_hosts"
    allowed = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    ssm.put_parameter(Name=name, Value="api.staging.booking.example.com", Overwrite=True)
    try:
        run = stack.playbook("playbooks/deploy.yml", stack.push("hosts", "ENV PROBE=hosts"))
    finally:
        ssm.put_parameter(Name=name, Value=allowed, Overwrite=True)
    assert run.rc != 0
    assert "Django refuses the host name - it is not in ALLOWED_HOSTS" in run.output, (
        run.output[-3000:])
    assert get("/api/salons/")[0] == 400  # what every client would see
    record = json.loads(ssm.get_parameter(Name="/booking-api/local/release/current")[
        "Parameter"]["Value"])
    assert record["tag"] == "next"  # not recorded


# --- blue/green and canary (issue 18): ECS's native strategies behind the real load balancer ----

BLUE_GREEN = {"release_strategy": "blue_green", "release_bake_minutes": 2}  # 12 s of bake here
# From deploy.yml's start to its deployment's bake: the migration, the worker's rollout, green's
# start and health checks, the test-traffic smoke test, a canary step - about a minute alone; over
# three under a slow machine's load (12-07: the 180 s pause of then timed out first). The pause
# times out after ecs_service_test_traffic_pause_minutes (60 x 6 s here), the playbook after 900 s.
BAKE_REACHED_WITHIN = 600


def _record_tag(stack: Stack) -> str:
    return json.loads(stack.emulator.client("ssm").get_parameter(
        Name="/booking-api/local/release/current")["Parameter"]["Value"])["tag"]


def _web_tasks(stack: Stack) -> set[str]:
    return set(stack.emulator.client("ecs").list_tasks(
        cluster=CLUSTER, serviceName=WEB, desiredStatus="RUNNING")["taskArns"])


def _newest_deployment(stack: Stack) -> dict[str, Any]:
    ecs = stack.emulator.client("ecs")
    [brief, *_] = ecs.list_service_deployments(cluster=CLUSTER, service=WEB)["serviceDeployments"]
    return ecs.describe_service_deployments(serviceDeploymentArns=[
        brief["serviceDeploymentArn"]])["serviceDeployments"][0]


def test_a_blue_green_release_moves_production_at_once_without_an_error(stack):
    serving = get("/health/")[1]["revision"]  # what the tests before left running
    tag = stack.push("bg1", "ENV BOOKING_REVISION=bg1")
    with TrafficLoop() as traffic:
        run = stack.playbook("playbooks/deploy.yml", tag, **BLUE_GREEN)
        time.sleep(2)
    assert run.rc == 0, run.explain()
    errors = [answer for answer in traffic.answers if answer[0] != 200]
    assert errors == [], f"{len(errors)} failed of {len(traffic.answers)}: {errors[:5]}"
    revisions = [revision for _, revision in traffic.answers]
    first_new = revisions.index("bg1")
    assert set(revisions[:first_new]) == {serving}
    assert set(revisions[first_new:]) == {"bg1"}  # at once: never back to the old one
    deployment = _newest_deployment(stack)
    assert deployment["status"] == "SUCCESSFUL"
    assert _record_tag(stack) == "bg1"


def test_a_release_failing_on_the_test_listener_never_reaches_production(stack):
    """/health/ passes (the container and the load balancer checks), the API read does not (no
    URL answers): ECS holds the release at the test-traffic pause, the smoke test on the test
    listener fails, ROLLBACK - production answered the old version throughout."""
    before = stack.web()["taskDefinition"]
    tag = stack.push("noapi", "ENV BOOKING_REVISION=noapi", "USER root",
                     "RUN echo 'urlpatterns = []' >> /app/booking_api/urls.py", "USER 1000:1000")
    with TrafficLoop() as traffic:
        run = stack.playbook("playbooks/deploy.yml", tag, **BLUE_GREEN)
    assert run.rc != 0
    assert "The smoke test on the test listener failed" in run.output, run.output[-3000:]
    assert ":8443/api/salons/ answered HTTP 404" in run.output
    assert {revision for _, revision in traffic.answers} == {"bg1"}
    assert [answer for answer in traffic.answers if answer[0] != 200] == []
    assert _newest_deployment(stack)["status"] == "ROLLBACK_SUCCESSFUL"
    assert stack.web()["taskDefinition"] == before
    assert _record_tag(stack) == "bg1"


def test_rollback_during_the_bake_returns_traffic_to_blue_without_new_tasks(stack):
    tag = stack.push("bg2", "ENV BOOKING_REVISION=bg2")
    deploy: dict[str, PlaybookRun] = {}
    releasing = threading.Thread(target=lambda: deploy.update(run=stack.playbook(
        "playbooks/deploy.yml", tag, release_strategy="blue_green", release_bake_minutes=30)))
    with TrafficLoop() as traffic:
        releasing.start()
        deadline = time.monotonic() + BAKE_REACHED_WITHIN
        while not (releasing.is_alive() is False or (
                _newest_deployment(stack).get("lifecycleStage") == "BAKE_TIME"
                and _newest_deployment(stack)["status"] == "IN_PROGRESS")):
            assert time.monotonic() < deadline, _newest_deployment(stack)
            time.sleep(1)
        assert releasing.is_alive(), deploy["run"].explain()
        assert get("/health/")[1]["revision"] == "bg2"
        tasks = _web_tasks(stack)  # blue (bg1) and green (bg2), both running
        rollback = stack.playbook("playbooks/rollback.yml", release_strategy="blue_green")
        releasing.join(timeout=300)
        time.sleep(2)
    assert rollback.rc == 0, rollback.explain()
    assert deploy["run"].rc != 0
    assert "ROLLBACK_SUCCESSFUL" in deploy["run"].output
    # Timed from the rollback's StopServiceDeployment, not from the playbook's start: the
    # playbook's own start-up took 25 s of CI's loaded cores (2026-12-07), a rollback that
    # starts tasks would need their start and health checks (over 30 s even alone).
    stopped = max(call.at for call in stack.emulator.calls
                  if call.action == "StopServiceDeployment")
    back = next(t for t, (_, revision) in zip(traffic.times, traffic.answers, strict=True)
                if t > stopped and revision == "bg1")
    assert back - stopped < 15, f"{back - stopped:.1f} s until blue answered again"
    after = [revision for t, (_, revision) in zip(traffic.times, traffic.answers, strict=True)
             if t > back]
    assert set(after) == {"bg1"}
    assert [answer for answer in traffic.answers if answer[0] != 200] == []
    assert _web_tasks(stack) <= tasks  # no task started for the rollback
    assert _record_tag(stack) == "bg1"


def test_a_canary_whose_alarm_fires_during_the_bake_is_rolled_back_by_ecs(stack):
    serving, recorded = get("/health/")[1]["revision"], _record_tag(stack)
    tag = stack.push("canary", "ENV BOOKING_REVISION=canary")
    alarm = "booking-api-local-web-5xx-rate"
    cloudwatch = stack.emulator.client("cloudwatch")
    deploy: dict[str, PlaybookRun] = {}
    releasing = threading.Thread(target=lambda: deploy.update(run=stack.playbook(
        "playbooks/deploy.yml", tag, release_strategy="canary", release_canary_percent=50.0,
        release_canary_bake_minutes=1, release_bake_minutes=30)))
    releasing.start()
    deadline = time.monotonic() + BAKE_REACHED_WITHIN
    # The canary's own bake: the deployment before it may have ended in BAKE_TIME too.
    while (_newest_deployment(stack).get("lifecycleStage"),
           _newest_deployment(stack)["status"]) != ("BAKE_TIME", "IN_PROGRESS"):
        assert releasing.is_alive(), deploy["run"].explain()
        assert time.monotonic() < deadline, _newest_deployment(stack)
        time.sleep(1)
    baking = _newest_deployment(stack)
    assert baking["alarms"]["status"] == "MONITORING", baking["alarms"]
    try:
        # A breach lasts: the alarm is held in ALARM until ECS acts on it (a single
        # SetAlarmState could be evaluated back to OK before ECS's next look).
        while releasing.is_alive() and _newest_deployment(stack)["status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline + 300, _newest_deployment(stack)
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM",
                                       StateReason="5XX rate above the threshold (test)")
            time.sleep(1)
        releasing.join(timeout=300)
    finally:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test over")
    run = deploy["run"]
    assert run.rc != 0
    assert "ROLLBACK_SUCCESSFUL" in run.output, run.output[-3000:]
    assert alarm in run.output  # the reason names the alarm
    assert get("/health/")[1]["revision"] == serving
    assert _record_tag(stack) == recorded


# --- data (issue 19): a legacy database moved in, a point-in-time restore, the DR drill -------
# The environment's database is a real PostgreSQL whose WAL the emulator archives and "uploads"
# every LOG_UPLOAD_SECONDS (AWS: about 5 minutes), so LatestRestorableTime trails by that much.

def _customer_token() -> str:
    status, body = request("POST", "/_allauth/app/v1/auth/login",
                           {"email": "customer@example.com", "password": "demo-password-123"})
    assert status == 200, body
    return body["meta"]["access_token"]


def request(method: str, path: str, body: dict | None = None, token: str = "",
            headers: dict | None = None) -> tuple[int, Any]:
    """Any call to https://<served name><path> through the local load balancer."""
    sent = urllib.request.Request(f"https://{SERVED}{path}", method=method,
                                  headers=dict(headers or {}))
    if body is not None:
        sent.data = json.dumps(body).encode()
        sent.add_header("Content-Type", "application/json")
    if token:
        sent.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
    try:
        with urllib.request.urlopen(sent, timeout=30, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _items(path: str, token: str = "") -> list[dict[str, Any]]:
    """A list answer, paginated ({"results": [...]}) or not."""
    status, body = request("GET", path, token=token)
    assert status == 200, body
    return body["results"] if isinstance(body, dict) else body


def _book(token: str, count: int, key: str) -> list[int]:
    """`count` appointments for the demo customer, in the next free slots; their IDs."""
    salon = next(s for s in _items("/api/salons/") if s["name"] == "Demo Salon Berlin")
    haircut = next(s for s in _items(f"/api/salons/{salon['id']}/services/")
                   if s["name"] == "Haircut")
    booked: list[int] = []
    for days in range(1, 30):
        day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
        status, slots = request(
            "GET", f"/api/salons/{salon['id']}/availability?service={haircut['id']}&date={day}")
        assert status == 200, slots
        for slot in slots:
            status, body = request(
                "POST", "/api/appointments/", {"salon": salon["id"], "service": haircut["id"],
                                               "staff": slot["staff_ids"][0],
                                               "starts_at": slot["start"]},
                token=token, headers={"Idempotency-Key": f"{key}-{len(booked)}"})
            if status == 409:  # taken meanwhile (an earlier test's booking): the next slot
                continue
            assert status == 201, body
            booked.append(body["id"])
            if len(booked) == count:
                return booked
    raise AssertionError(f"only {len(booked)} free slots in 30 days")


def _appointment_ids(token: str) -> set[int]:
    return {appointment["id"] for appointment in _items("/api/appointments/?page_size=100", token)}


def _db_instances(stack: Stack) -> list[str]:
    return sorted(i["DBInstanceIdentifier"] for i in stack.emulator.client("rds")
                  .describe_db_instances()["DBInstances"])


def _wait_restorable(stack: Stack, moment: datetime) -> None:
    """Until the environment's latest restorable time has passed `moment`."""
    rds, deadline = stack.emulator.client("rds"), time.monotonic() + 4 * LOG_UPLOAD_SECONDS + 30
    while rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0][
            "LatestRestorableTime"] < moment:
        assert time.monotonic() < deadline, "the latest restorable time did not advance"
        time.sleep(1)


def _psql(stack: Stack, instance: str, user: str, password: str,
          sql: str) -> subprocess.CompletedProcess[str]:
    """A statement on a DB instance's server, at its endpoint address, as its master user."""
    endpoint = stack.emulator.client("rds").describe_db_instances(
        DBInstanceIdentifier=instance)["DBInstances"][0]["Endpoint"]["Address"]
    address = json.loads(urllib.request.urlopen(
        f"{stack.emulator.url}/_emulator/endpoints", timeout=10).read())[endpoint]
    return subprocess.run(["psql", f"postgresql://{user}@{address}:5432/booking", "-qAtc", sql],
                          env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30, check=False)


def test_migrate_data_moves_a_legacy_database_in_and_the_api_serves_it(stack):
    """A "legacy" PostgreSQL (a copy of this one, its salon renamed) copied over the environment's
    database by playbooks/migrate-data.yml: refused while the target has data, then with
    force=true the API serves the legacy data and the row counts match."""
    rds = stack.emulator.client("rds")
    rds.create_db_snapshot(DBInstanceIdentifier=DB, DBSnapshotIdentifier="legacy-seed")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="legacy-postgres",
                                             DBSnapshotIdentifier="legacy-seed")
    legacy = rds.describe_db_instances(DBInstanceIdentifier="legacy-postgres")["DBInstances"][0]
    password = local_vault_values()["vault_booking_db_password"]
    user = legacy["MasterUsername"]
    renamed = _psql(stack, "legacy-postgres", user, password, "UPDATE salon_salon SET name = "
                    "'Legacy Salon Hamburg' WHERE name = 'Demo Salon Berlin'")
    assert renamed.returncode == 0, renamed.stderr
    source = (f"postgres://{legacy['MasterUsername']}:{password}@"
              f"{legacy['Endpoint']['Address']}:5432/booking")

    refused = stack.playbook("playbooks/migrate-data.yml",
                             vault_booking_migration_source_url=source)
    assert refused.rc != 0
    assert "not empty" in refused.output, refused.output[-3000:]
    assert password not in refused.output
    copied = stack.playbook("playbooks/migrate-data.yml", force=True,
                            vault_booking_migration_source_url=source)
    assert copied.rc == 0, copied.explain()
    assert password not in copied.output
    counted = ("SELECT (SELECT count(*) FROM salon_salon), (SELECT count(*) FROM user_user), "
               "(SELECT count(*) FROM appointment_appointment)")
    legacy_counts = _psql(stack, "legacy-postgres", user, password, counted).stdout
    assert _psql(stack, DB, user, password, counted).stdout == legacy_counts
    names = {s["name"] for s in _items("/api/salons/")}
    assert "Legacy Salon Hamburg" in names
    assert "Demo Salon Berlin" not in names
    # The next tests book at the demo salon again.
    rds.delete_db_instance(DBInstanceIdentifier="legacy-postgres", SkipFinalSnapshot=True)
    rds.delete_db_snapshot(DBSnapshotIdentifier="legacy-seed")
    restored_name = stack.ansible.playbook("playbooks/run-command.yml", extra_vars={
        "release_command": ["python", "manage.py", "shell", "-c",
                            "from salon.models import Salon; Salon.objects.filter("
                            "name='Legacy Salon Hamburg').update(name='Demo Salon Berlin')"]},
        env={"BOOKING_EMULATOR_DATA_PLANE": "real", "REGISTRY_PORT": stack.port})
    assert restored_name.rc == 0, restored_name.explain()


def test_restore_to_a_noted_time_serves_exactly_the_appointments_booked_before_it(stack):
    token = _customer_token()
    before = set(_book(token, 2, "restore-before")) | _appointment_ids(token)
    time.sleep(1.1)  # the noted time falls between the two bookings, to the second
    noted = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    after = _book(token, 1, "restore-after")
    assert _appointment_ids(token) == before | set(after)
    _wait_restorable(stack, datetime.now(UTC))

    run = stack.playbook("playbooks/restore.yml", restore_time=noted.isoformat())
    assert run.rc == 0, run.explain()
    assert _appointment_ids(_customer_token()) == before  # served through the load balancer
    kept = [name for name in _db_instances(stack) if name.startswith(f"{DB}-pre-restore-")]
    assert len(kept) == 1, _db_instances(stack)

    dropped = stack.playbook("playbooks/restore.yml", restore_drop_old=True)
    assert dropped.rc == 0, dropped.explain()
    assert _db_instances(stack) == [DB]
    snapshots = {s["DBSnapshotIdentifier"] for s in stack.emulator.client("rds")
                 .describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    assert any(name.startswith(f"{kept[0]}-final-") for name in snapshots), snapshots


def test_the_dr_drill_reports_rpo_and_rto_and_leaves_nothing_behind(stack, tmp_path):
    instances = _db_instances(stack)
    reports = tmp_path / "dr-drills"
    reports.mkdir()
    first = stack.playbook("playbooks/dr-drill.yml", dr_drill_local_report_dir=str(reports))
    assert first.rc == 0, first.explain()
    [written] = list(reports.glob("*.json"))
    report = json.loads(written.read_text())
    assert report["ok"] is True, report
    assert report["scratch_deleted"] is True
    assert report["check"]["unapplied_migrations"] == []
    assert report["check"]["salons"] >= 1
    assert report["check"]["appointments_last_day"] >= 2  # the restore test's bookings
    assert 0 <= report["rpo_seconds"] <= report["rpo_target_seconds"]
    assert 0 < report["restore_seconds"] <= report["rto_seconds"] <= report["rto_target_seconds"]
    assert _db_instances(stack) == instances

    second = stack.playbook("playbooks/dr-drill.yml", dr_drill_local_report_dir=str(reports))
    assert second.rc == 0, second.explain()
    assert [p.name for p in reports.glob("*.json")] == [written.name]  # the day's report, again
    assert json.loads(written.read_text())["started_at"] != report["started_at"]
    assert _db_instances(stack) == instances
    s3 = stack.emulator.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "-backup-" in b["Name"])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dr-drills/")["Contents"]]
    assert keys == [f"dr-drills/{written.name}"]
