#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create or update an ECS service and wait until its rollout is COMPLETED or FAILED."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_service_rollout
short_description: Create or update an ECS service and wait for the rollout to finish
description:
  - Creates the service if it does not exist; otherwise compares the task definition, deployment
    configuration, network configuration, capacity provider strategy, load balancers, health
    check grace period, ECS Exec flag, tag propagation and platform version with what is set, and
    calls C(UpdateService) with only what differs. Tags are set with C(TagResource).
  - The desired count is set when the service is created and left alone afterwards (an
    autoscaler owns it), unless I(enforce_desired_count) is true.
  - With I(wait), waits until the service's PRIMARY deployment - the one this call started, or
    one already in progress - reaches rolloutState C(COMPLETED). A C(FAILED) rollout (the
    deployment circuit breaker tripped) fails the task and reports the task definition the
    service was rolled back to.
  - C(community.aws.ecs_service) never waits for a rollout, ignores changes of the deployment
    configuration, network configuration and capacity provider strategy, and always resets the
    desired count.
  - Nested structures are given in the ECS API's own shape (camelCase keys).
  - Supports check mode and diff mode.
options:
  cluster:
    description: Cluster name or ARN.
    type: str
    required: true
  name:
    description: Service name.
    type: str
    required: true
  task_definition:
    description:
      - Task definition ARN or C(family:revision).
      - An empty string, in check mode only, compares every other setting with the service's
        current task definition kept (the revision a release would register has no ARN until
        it is registered; C(make diff) reports it from the task definitions themselves).
    type: str
    required: true
  desired_count:
    description: Number of tasks when the service is created (and on every run with
      I(enforce_desired_count)).
    type: int
    default: 1
  enforce_desired_count:
    description: Reset the desired count to I(desired_count) on update. Leave false when an
      autoscaler manages the count.
    type: bool
    default: false
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
  load_balancers:
    description: C(loadBalancers) as in the ECS API.
    type: list
    elements: dict
  deployment_configuration:
    description:
      - C(deploymentConfiguration) as in the ECS API; only the keys given are compared, the
        others are kept.
      - With C(strategy) given, the previous strategy's settings (C(bakeTimeInMinutes),
        C(canaryConfiguration), C(linearConfiguration), C(lifecycleHooks)) are replaced by
        those given.
    type: dict
  health_check_grace_period_seconds:
    description: Seconds ECS ignores failing load balancer health checks of new tasks.
    type: int
  enable_execute_command:
    description:
      - Allow ECS Exec into the service's tasks.
      - A change of this setting alone starts a new deployment (running tasks never get the
        agent otherwise), as if I(force_new_deployment) were given.
    type: bool
  propagate_tags:
    description: Copy tags to tasks from the service or the task definition.
    type: str
    choices: [SERVICE, TASK_DEFINITION, NONE]
  platform_version:
    description: Fargate platform version.
    type: str
  force_new_deployment:
    description: Start a new deployment even if nothing changed (always reports changed).
    type: bool
    default: false
  update:
    description:
      - Apply differences. With C(false) nothing is changed and the module only waits for the
        deployment of I(task_definition) (a second pass after starting several rollouts at once).
    type: bool
    default: true
  wait:
    description: Wait for the rollout of the deployment of I(task_definition) to finish.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 1200
  poll_interval:
    description: Seconds between two reads of the service while waiting.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Roll the web service to the new revision and wait for the rollout
  booking.aws.ecs_service_rollout:
    cluster: booking-api-prod-cluster
    name: booking-api-prod-web
    task_definition: "{{ web_task_definition.arn }}"
    desired_count: 2
    launch_type: FARGATE
    network_configuration:
      awsvpcConfiguration:
        subnets: "{{ private_subnet_ids }}"
        securityGroups: ["{{ app_security_group_id }}"]
        assignPublicIp: DISABLED
    load_balancers:
      - {targetGroupArn: "{{ target_group_arn }}", containerName: web, containerPort: 8000}
    deployment_configuration:
      minimumHealthyPercent: 100
      maximumPercent: 200
      deploymentCircuitBreaker: {enable: true, rollback: true}
