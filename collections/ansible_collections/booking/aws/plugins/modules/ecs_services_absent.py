#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remove ECS services with their scaling, and every revision of task definition families."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_services_absent
short_description: Delete ECS services with their scaling, and task definition families
description:
  - The teardown counterpart of C(ecs_service_rollout) and C(ecs_task_definition), in one call.
  - For each service of I(services) in I(cluster) that is not already C(INACTIVE) - deregisters
    its Application Auto Scaling target and the target's scaling policies (otherwise
    the autoscaler could scale a draining service back up and the target would outlive the
    service), deletes the service with C(force) (no need to scale to zero first), and with
    I(wait) waits until every deleted service is C(INACTIVE).
  - For each family of I(task_definition_families) - deregisters every C(ACTIVE) revision, then
    deletes every C(INACTIVE) revision (C(DeleteTaskDefinitions), ten at a time), so no revision
    of the family keeps the environment's tags. Deletion needs the services gone first (a
    revision a task still uses stays C(DELETE_IN_PROGRESS) until the task stops).
  - C(community.aws.ecs_service) C(state=absent) leaves the scaling target behind, and
    C(community.aws.ecs_taskdefinition) removes one revision per call.
  - A missing cluster, service or family is not an error, there is nothing to remove. Check mode
    reports what would be removed and changes nothing.
options:
  cluster:
    description: Cluster name or ARN.
    type: str
    required: true
  services:
    description: Names of the services to delete.
    type: list
    elements: str
    default: []
  task_definition_families:
    description: Task definition families whose revisions are deregistered and deleted.
    type: list
    elements: str
    default: []
  wait:
    description: Wait until the deleted services are C(INACTIVE).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the services to become C(INACTIVE).
    type: int
    default: 900
  poll_interval:
    description: Seconds between two reads of the services while waiting.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Remove the web and worker services and the app's task definitions
  booking.aws.ecs_services_absent:
    cluster: booking-api-staging-cluster
    services: [booking-api-staging-web, booking-api-staging-worker]
    task_definition_families:
      - booking-api-staging-web
      - booking-api-staging-worker
      - booking-api-staging-migrate
"""

RETURN = r"""
deleted_services:
  description: Services deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
deregistered_scalable_targets:
  description: Resource IDs of the scaling targets deregistered.
  returned: always
  type: list
  elements: str
deregistered_task_definitions:
  description: ARNs of the ACTIVE revisions deregistered.
  returned: always
  type: list
  elements: str
deleted_task_definitions:
  description: ARNs of the INACTIVE revisions deleted (including those just deregistered).
  returned: always
  type: list
  elements: str
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

AWS_ERRORS: tuple[type[Exception], ...]
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    AWS_ERRORS = ()

_SCALABLE_DIMENSION = "ecs:service:DesiredCount"
_DELETE_BATCH = 10  # DeleteTaskDefinitions takes at most ten references


