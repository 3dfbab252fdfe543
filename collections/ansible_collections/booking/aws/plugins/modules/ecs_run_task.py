#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a one-off ECS task and wait for it to stop, reporting its exit codes."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_run_task
short_description: Run a one-off ECS task, wait until it stops, and fail on a non-zero exit code
description:
  - Starts one task (C(RunTask)) and polls C(DescribeTasks) until it is C(STOPPED), then reports
    the exit code of every container. The task fails when an essential container exited non-zero
    or never produced an exit code (image pull failure, out of memory, ...), unless
    I(fail_on_error) is false.
  - For database migrations and other release steps. C(community.aws.ecs_task) starts a task but
    cannot wait for it to stop and read its exit code.
  - A task that DescribeTasks does not show yet (ECS answers it in C(failures) as C(MISSING) for
    a few seconds after RunTask, the ECS API being eventually consistent) is read again for up to
    30 seconds.
  - Always reports C(changed) (a task was run). In check mode nothing runs.
options:
  cluster:
    description: Cluster name or ARN.
    type: str
    required: true
  task_definition:
    description: Task definition ARN or C(family:revision).
    type: str
    required: true
  launch_type:
    description: Launch type (mutually exclusive with I(capacity_provider_strategy)).
    type: str
    choices: [FARGATE, EC2, EXTERNAL]
  capacity_provider_strategy:
    description: C(capacityProviderStrategy) as in the ECS API.
    type: list
    elements: dict
  network_configuration:
    description: C(networkConfiguration) as in the ECS API.
    type: dict
  overrides:
    description: C(overrides) as in the ECS API, e.g. a container's C(command).
    type: dict
  started_by:
    description: C(startedBy) tag of the task (up to 128 characters), e.g. the release.
    type: str
  wait:
    description: Wait for the task to stop.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the task to stop.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two reads of the task while waiting.
    type: int
    default: 6
  fail_on_error:
    description: Fail when an essential container did not exit 0.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Migrate the database with the new revision
  booking.aws.ecs_run_task:
    cluster: booking-api-prod-cluster
    task_definition: "{{ migrate_task_definition.arn }}"
    launch_type: FARGATE
    network_configuration:
      awsvpcConfiguration:
        subnets: "{{ private_subnet_ids }}"
        securityGroups: ["{{ app_security_group_id }}"]
    started_by: release-3f2c1aa
"""

RETURN = r"""
task_arn:
  description: ARN of the task (null in check mode).
  returned: always
  type: str
last_status:
  description: Last status read (C(STOPPED) once waited for).
  returned: always
  type: str
exit_codes:
  description: Exit code per container name (null where the container never exited itself).
  returned: always
  type: dict
  sample: {migrate: 0}
stop_code:
  description: ECS's stop code, e.g. C(EssentialContainerExited), C(TaskFailedToStart).
  returned: always
  type: str
stopped_reason:
  description: ECS's reason for stopping the task.
  returned: always
  type: str
succeeded:
  description: Whether every essential container exited 0.
  returned: always
  type: bool
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    read_until_found,
)

# Seconds a task just started may take to appear in DescribeTasks.
READ_TIMEOUT = 30

AWS_ERRORS: tuple[type[Exception], ...]
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    AWS_ERRORS = ()


def _describe(client: Any, cluster: str, task_arn: str) -> dict[str, Any] | None:
    """The task as DescribeTasks answers it; None while ECS answers it in `failures` (MISSING).

    The ECS API is eventually consistent (RunTask API reference): a task started a moment ago may
    be missing from DescribeTasks for a few seconds.
    """
    tasks = client.describe_tasks(aws_retry=True, cluster=cluster, tasks=[task_arn])["tasks"]
    return tasks[0] if tasks else None


def _essential_names(client: Any, task_definition: str) -> set[str]:
    definition = client.describe_task_definition(
        aws_retry=True, taskDefinition=task_definition)["taskDefinition"]
    return {c["name"] for c in definition["containerDefinitions"] if c.get("essential", True)}


def _summary(task: dict[str, Any], essential: set[str]) -> dict[str, Any]:
    codes = {c["name"]: c.get("exitCode") for c in task.get("containers", [])}
    stopped = task.get("lastStatus") == "STOPPED"
    return {
        "task_arn": task.get("taskArn"),
        "last_status": task.get("lastStatus"),
        "exit_codes": codes if stopped else {},
        "stop_code": task.get("stopCode"),
        "stopped_reason": task.get("stoppedReason"),
        "succeeded": stopped and all(codes.get(name) == 0 for name in essential if name in codes),
    }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "task_definition": {"type": "str", "required": True},
            "launch_type": {"type": "str", "choices": ["FARGATE", "EC2", "EXTERNAL"]},
            "capacity_provider_strategy": {"type": "list", "elements": "dict"},
            "network_configuration": {"type": "dict"},
            "overrides": {"type": "dict"},
            "started_by": {"type": "str"},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 1800},
            "poll_interval": {"type": "int", "default": 6},
            "fail_on_error": {"type": "bool", "default": True},
        },
        mutually_exclusive=[("launch_type", "capacity_provider_strategy")],
        supports_check_mode=True,
    )
    p = module.params
    if module.check_mode:
        module.exit_json(changed=True, task_arn=None, last_status=None, exit_codes={},
                         stop_code=None, stopped_reason=None, succeeded=False,
                         msg=f"Would run a task of {p['task_definition']}")
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    kwargs: dict[str, Any] = {"cluster": p["cluster"], "taskDefinition": p["task_definition"],
                              "count": 1}
    optional = {"launchType": p["launch_type"],
                "capacityProviderStrategy": p["capacity_provider_strategy"],
                "networkConfiguration": p["network_configuration"],
                "overrides": p["overrides"], "startedBy": p["started_by"]}
    kwargs.update({k: v for k, v in optional.items() if v is not None})
    try:
        essential = _essential_names(client, p["task_definition"])
        response = client.run_task(aws_retry=True, **kwargs)
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to run a task of {p['task_definition']}")
    if response.get("failures") or not response.get("tasks"):
        module.fail_json(msg=f"ECS could not start a task of {p['task_definition']}: "
                             f"{response.get('failures')}", changed=True)
    task = response["tasks"][0]
    task_arn = task["taskArn"]
    deadline = time.monotonic() + p["wait_timeout"]
    while p["wait"] and task.get("lastStatus") != "STOPPED":
        if time.monotonic() >= deadline:
            module.fail_json(msg=f"Timed out after {p['wait_timeout']} s waiting for task "
                                 f"{task['taskArn']} to stop (last status "
                                 f"{task.get('lastStatus')})", changed=True,
                             **_summary(task, essential))
        time.sleep(p["poll_interval"])
        try:
            found = read_until_found(lambda: _describe(client, p["cluster"], task_arn),
                                     timeout=READ_TIMEOUT)
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg=f"Unable to read task {task_arn}")
        if found is None:
            module.fail_json(msg=f"ECS started task {task_arn}, but DescribeTasks has "
                                 f"not shown it for {READ_TIMEOUT} s", changed=True,
                             **_summary(task, essential))
        task = found

    result = _summary(task, essential)
    if p["wait"] and p["fail_on_error"] and not result["succeeded"]:
        module.fail_json(
            msg=f"Task {task['taskArn']} of {p['task_definition']} failed: exit codes "
                f"{result['exit_codes']}, {result['stopped_reason'] or 'no reason given'}",
            changed=True, **result)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
