"""RunTask on the real data plane (tools/ecs_podman.py): the emulator runs the task definition's
containers with podman, as Fargate runs them, and reports what really happened.

Against an in-process emulator with BOOKING_EMULATOR_ECS_TASKS=podman, the image built by
tools/container/build.sh (a cache hit once test_image.py or `make image` built it), pushed to the
loopback registry (tools/container/registry.sh), which the task definition names (both fixtures
in conftest.py). The file runs
after test_image.py (by name), whose push to an empty registry is a measured figure.
Cost: about 30 s (eight tasks, the longest 5 s; the image cached).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from container_support import REPO

sys.path.insert(0, str(REPO / "tools"))
import ecs_podman  # tools/, above
from emulator import Emulator

pytestmark = pytest.mark.usefixtures("podman_ready")

FAMILY = "booking-ecs-task-test"
LOG_GROUP = "/booking-api/ecs-task-test"
SECRET_VALUE = "s3cret-not-in-any-log"
# What the container runs: it reports what it sees, then exits 3 - after 4 s, so that a task
# RUNNING is seen past strict mode's 2 s in which a new task may be missing from DescribeTasks.
PROBE = """
import os, sys, time
open('/tmp/probe', 'w').write('ok')
try:
    open('/probe', 'w')
    print('root: writable')
except OSError as error:
    print('root: read-only', error.errno)
