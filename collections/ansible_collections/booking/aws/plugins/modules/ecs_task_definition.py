#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register an ECS task definition revision only when it differs (canonical comparison)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_task_definition
short_description: Register an ECS task definition revision only if it differs from the current one
description:
  - Compares the whole desired task definition - every container field (image, environment and
    secret values, ports, log configuration, health check, stop timeout, ...), task-level cpu and
    memory, roles, network mode, volumes - with the latest ACTIVE revision of the family, in a
    canonical form (AWS defaults and empty values dropped, environment/secrets/volumes sorted by
    name). A new revision is registered only when they differ.
  - C(community.aws.ecs_taskdefinition) compares only some container fields, list fields only by
    length, and ignores task-level cpu/memory, so changed environment values or sizes are missed;
    it may also return an older matching revision instead of the latest.
  - With I(match=any_active), an ACTIVE revision whose content equals the desired definition is
    reused even if it is not the latest (after a rollback to it, say), so that re-applying a
    definition identical to an existing revision never registers a copy.
  - Container definitions and nested structures are given in the ECS API's own shape (camelCase
    keys), exactly as in C(RegisterTaskDefinition).
  - Supports check mode and diff mode. In check mode a registration is reported, not made, and
    C(revision) is null.
options:
  family:
    description: Task definition family.
    type: str
    required: true
  container_definitions:
    description: C(containerDefinitions) as in the ECS API (camelCase keys).
    type: list
    elements: dict
    required: true
  cpu:
    description: Task-level CPU units (Fargate, e.g. C(1024)).
    type: str
  memory:
    description: Task-level memory in MiB (Fargate, e.g. C(2048)).
    type: str
  network_mode:
    description: Network mode.
    type: str
    default: awsvpc
    choices: [awsvpc, bridge, host, none]
  requires_compatibilities:
    description: Launch types the definition must be valid for.
    type: list
    elements: str
    default: [FARGATE]
  execution_role_arn:
    description: Role the ECS agent uses (image pull, logs, secrets injection).
    type: str
  task_role_arn:
    description: Role the application's own AWS calls use.
    type: str
  runtime_platform:
    description: C(runtimePlatform) as in the ECS API.
    type: dict
  volumes:
    description: C(volumes) as in the ECS API.
    type: list
    elements: dict
  ephemeral_storage:
    description: "C(ephemeralStorage) as in the ECS API, e.g. C({sizeInGiB: 30})."
    type: dict
  match:
    description:
      - C(latest) compares with the latest ACTIVE revision only.
      - C(any_active) also reuses an older ACTIVE revision with identical content (newest first,
        at most I(match_depth) revisions are read).
    type: str
    default: latest
    choices: [latest, any_active]
  match_depth:
    description: How many ACTIVE revisions I(match=any_active) reads at most.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Register the web task definition if anything in it changed
  booking.aws.ecs_task_definition:
    family: booking-api-prod-web
    cpu: "1024"
    memory: "2048"
    execution_role_arn: "{{ execution_role_arn }}"
    task_role_arn: "{{ task_role_arn }}"
    container_definitions:
      - name: web
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-api-prod:3f2c1aa"
        portMappings: [{containerPort: 8000}]
        secrets:
          - name: DJANGO_SECRET_KEY
            valueFrom: arn:aws:ssm:us-east-1:123456789012:parameter/booking-api/prod/secret_key
    tags: {Project: booking-api}
  register: web_task_definition
"""

RETURN = r"""
arn:
  description: ARN of the revision that matches the desired definition (null in check mode when
    one would be registered).
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/booking-api-prod-web:7
revision:
  description: Its revision number (null in check mode when one would be registered).
  returned: always
  type: int
  sample: 7
registered:
  description: Whether a new revision was (or, in check mode, would be) registered.
  returned: always
  type: bool
task_definition:
  description: The matching revision as ECS describes it (camelCase keys); empty in check mode
    when one would be registered.
  returned: always
  type: dict
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.booking.aws.plugins.module_utils.ecs_canonical import (
    canonical_task_definition,
    drop_empty,
)
from ansible_collections.booking.aws.plugins.module_utils.ecs_tags import (
    apply_tag_changes,
    ecs_tags,
    tag_changes,
)

AWS_ERRORS: tuple[type[Exception], ...]
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    AWS_ERRORS = ()


