"""tools/ecs_exec.py (make exec): the command line that attaches a command to a running task.

Pure: the way in on AWS (ECS Exec) and locally (podman exec into the task's container, named as
tools/ecs_podman.py names it). The run on the real data plane: tests/container/test_release_real.py.
"""

from __future__ import annotations

import ecs_exec  # tools/, on the path (tests/conftest.py)
import ecs_podman

TASK = "arn:aws:ecs:us-east-1:123456789012:task/booking-api-local-cluster/0123456789abcdef0123"
TARGET = {"cluster": "booking-api-local-cluster", "service": "booking-api-local-web",
          "container": "web", "region": "us-east-1", "endpoint_url": "", "local": True}


def test_locally_the_command_runs_in_the_tasks_podman_container():
    line = ecs_exec.command_line(TARGET, TASK, "python manage.py check --deploy", tty=False)
    assert line == [*ecs_podman.PODMAN, "exec", "-i", "ecs-0123456789ab-web", "sh", "-c",
                    "python manage.py check --deploy"]
    assert "-t" in ecs_exec.command_line(TARGET, TASK, "sh", tty=True)


def test_on_aws_it_is_ecs_exec_interactive():
    line = ecs_exec.command_line({**TARGET, "local": False}, TASK, "python manage.py shell",
                                 tty=True)
    assert line == ["aws", "ecs", "execute-command", "--region", "us-east-1", "--cluster",
                    "booking-api-local-cluster", "--task", TASK, "--container", "web",
                    "--interactive", "--command", "python manage.py shell"]