"""

RETURN = r"""
service:
  description: The service as ECS describes it after the call (camelCase keys).
  returned: always
  type: dict
task_definition:
  description: Task definition the service runs after the call (after a circuit-breaker
    rollback, the one it was rolled back to).
  returned: always
  type: str
deployment:
  description: The PRIMARY deployment waited for (id, rolloutState, rolloutStateReason,
    taskDefinition).
  returned: always
  type: dict
rolled_back:
  description: Whether the rollout failed and the circuit breaker rolled the service back.
  returned: always
  type: bool
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.booking.aws.plugins.module_utils.ecs_canonical import contains
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

# module option -> UpdateService parameter
# The settings that belong to one deployment strategy (DeploymentConfiguration).
STRATEGY_SETTINGS = ("bakeTimeInMinutes", "canaryConfiguration", "linearConfiguration",
                     "lifecycleHooks")
_SIMPLE = {
    "health_check_grace_period_seconds": "healthCheckGracePeriodSeconds",
    "enable_execute_command": "enableExecuteCommand",
    "propagate_tags": "propagateTags",
    "platform_version": "platformVersion",
}


def _network(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return value
    vpc = dict(value.get("awsvpcConfiguration") or {})
    vpc["subnets"] = sorted(vpc.get("subnets") or [])
    vpc["securityGroups"] = sorted(vpc.get("securityGroups") or [])
    vpc.setdefault("assignPublicIp", "DISABLED")
    return {"awsvpcConfiguration": vpc}


def _strategy(value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    return sorted(({"capacityProvider": s["capacityProvider"], "weight": s.get("weight", 0),
                    "base": s.get("base", 0)} for s in value),
                  key=lambda s: s["capacityProvider"])


def _balancers(value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    return sorted(value, key=lambda b: (b.get("targetGroupArn", ""), b.get("containerName", ""),
                                        b.get("containerPort", 0)))


def _describe(client: Any, cluster: str, name: str) -> dict[str, Any] | None:
    try:
        response = client.describe_services(aws_retry=True, cluster=cluster, services=[name],
                                            include=["TAGS"])
    except is_boto3_error_code("ClusterNotFoundException"):
        return None  # no cluster, no service (a check-mode run on an empty account)
    live = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    return live[0] if live else None


def _primary(service: dict[str, Any]) -> dict[str, Any]:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})


def _shown_deployment(deployment: dict[str, Any]) -> dict[str, Any]:
    return {k: deployment.get(k) for k in ("id", "status", "rolloutState", "rolloutStateReason",
                                           "taskDefinition", "desiredCount", "runningCount",
                                           "failedTasks")}


def _changes(p: dict[str, Any], service: dict[str, Any], task_definition: str,
             ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(UpdateService arguments, before, after) for what differs."""
    update: dict[str, Any] = {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    def differs(key: str, current: Any, wanted: Any, sent: Any = None) -> None:
        if current != wanted:
            update[key] = wanted if sent is None else sent
            before[key], after[key] = current, wanted

    differs("taskDefinition", service.get("taskDefinition"), task_definition)
    if p["deployment_configuration"] is not None and not contains(
            service.get("deploymentConfiguration") or {}, p["deployment_configuration"]):
        current = service.get("deploymentConfiguration") or {}
        wanted = p["deployment_configuration"]
        # A configuration that names its strategy brings that strategy's settings: the previous
        # strategy's go (ECS refuses canaryConfiguration unless the strategy is CANARY, and
        # linearConfiguration unless LINEAR - API reference, DeploymentConfiguration).
        kept = {key: value for key, value in current.items()
                if "strategy" not in wanted or key not in STRATEGY_SETTINGS}
        update["deploymentConfiguration"] = {**kept, **wanted}
        before["deploymentConfiguration"] = current
        after["deploymentConfiguration"] = update["deploymentConfiguration"]
    if p["network_configuration"] is not None:
        differs("networkConfiguration", _network(service.get("networkConfiguration")),
                _network(p["network_configuration"]), p["network_configuration"])
    if p["capacity_provider_strategy"] is not None:
        differs("capacityProviderStrategy", _strategy(service.get("capacityProviderStrategy")),
                _strategy(p["capacity_provider_strategy"]), p["capacity_provider_strategy"])
    if p["load_balancers"] is not None:
        differs("loadBalancers", _balancers(service.get("loadBalancers") or []),
                _balancers(p["load_balancers"]), p["load_balancers"])
    for option, key in _SIMPLE.items():
        if p[option] is not None:
            differs(key, service.get(key), p[option])
    if p["enforce_desired_count"]:
        differs("desiredCount", service.get("desiredCount"), p["desired_count"])
    return update, before, after


class Rollout:
    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module = module
        self.client = client
        self.p = module.params

    def resolve(self, task_definition: str) -> str:
        """The full ARN of `task_definition` (ECS reports services by ARN)."""
        if task_definition.startswith("arn:"):
            return task_definition
        try:
            return self.client.describe_task_definition(
                aws_retry=True, taskDefinition=task_definition)["taskDefinition"][
                    "taskDefinitionArn"]
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Unknown task definition {task_definition}")
        raise AssertionError  # unreachable: fail_json_aws exits

    def create(self, task_definition: str) -> dict[str, Any]:
        p = self.p
        kwargs: dict[str, Any] = {
            "cluster": p["cluster"], "serviceName": p["name"], "taskDefinition": task_definition,
            "desiredCount": p["desired_count"],
        }
        optional = {
            "launchType": p["launch_type"],
            "capacityProviderStrategy": p["capacity_provider_strategy"],
            "networkConfiguration": p["network_configuration"],
            "loadBalancers": p["load_balancers"],
            "deploymentConfiguration": p["deployment_configuration"],
            **{key: p[option] for option, key in _SIMPLE.items()},
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        if p["tags"]:
            kwargs["tags"] = ansible_dict_to_boto3_tag_list(p["tags"], "key", "value")
        return self.client.create_service(aws_retry=True, **kwargs)["service"]

    def wait(self, service: dict[str, Any], task_definition: str,
             ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Poll until the newest deployment of `task_definition` finishes: (service, deployment).

        Followed by id: if the circuit breaker rolls it back, the service's PRIMARY becomes the
        rollback deployment, which must not be mistaken for this one.
        """
        ours = [d for d in service.get("deployments", [])
                if d.get("taskDefinition") == task_definition]
        if not ours:
            return service, {"taskDefinition": task_definition, "rolloutState": "FAILED",
                             "rolloutStateReason": "no deployment of it remains"}
        target = max(ours, key=lambda d: str(d.get("createdAt", "")))
        deadline = time.monotonic() + self.p["wait_timeout"]
        while True:
            deployments = {d["id"]: d for d in service.get("deployments", [])}
            current = deployments.get(target.get("id"))
            if current is None:
                # Replaced: by a rollback deployment, or by someone else's newer deployment.
                return service, {**target, "rolloutState": "FAILED",
                                 "rolloutStateReason": "replaced by another deployment"}
            if current.get("rolloutState") in ("COMPLETED", "FAILED"):
                return service, current
            if current.get("rolloutState") is None and current.get("runningCount") == current.get(
                    "desiredCount") and len(deployments) == 1:
                return service, current  # no circuit breaker: steady with one deployment
            if time.monotonic() >= deadline:
                self.module.fail_json(
                    msg=f"Timed out after {self.p['wait_timeout']} s waiting for the rollout of "
                        f"{self.p['name']} (deployment {target.get('id')}, "
                        f"{current.get('runningCount')}/{current.get('desiredCount')} running)",
                    deployment=_shown_deployment(current))
            time.sleep(self.p["poll_interval"])
            service = _describe(self.client, self.p["cluster"], self.p["name"]) or service


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "task_definition": {"type": "str", "required": True},
            "desired_count": {"type": "int", "default": 1},
            "enforce_desired_count": {"type": "bool", "default": False},
            "launch_type": {"type": "str", "choices": ["FARGATE", "EC2", "EXTERNAL"]},
            "capacity_provider_strategy": {"type": "list", "elements": "dict"},
            "network_configuration": {"type": "dict"},
            "load_balancers": {"type": "list", "elements": "dict"},
            "deployment_configuration": {"type": "dict"},
            "health_check_grace_period_seconds": {"type": "int"},
            "enable_execute_command": {"type": "bool"},
            "propagate_tags": {"type": "str", "choices": ["SERVICE", "TASK_DEFINITION", "NONE"]},
            "platform_version": {"type": "str"},
            "force_new_deployment": {"type": "bool", "default": False},
            "update": {"type": "bool", "default": True},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 1200},
            "poll_interval": {"type": "int", "default": 10},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        mutually_exclusive=[("launch_type", "capacity_provider_strategy")],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    rollout = Rollout(module, client)
    if not p["task_definition"] and not module.check_mode:
        module.fail_json(msg="task_definition is empty: only a check-mode run may keep the "
                             "service's current one")
    task_definition = rollout.resolve(p["task_definition"]) if p["task_definition"] else ""

    try:
        service = _describe(client, p["cluster"], p["name"])
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to describe service {p['name']}")
    if service is not None and not task_definition:
        task_definition = service.get("taskDefinition", "")

    if service is None and not p["update"]:
        module.fail_json(msg=f"Service {p['name']} does not exist; nothing to wait for")
    if service is None:
        diff = {"before": {}, "after": {"taskDefinition": task_definition,
                                        "desiredCount": p["desired_count"]}}
        if module.check_mode:
            module.exit_json(changed=True, service={}, task_definition=task_definition,
                             deployment={}, rolled_back=False, diff=diff)
        try:
            service = rollout.create(task_definition)
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg=f"Unable to create service {p['name']}")
        changed, before, after = True, diff["before"], diff["after"]
    else:
        update, before, after = _changes(p, service, task_definition)
        tags = ecs_tags(service.get("tags"))
        to_set, to_unset = tag_changes(tags, p["tags"], p["purge_tags"])
        if to_set or to_unset:
            before["tags"], after["tags"] = tags, p["tags"]
        if not p["update"]:
            update, to_set, to_unset, before, after = {}, {}, [], {}, {}
        # ECS Exec reaches only tasks started after it is turned on (the agent is set up at task
        # start): a change of enableExecuteCommand alone starts a new deployment, as AWS's docs
        # say to ("update-service --enable-execute-command --force-new-deployment").
        force = p["force_new_deployment"] or (
            "enableExecuteCommand" in update and "taskDefinition" not in update)
        changed = bool(update or to_set or to_unset or force)
        if changed and not module.check_mode:
            try:
                if update or force:
                    service = client.update_service(
                        aws_retry=True, cluster=p["cluster"], service=p["name"],
                        forceNewDeployment=force, **update)["service"]
                apply_tag_changes(client, service["serviceArn"], to_set, to_unset)
            except AWS_ERRORS as e:
                module.fail_json_aws(e, msg=f"Unable to update service {p['name']}")

    deployment = _primary(service)
    if p["wait"] and not module.check_mode:
        try:
            service, deployment = rollout.wait(service, task_definition)
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg=f"Unable to follow the rollout of {p['name']}")
    result = {
        "changed": changed, "service": service,
        "task_definition": service.get("taskDefinition", task_definition),
        "deployment": _shown_deployment(deployment),
        "rolled_back": deployment.get("rolloutState") == "FAILED"
        and service.get("taskDefinition") != deployment.get("taskDefinition"),
        "diff": {"before": before, "after": after},
    }
    if deployment.get("rolloutState") == "FAILED":
        back = (f"; the deployment circuit breaker rolled {p['name']} back to "
                f"{service.get('taskDefinition')}" if result["rolled_back"] else "")
        module.fail_json(msg=f"Rollout of {p['name']} to {deployment.get('taskDefinition')} "
                             f"FAILED: {deployment.get('rolloutStateReason')}{back}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
