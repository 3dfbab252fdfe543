#!/usr/bin/env python3
"""Run a command in a running task of an ECS service (make exec SERVICE=web CMD='...').

playbooks/exec.yml resolves the environment's names (cluster, service, container) and how to
reach its API (region, endpoint) into a JSON file; this finds a RUNNING task of the service and
runs the command in it, attached to the terminal:

* on AWS with ECS Exec (``aws ecs execute-command --interactive``: the AWS CLI and its Session
  Manager plugin on this machine, ``ecs_service_exec_enabled: true`` in the environment);
* on the local emulator's real data plane, where each task container is a podman container named
  ``ecs-<first 12 of the task id>-<container>`` (tools/ecs_podman.py), with ``podman exec``.

Exits with the command's exit code; 2 when no task runs or the way in is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import boto3

TOOLS = Path(__file__).resolve().parent


def running_task(target: dict[str, Any]) -> str | None:
    """The ARN of a RUNNING task of the service, or None."""
    # The local emulator checks no credentials (the local inventory's are dummies too).
    dummy = ({"aws_access_key_id": "emulator", "aws_secret_access_key": "emulator"}
             if target["local"] else {})
    ecs = boto3.client("ecs", region_name=target["region"],
                       endpoint_url=target.get("endpoint_url") or None, **dummy)
    tasks = ecs.list_tasks(cluster=target["cluster"], serviceName=target["service"],
                           desiredStatus="RUNNING")["taskArns"]
    if not tasks:
        return None
    described = ecs.describe_tasks(cluster=target["cluster"], tasks=tasks)["tasks"]
    running = sorted(t["taskArn"] for t in described if t.get("lastStatus") == "RUNNING")
    return running[0] if running else None


def command_line(target: dict[str, Any], task_arn: str, command: str,
                 tty: bool) -> list[str]:
    """What to exec (pure: tests/test_ecs_exec.py)."""
    if target["local"]:
        sys.path.insert(0, str(TOOLS))
        import ecs_podman  # the project's podman, its storage and containers.conf

        name = f"ecs-{task_arn.rsplit('/', 1)[-1][:12]}-{target['container']}"
        return [*ecs_podman.PODMAN, "exec", "-i", *(["-t"] if tty else []), name,
                "sh", "-c", command]
    return ["aws", "ecs", "execute-command", "--region", target["region"],
            "--cluster", target["cluster"], "--task", task_arn,
            "--container", target["container"], "--interactive", "--command", command]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="the JSON file playbooks/exec.yml wrote")
    parser.add_argument("command", help="the command, as one string (run by sh -c locally)")
    args = parser.parse_args(argv)
    target = json.loads(args.target.read_text())
    task = running_task(target)
    if task is None:
        print(f"No running task of {target['service']} in {target['cluster']}.", file=sys.stderr)
        return 2
    line = command_line(target, task, args.command, sys.stdin.isatty())
    if not target["local"] and shutil.which("aws") is None:
        print("ECS Exec needs the AWS CLI and its Session Manager plugin on this machine "
              "(and ecs_service_exec_enabled: true in the environment).", file=sys.stderr)
        return 2
    print(f"# {target['service']}: task {task.rsplit('/', 1)[-1]}", file=sys.stderr)
    os.execvp(line[0], line)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