def _live_services(ecs: Any, cluster: str, names: list[str]) -> list[dict[str, Any]]:
    """The named services that exist and are not INACTIVE (DescribeServices takes ten)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), 10):
        try:
            response = ecs.describe_services(aws_retry=True, cluster=cluster,
                                             services=names[start:start + 10])
        except ecs.exceptions.ClusterNotFoundException:
            return []
        found += [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    return found


def _cluster_name(ecs: Any, cluster: str) -> str | None:
    clusters = ecs.describe_clusters(aws_retry=True, clusters=[cluster]).get("clusters", [])
    live = [c for c in clusters if c.get("status") != "INACTIVE"]
    return live[0]["clusterName"] if live else None


def _revisions(ecs: Any, family: str, status: str) -> list[str]:
    paginator = ecs.get_paginator("list_task_definitions")
    arns: list[str] = []
    for page in paginator.paginate(familyPrefix=family, status=status):
        # familyPrefix matches prefixes: keep only this exact family.
        arns += [a for a in page["taskDefinitionArns"]
                 if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    return arns


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "services": {"type": "list", "elements": "str", "default": []},
            "task_definition_families": {"type": "list", "elements": "str", "default": []},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 900},
            "poll_interval": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    p = module.params
    retry = AWSRetry.jittered_backoff()
    ecs = module.client("ecs", retry_decorator=retry)
    scaling = module.client("application-autoscaling", retry_decorator=retry)
    result: dict[str, list[str]] = {"deleted_services": [], "deregistered_scalable_targets": [],
                                    "deregistered_task_definitions": [],
                                    "deleted_task_definitions": []}

    try:
        cluster = _cluster_name(ecs, p["cluster"])
        services = _live_services(ecs, p["cluster"], p["services"]) if cluster else []
        for service in services:
            resource_id = f"service/{cluster}/{service['serviceName']}"
            targets = scaling.describe_scalable_targets(
                aws_retry=True, ServiceNamespace="ecs", ResourceIds=[resource_id],
                ScalableDimension=_SCALABLE_DIMENSION)["ScalableTargets"]
            if targets:
                result["deregistered_scalable_targets"].append(resource_id)
                # Deregistering deletes the target's policies on AWS; deleting them first says
                # so explicitly and does not rely on it.
                policies = scaling.describe_scaling_policies(
                    aws_retry=True, ServiceNamespace="ecs", ResourceId=resource_id,
                    ScalableDimension=_SCALABLE_DIMENSION)["ScalingPolicies"]
                for policy in policies if not module.check_mode else []:
                    scaling.delete_scaling_policy(
                        aws_retry=True, ServiceNamespace="ecs", ResourceId=resource_id,
                        ScalableDimension=_SCALABLE_DIMENSION, PolicyName=policy["PolicyName"])
                if not module.check_mode:
                    scaling.deregister_scalable_target(
                        aws_retry=True, ServiceNamespace="ecs", ResourceId=resource_id,
                        ScalableDimension=_SCALABLE_DIMENSION)
            result["deleted_services"].append(service["serviceName"])
            if not module.check_mode:
                ecs.delete_service(aws_retry=True, cluster=p["cluster"],
                                   service=service["serviceName"], force=True)
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to delete the services of {p['cluster']}",
                             changed=bool(result["deleted_services"]), **result)

    deadline = time.monotonic() + p["wait_timeout"]
    while p["wait"] and result["deleted_services"] and not module.check_mode:
        try:
            remaining = _live_services(ecs, p["cluster"], result["deleted_services"])
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg="Unable to read the deleted services", changed=True,
                                 **result)
        if not remaining:
            break
        if time.monotonic() >= deadline:
            module.fail_json(
                msg=f"Timed out after {p['wait_timeout']} s waiting for "
                    f"{[s['serviceName'] for s in remaining]} to become INACTIVE",
                changed=True, **result)
        time.sleep(p["poll_interval"])

    try:
        for family in p["task_definition_families"]:
            active = _revisions(ecs, family, "ACTIVE")
            for arn in active:
                if not module.check_mode:
                    ecs.deregister_task_definition(aws_retry=True, taskDefinition=arn)
            result["deregistered_task_definitions"] += active
            inactive = sorted(set(_revisions(ecs, family, "INACTIVE"))
                              | (set(active) if module.check_mode else set()))
            for start in range(0, len(inactive), _DELETE_BATCH):
                batch = inactive[start:start + _DELETE_BATCH]
                if not module.check_mode:
                    response = ecs.delete_task_definitions(aws_retry=True, taskDefinitions=batch)
                    if response.get("failures"):
                        module.fail_json(msg=f"ECS refused to delete revisions of {family}: "
                                             f"{response['failures']}", changed=True, **result)
                result["deleted_task_definitions"] += batch
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg="Unable to remove the task definitions",
                             changed=any(result.values()), **result)

    module.exit_json(changed=any(result.values()), **result)


if __name__ == "__main__":
    main()