print('uid', os.getuid())
print('greeting', os.environ['GREETING'])
print('secret matches', os.environ.get('DB_PASSWORD') == sys.argv[1])
time.sleep(4)
sys.exit(3)
"""


@pytest.fixture(scope="module")
def network(emulator: Emulator) -> dict[str, Any]:
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="tasks", Description="tasks",
                                      VpcId=vpc)["GroupId"]
    emulator.client("ecs").create_cluster(clusterName="tasks")
    emulator.client("logs").create_log_group(logGroupName=LOG_GROUP)
    emulator.client("ssm").put_parameter(Name="/booking-api/test/db-password",
                                         Type="SecureString", Value=SECRET_VALUE)
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}


def _register(emulator: Emulator, image: str, secret: str, **container: Any) -> str:
    definition = {
        "name": "probe", "image": image, "essential": True,
        "command": ["python", "-c", PROBE, SECRET_VALUE],
        "environment": [{"name": "GREETING", "value": "from the task definition"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": secret}],
        "readonlyRootFilesystem": True,
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "probe"}},
        **container,
    }
    return emulator.client("ecs").register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[definition],
        volumes=[{"name": "tmp"}])["taskDefinition"]["taskDefinitionArn"]


def _run(emulator: Emulator, network: dict[str, Any], arn: str, until: str = "STOPPED",
         **overrides: Any) -> dict:
    """RunTask, then DescribeTasks until the task is `until` (or STOPPED); every status seen on
    the way is recorded."""
    ecs = emulator.client("ecs")
    [task] = ecs.run_task(cluster="tasks", taskDefinition=arn, launchType="FARGATE",
                          networkConfiguration=network, **overrides)["tasks"]
    seen = [task["lastStatus"]]
    deadline = time.monotonic() + 180
    while task["lastStatus"] not in (until, "STOPPED"):
        assert time.monotonic() < deadline, f"still {task['lastStatus']} after 180 s"
        time.sleep(0.5)
        described = ecs.describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"]
        if not described:  # strict mode's eventual consistency: not visible yet, as on AWS
            continue
        [task] = described
        if seen[-1] != task["lastStatus"]:
            seen.append(task["lastStatus"])
    task["seen"] = seen
    return task


def _log_lines(emulator: Emulator, task: dict, marker: str) -> list[str]:
    """The task's log stream in the emulator's CloudWatch Logs, once `marker` is in it
    (shipped as written, so it may lag the task's end a little)."""
    stream = f"probe/probe/{task['taskArn'].rsplit('/', 1)[-1]}"
    logs = emulator.client("logs")
    deadline = time.monotonic() + 10
    while True:
        lines = [e["message"] for e in logs.get_log_events(
            logGroupName=LOG_GROUP, logStreamName=stream)["events"]]
        if any(marker in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_a_task_runs_its_container_to_its_real_exit_code(emulator, network, registry_image):
    arn = _register(emulator, registry_image, "/booking-api/test/db-password")
    task = _run(emulator, network, arn)
    assert task["seen"][0] == "PROVISIONING"
    assert "RUNNING" in task["seen"], task["seen"]
    [container] = task["containers"]
    assert container["exitCode"] == 3
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    lines = _log_lines(emulator, task, "secret matches")
    # readonlyRootFilesystem, the image's user, /tmp as Fargate mounts a task volume the image
    # declares, the environment and the secret from the Parameter Store; none of it in a log.
    assert "root: read-only 30" in lines, lines
    assert "uid 1000" in lines
    assert "greeting from the task definition" in lines
    assert "secret matches True" in lines
    assert not any(SECRET_VALUE in line for line in lines if "secret matches" not in line)


def test_overrides_replace_the_command_and_add_environment(emulator, network, registry_image):
    arn = _register(emulator, registry_image, "arn:aws:ssm:us-east-1:123456789012:parameter/"
                    "booking-api/test/db-password")
    task = _run(emulator, network, arn, overrides={"containerOverrides": [{
        "name": "probe", "command": ["python", "-c", "import os, sys; print('override', "
                                     "os.environ['EXTRA']); sys.exit(0)"],
        "environment": [{"name": "EXTRA", "value": "given at RunTask"}]}]})
    assert task["containers"][0]["exitCode"] == 0
    assert "override given at RunTask" in _log_lines(emulator, task, "override")


def test_a_missing_parameter_fails_the_task_before_it_starts(emulator, network,
                                                             registry_image):
    arn = _register(emulator, registry_image, "/booking-api/test/no-such-parameter")
    task = _run(emulator, network, arn)
    assert "RUNNING" not in task["seen"], task["seen"]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
        "retried 1 time(s): invalid ssm parameters: /booking-api/test/no-such-parameter")


def test_an_image_not_in_the_registry_cannot_be_pulled(emulator, network, registry_image):
    arn = _register(emulator, registry_image.rsplit(":", 1)[0] + ":not-pushed",
                    "/booking-api/test/db-password")
    task = _run(emulator, network, arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError:"), task["stoppedReason"]


def test_a_log_group_that_does_not_exist_fails_the_task(emulator, network, registry_image):
    arn = _register(emulator, registry_image, "/booking-api/test/db-password",
                    logConfiguration={"logDriver": "awslogs", "options": {
                        "awslogs-group": "/booking-api/no-such-group",
                        "awslogs-region": "us-east-1", "awslogs-stream-prefix": "probe"}})
    task = _run(emulator, network, arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert "The specified log group does not exist" in task["stoppedReason"]


def test_a_task_reaches_its_database_by_the_endpoint_name(emulator, network, registry_image):
    """The DB instance is a real server (tools/rds_postgres.py) and the task connects to it as
    the app does on AWS: the endpoint name, the master password from a secret."""
    rds = emulator.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="booking-task-db", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="booking_admin", MasterUserPassword=SECRET_VALUE,
                           DBName="booking")
    endpoint = rds.describe_db_instances(DBInstanceIdentifier="booking-task-db")[
        "DBInstances"][0]["Endpoint"]
    try:
        arn = _register(emulator, registry_image, "/booking-api/test/db-password", command=[
            "python", "-c", "import os, psycopg; print('connected to', psycopg.connect("
            "host=os.environ['DB_HOST'], port=int(os.environ['DB_PORT']), dbname='booking', "
            "user='booking_admin', password=os.environ['DB_PASSWORD']).execute("
            "'select current_database()').fetchone()[0])"],
            environment=[{"name": "DB_HOST", "value": endpoint["Address"]},
                         {"name": "DB_PORT", "value": str(endpoint["Port"])}])
        task = _run(emulator, network, arn)
        assert task["containers"][0]["exitCode"] == 0, _log_lines(emulator, task, "connected")
        assert "connected to booking" in _log_lines(emulator, task, "connected")
    finally:
        rds.delete_db_instance(DBInstanceIdentifier="booking-task-db", SkipFinalSnapshot=True)


SLEEPER = ["python", "-c", "import time; time.sleep(300)"]  # PID 1: SIGTERM does not end it


def _running(emulator: Emulator, network: dict[str, Any], arn: str) -> dict:
    """RunTask of the sleeper, once DescribeTasks shows it RUNNING."""
    task = _run(emulator, network, arn, until="RUNNING")
    assert task["lastStatus"] == "RUNNING", task
    return task


def test_stop_task_stops_the_containers_after_their_stop_timeout(emulator, network,
                                                                 registry_image):
    arn = _register(emulator, registry_image, "/booking-api/test/db-password",
                    command=SLEEPER, stopTimeout=2)
    task = _running(emulator, network, arn)
    ecs = emulator.client("ecs")
    asked = time.monotonic()
    stopping = ecs.stop_task(cluster="tasks", task=task["taskArn"],
                             reason="Stopped by the test")["task"]
    assert stopping["desiredStatus"] == "STOPPED"
    assert stopping["lastStatus"] != "STOPPED"  # the containers have not exited yet
    while task["lastStatus"] != "STOPPED":
        assert time.monotonic() - asked < 60, task["lastStatus"]
        time.sleep(0.3)
        [task] = ecs.describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"]
    assert time.monotonic() - asked >= 2, "SIGKILL came before the stopTimeout"
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "Stopped by the test"
    assert task["containers"][0]["exitCode"] == 137  # SIGKILL: PID 1 ignored SIGTERM


def test_the_emulator_stopping_stops_its_tasks(emulator, network, registry_image):
    arn = _register(emulator, registry_image, "/booking-api/test/db-password",
                    command=SLEEPER, stopTimeout=1)
    task = _running(emulator, network, arn)
    ecs_podman.stop_all(timeout=60)  # what Emulator.stop() does first
    [task] = emulator.client("ecs").describe_tasks(cluster="tasks",
                                                   tasks=[task["taskArn"]])["tasks"]
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "UserInitiated"


def test_nothing_is_left_behind(emulator, network, registry_image):
    """After the tasks above: no container, volume or mount directory of theirs remains.

    Theirs only: the other container-test worker runs a stack of its own meanwhile (its task
    containers and volumes carry its emulator's PID, ours this process's)."""
    mine = f"label={ecs_podman.EMULATOR_LABEL}={os.getpid()}"
    names = ecs_podman.podman("ps", "--all", "--filter", mine, "--format", "{{.Names}}")
    assert names.stdout.split() == []
    volumes = ecs_podman.podman("volume", "ls", "--filter", mine, "--format", "{{.Name}}")
    assert volumes.stdout.split() == []
    task_ids = {task.id[:12] for task in ecs_podman.RUNNING_TASKS.values()}
    assert task_ids, "no task of this module was run"
    left = [p for p in Path(tempfile.gettempdir()).glob("ecs-*") if p.name[4:16] in task_ids]
    assert left == []



# Counts loop turns for 4 s of wall time: the CPU this process got, in a unit both sides share.
SPIN = "import time\nt = time.time(); n = 0\nwhile time.time() - t < 4: n += 1\nprint('spins', n)"


def test_a_task_gets_its_cpu_while_the_host_is_busy(emulator, network, registry_image):
    """Fargate reserves a task's vCPU; here the tasks' containers share two cores with the test
    suite. Eight busy host sessions (as many as `make test` runs beside the container tests): a
    1-vCPU task still gets most of a core, several times what one host session gets in the same
    seconds. Before ecs_podman.reserve_task_cpu, all tasks together weighed as one host session
    and got a fifth of a core (their gunicorns then missed health checks). Cost: about 10 s."""
    arn = emulator.client("ecs").register_task_definition(
        family=FAMILY + "-cpu", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="1024", memory="512", containerDefinitions=[{
            "name": "probe", "image": registry_image, "essential": True,
            "command": ["python", "-c", SPIN],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": LOG_GROUP, "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "probe"}}}])["taskDefinition"]["taskDefinitionArn"]
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             start_new_session=True) for _ in range(8)]
    try:
        ecs = emulator.client("ecs")
        [task] = ecs.run_task(cluster="tasks", taskDefinition=arn, launchType="FARGATE",
                              networkConfiguration=network)["tasks"]
        deadline = time.monotonic() + 120
        while True:  # the host's own spin starts with the container's
            described = ecs.describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"]
            if described and described[0]["lastStatus"] in ("RUNNING", "STOPPED"):
                break
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.2)
        host = subprocess.run([sys.executable, "-c", SPIN], capture_output=True, text=True,
                              start_new_session=True, check=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    task = _run_until_stopped(emulator, task)
    [line] = [line for line in _log_lines(emulator, task, "spins") if line.startswith("spins")]
    in_task, on_host = int(line.split()[1]), int(host.stdout.split()[1])
    assert in_task > 3 * on_host, (in_task, on_host)


def _run_until_stopped(emulator: Emulator, task: dict) -> dict:
    ecs = emulator.client("ecs")
    deadline = time.monotonic() + 60
    while True:
        described = ecs.describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"]
        if described and described[0]["lastStatus"] == "STOPPED":
            return described[0]
        assert time.monotonic() < deadline, "the task did not stop"
        time.sleep(0.5)
