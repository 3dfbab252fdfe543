#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow and steer an ECS service deployment (blue/green, canary, linear): wait for its pause
at a lifecycle hook or its end, continue it, roll it back."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_service_deployment
short_description: Wait for, continue or roll back an ECS service deployment
description:
  - Works on the newest service deployment of a service (C(ListServiceDeployments)), or the one
    given by ARN. With I(task_definition), the newest deployment counts only if its target
    revision (C(DescribeServiceRevisions)) runs that task definition; otherwise there is nothing
    to do (a re-run that started no deployment). A deployment of it that ECS has already ended,
    rolled back included (a pause hook that timed out, an alarm, the circuit breaker), is found
    and returned as it ended - never taken for nothing to do.
  - I(wait_for=pause) waits until the deployment waits at a C(PAUSE) lifecycle hook
    (C(lifecycleHookDetails) status C(AWAITING_ACTION)) or has ended; I(wait_for=end) waits until
    it has ended (C(SUCCESSFUL), C(STOPPED), C(ROLLBACK_SUCCESSFUL), C(ROLLBACK_FAILED)).
  - I(action=continue) / I(action=rollback) answer the awaiting hook (C(ContinueServiceDeployment));
    I(action=stop_rollback) stops a deployment in progress and rolls it back
    (C(StopServiceDeployment) C(ROLLBACK)), e.g. during its bake time, when the old tasks still
    run and traffic returns to them without starting any task. The action comes first, the wait
    second.
  - C(community.aws.ecs_service) knows none of this (ECS's native strategies came in 2025).
  - Supports check mode (no action is taken; it reports whether one would be).
options:
  cluster:
    description: Cluster name or ARN.
    type: str
    required: true
  service:
    description: Service name or ARN.
    type: str
    required: true
  service_deployment_arn:
    description: The deployment; default the service's newest.
    type: str
  task_definition:
    description: Only a deployment to this task definition (ARN) counts.
    type: str
  action:
    description: What to do to the deployment before waiting.
    type: str
    choices: [none, continue, rollback, stop_rollback]
    default: none
  wait_for:
    description: What to wait for after the action.
    type: str
    choices: [none, pause, end]
    default: none
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
  poll_interval:
    description: Seconds between two reads of the deployment.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait until the new tasks take the test traffic and ECS pauses for the smoke test
  booking.aws.ecs_service_deployment:
    cluster: booking-api-prod-cluster
    service: booking-api-prod-web
    task_definition: "{{ web_task_definition_arn }}"
    wait_for: pause
  register: paused

- name: Let production traffic move, then wait through the bake time
  booking.aws.ecs_service_deployment:
    cluster: booking-api-prod-cluster
    service: booking-api-prod-web
    service_deployment_arn: "{{ paused.deployment.arn }}"
    action: continue
    wait_for: end
"""

RETURN = r"""
found:
  description: Whether a deployment (of I(task_definition), when given) was found.
  returned: always
  type: bool
deployment:
  description: The deployment after the action and the wait - C(arn), C(status),
    C(status_reason), C(stage) (lifecycle stage), C(hook) (the hook awaiting an action, or {}),
    C(ended), C(rollback) (reason and start, when rolled back), C(production_weight) (percent of
    production traffic on the new revision, where ECS reports it), C(strategy) (C(ROLLING),
    C(BLUE_GREEN), C(CANARY) or C(LINEAR)).
  returned: always
  type: dict
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

AWS_ERRORS: tuple[type[Exception], ...]
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    AWS_ERRORS = ()

ENDED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


def awaiting_hook(deployment: dict[str, Any]) -> dict[str, Any]:
    """The lifecycle hook waiting for ContinueServiceDeployment, or {}."""
    return next((h for h in deployment.get("lifecycleHookDetails") or []
                 if h.get("status") == "AWAITING_ACTION"), {})


def shown(deployment: dict[str, Any]) -> dict[str, Any]:
    if not deployment:
        return {}
    hook = awaiting_hook(deployment)
    target = deployment.get("targetServiceRevision") or {}
    rollback = deployment.get("rollback") or {}
    return {
        "arn": deployment.get("serviceDeploymentArn", ""),
        "status": deployment.get("status", ""),
        "status_reason": deployment.get("statusReason", ""),
        "stage": deployment.get("lifecycleStage", ""),
        "hook": {"id": hook.get("hookId", ""), "type": hook.get("targetType", ""),
                 "expires_at": str(hook.get("expiresAt", ""))} if hook else {},
        "ended": deployment.get("status") in ENDED,
        "rollback": {"reason": rollback.get("reason", ""),
                     "started_at": str(rollback.get("startedAt", ""))} if rollback else {},
        "production_weight": target.get("requestedProductionTrafficWeight"),
        "strategy": (deployment.get("deploymentConfiguration") or {}).get("strategy", "ROLLING"),
    }


class Deployment:
    def __init__(self, module: AnsibleAWSModule, client: Any) -> None:
        self.module, self.client, self.p = module, client, module.params

    def describe(self, arn: str) -> dict[str, Any]:
        try:
            found = self.client.describe_service_deployments(
                aws_retry=True, serviceDeploymentArns=[arn]).get("serviceDeployments") or []
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Unable to describe service deployment {arn}")
        if not found:
            self.module.fail_json(msg=f"No service deployment {arn}")
        return found[0]

    def find(self) -> dict[str, Any]:
        """The deployment to work on, or {}."""
        p = self.p
        if p["service_deployment_arn"]:
            return self.describe(p["service_deployment_arn"])
        try:
            briefs = self.client.list_service_deployments(
                aws_retry=True, cluster=p["cluster"], service=p["service"],
            ).get("serviceDeployments") or []
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Unable to list the deployments of {p['service']}")
        if not briefs:
            return {}
        newest = max(briefs, key=lambda b: b.get("createdAt") or b.get("startedAt") or 0)
        if p["task_definition"] and self._target_task_definition(newest) != p["task_definition"]:
            return {}
        return self.describe(newest["serviceDeploymentArn"])

    def _target_task_definition(self, brief: dict[str, Any]) -> str:
        """The task definition the deployment deploys (its target service revision's).

        Not the service's PRIMARY deployment: once ECS has rolled a deployment back (a pause
        hook that timed out before the release answered it, an alarm, the circuit breaker), the
        PRIMARY is the old revision again, and a release asking for its own deployment would
        take "not found" for "nothing to do" and record a release that ECS undid."""
        revision = brief.get("targetServiceRevisionArn")
        if not revision:
            return ""
        try:
            revisions = self.client.describe_service_revisions(
                aws_retry=True, serviceRevisionArns=[revision]).get("serviceRevisions") or []
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Unable to describe service revision {revision}")
        return revisions[0].get("taskDefinition", "") if revisions else ""

    def act(self, deployment: dict[str, Any]) -> bool:
        """Apply the action; whether anything was (or, in check mode, would be) done."""
        action, arn = self.p["action"], deployment["serviceDeploymentArn"]
        if action == "none" or deployment.get("status") in ENDED:
            return False
        try:
            if action in ("continue", "rollback"):
                hook = awaiting_hook(deployment)
                if not hook:
                    self.module.fail_json(
                        msg=f"Service deployment {arn} awaits no action (stage "
                            f"{deployment.get('lifecycleStage')}, status "
                            f"{deployment.get('status')}): nothing to {action}",
                        deployment=shown(deployment))
                if not self.module.check_mode:
                    self.client.continue_service_deployment(
                        aws_retry=True, serviceDeploymentArn=arn, hookId=hook["hookId"],
                        action=action.upper())
                return True
            if not self.module.check_mode:  # stop_rollback
                self.client.stop_service_deployment(
                    aws_retry=True, serviceDeploymentArn=arn, stopType="ROLLBACK")
            return True
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Unable to {action} service deployment {arn}")
        raise AssertionError  # unreachable

    def wait(self, deployment: dict[str, Any]) -> dict[str, Any]:
        wait_for = self.p["wait_for"]
        if wait_for == "none" or self.module.check_mode:
            return deployment
        deadline = time.monotonic() + self.p["wait_timeout"]
        while True:
            if deployment.get("status") in ENDED:
                return deployment
            if wait_for == "pause" and awaiting_hook(deployment):
                return deployment
            if time.monotonic() >= deadline:
                self.module.fail_json(
                    msg=f"Timed out after {self.p['wait_timeout']} s waiting for service "
                        f"deployment {deployment['serviceDeploymentArn']} to "
                        f"{'pause' if wait_for == 'pause' else 'end'} (stage "
                        f"{deployment.get('lifecycleStage')}, status {deployment.get('status')})",
                    deployment=shown(deployment))
            time.sleep(self.p["poll_interval"])
            deployment = self.describe(deployment["serviceDeploymentArn"])


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "service_deployment_arn": {"type": "str"},
            "task_definition": {"type": "str"},
            "action": {"type": "str", "default": "none",
                       "choices": ["none", "continue", "rollback", "stop_rollback"]},
            "wait_for": {"type": "str", "default": "none", "choices": ["none", "pause", "end"]},
            "wait_timeout": {"type": "int", "default": 1800},
            "poll_interval": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    steer = Deployment(module, client)
    deployment = steer.find()
    if not deployment:
        module.exit_json(changed=False, found=False, deployment={})
    changed = steer.act(deployment)
    if changed and not module.check_mode:
        deployment = steer.describe(deployment["serviceDeploymentArn"])
    deployment = steer.wait(deployment)
    module.exit_json(changed=changed, found=True, deployment=shown(deployment))


if __name__ == "__main__":
    main()