def _desired(p: dict[str, Any]) -> dict[str, Any]:
    return drop_empty({
        "family": p["family"],
        "containerDefinitions": p["container_definitions"],
        "cpu": p["cpu"],
        "memory": p["memory"],
        "networkMode": p["network_mode"],
        "requiresCompatibilities": p["requires_compatibilities"],
        "executionRoleArn": p["execution_role_arn"],
        "taskRoleArn": p["task_role_arn"],
        "runtimePlatform": p["runtime_platform"],
        "volumes": p["volumes"],
        "ephemeralStorage": p["ephemeral_storage"],
    })


def _describe(client: Any, name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The revision `name` (family = latest ACTIVE) and its tags, or None."""
    try:
        response = client.describe_task_definition(
            aws_retry=True, taskDefinition=name, include=["TAGS"])
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("ClientException",
                                                         "InvalidParameterException"):
            return None
        raise
    tags = ecs_tags(response.get("tags"))
    return response["taskDefinition"], tags


def _active_arns(client: Any, family: str, depth: int) -> list[str]:
    """ARNs of the family's ACTIVE revisions, newest first (exact family, not prefix)."""
    arns: list[str] = []
    kwargs: dict[str, Any] = {"familyPrefix": family, "status": "ACTIVE", "sort": "DESC"}
    while True:
        response = client.list_task_definitions(aws_retry=True, **kwargs)
        arns += [a for a in response.get("taskDefinitionArns", [])
                 if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
        if not response.get("nextToken"):
            break
        kwargs["nextToken"] = response["nextToken"]
    # Newest first, whatever order the API used.
    return sorted(arns, key=lambda a: int(a.rsplit(":", 1)[-1]), reverse=True)[:depth]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "family": {"type": "str", "required": True},
            "container_definitions": {"type": "list", "elements": "dict", "required": True},
            "cpu": {"type": "str"},
            "memory": {"type": "str"},
            "network_mode": {"type": "str", "default": "awsvpc",
                             "choices": ["awsvpc", "bridge", "host", "none"]},
            "requires_compatibilities": {"type": "list", "elements": "str",
                                         "default": ["FARGATE"]},
            "execution_role_arn": {"type": "str"},
            "task_role_arn": {"type": "str"},
            "runtime_platform": {"type": "dict"},
            "volumes": {"type": "list", "elements": "dict"},
            "ephemeral_storage": {"type": "dict"},
            "match": {"type": "str", "default": "latest", "choices": ["latest", "any_active"]},
            "match_depth": {"type": "int", "default": 10},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    desired = _desired(p)
    wanted = canonical_task_definition(desired)

    try:
        latest = _describe(client, p["family"])
        match = latest if latest and canonical_task_definition(latest[0]) == wanted else None
        if match is None and latest is not None and p["match"] == "any_active":
            for arn in _active_arns(client, p["family"], p["match_depth"]):
                if arn == latest[0]["taskDefinitionArn"]:
                    continue
                candidate = _describe(client, arn)
                if candidate and canonical_task_definition(candidate[0]) == wanted:
                    match = candidate
                    break
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to read task definition family {p['family']}")

    before = canonical_task_definition(latest[0]) if latest else {}
    if match is not None:
        definition, tags = match
        to_set, to_unset = tag_changes(tags, p["tags"], p["purge_tags"])
        changed = bool(to_set or to_unset)
        if changed and not module.check_mode:
            arn = definition["taskDefinitionArn"]
            try:
                apply_tag_changes(client, arn, to_set, to_unset)
            except AWS_ERRORS as e:
                module.fail_json_aws(e, msg=f"Unable to tag {arn}")
        module.exit_json(
            changed=changed, registered=False, arn=definition["taskDefinitionArn"],
            revision=definition["revision"], task_definition=definition,
            diff={"before": {"definition": canonical_task_definition(definition), "tags": tags},
                  "after": {"definition": wanted,
                            "tags": tags if p["tags"] is None else p["tags"]}})

    diff = {"before": {"definition": before}, "after": {"definition": wanted}}
    if module.check_mode:
        module.exit_json(changed=True, registered=True, arn=None, revision=None,
                         task_definition={}, diff=diff)
    try:
        kwargs = dict(desired)
        if p["tags"]:
            kwargs["tags"] = ansible_dict_to_boto3_tag_list(p["tags"], "key", "value")
        definition = client.register_task_definition(aws_retry=True, **kwargs)["taskDefinition"]
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to register a revision of {p['family']}")
    module.exit_json(changed=True, registered=True, arn=definition["taskDefinitionArn"],
                     revision=definition["revision"], task_definition=definition, diff=diff)


if __name__ == "__main__":
    main()
