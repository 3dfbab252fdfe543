"""ECS's native deployment strategies: blue/green, canary and linear (issue 18's emulator part).

Since July 2025 ECS deploys a service's new revision itself as blue/green, canary or linear
(``deploymentConfiguration.strategy``), shifting traffic by rewriting the weights of the load
balancer's listener rules, with lifecycle hooks, bake time and rollback; and every deployment,
rolling ones too, is a *service deployment* with service revisions (ListServiceDeployments,
DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment,
ContinueServiceDeployment). moto 5.2 models none of it. This module is that part of ECS, the same
code on both data planes (the scripted one of tools/moto_ecs.py and the real one of
tools/ecs_services.py):

* **Validation** at CreateService / UpdateService (``validate``), with ECS's errors: a
  non-ROLLING strategy needs ``advancedConfiguration`` on every load balancer (ClientException
  "advancedConfiguration field is required for all loadBalancers when using the Blue/green
  deployment strategy"), all or none of them, not with ELBv1; listener *rule* ARNs, not listener
  ARNs; the production and test rules differ; PAUSE hooks only at the stages AWS allows;
  BLUE_GREEN needs ``bakeTimeInMinutes``; ranges of the canary / linear settings. The emulator
  runs no Lambda: AWS_LAMBDA hooks (the default ``targetType``) are refused (stricter than AWS,
  named as the emulator's limit).
* **Service deployments and revisions.** Each new ECS deployment of a service (CreateService,
  UpdateService that redeploys, a rollback of the circuit breaker) is a service deployment
  (``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>``) whose target
  is a new service revision (``...:service-revision/<cluster>/<service>/<id>``); the revisions the
  service ran before are its sources. A rolling one reads its status from the ECS deployment
  (IN_PROGRESS, SUCCESSFUL, STOPPED when replaced or failed without rollback, ROLLBACK_* after
  the circuit breaker's rollback).
* **The stage machine** of a blue/green, canary or linear deployment: PRE_SCALE_UP -> SCALE_UP
  (the green tasks, the full desired count, in the target group that is not production; the stage
  ends when they are healthy) -> POST_SCALE_UP -> TEST_TRAFFIC_SHIFT (the test rule 100% green) ->
  POST_TEST_TRAFFIC_SHIFT -> PRE_PRODUCTION_TRAFFIC_SHIFT -> PRODUCTION_TRAFFIC_SHIFT (BLUE_GREEN:
  100% at once; CANARY: ``canaryPercent``, ``canaryBakeTimeInMinutes``, then 100%; LINEAR:
  ``stepPercent`` more every ``stepBakeTimeInMinutes`` up to 100%, PRE_PRODUCTION_TRAFFIC_SHIFT
  before every step) -> POST_PRODUCTION_TRAFFIC_SHIFT -> BAKE_TIME (``bakeTimeInMinutes``, blue
  still running and registered) -> CLEAN_UP (blue drained and stopped) -> SUCCESSFUL; the green
  group is then production and the next deployment uses the other one. Which group is blue is
  read from the production rule when the deployment starts (the one group it serves), as ECS
  does; a rule that serves two groups or an unexpected one, a missing rule, or an
  ``advancedConfiguration.roleArn`` that does not exist or does not trust ecs.amazonaws.com rolls
  the deployment back with ECS's "invalid networking configuration" reasons.
* **PAUSE hooks** at their stages: ``lifecycleStage`` that stage, ``lifecycleHookDetails``
  ``[{hookId "ecs-pause-...", targetType PAUSE, status AWAITING_ACTION, expiresAt,
  timeoutAction}]`` until ContinueServiceDeployment (CONTINUE / ROLLBACK) or the timeout
  (``timeoutConfiguration``: 1440 minutes and ROLLBACK by default).
* **Rollback**, whatever asks for it (ContinueServiceDeployment ROLLBACK, StopServiceDeployment
  ROLLBACK, a hook's timeout, a deployment alarm in ALARM, the circuit breaker): the production and
  test rules go back to 100% blue at once, the green tasks are deregistered, drained and stopped,
  blue keeps running (no new task while it still runs), the service's task definition is blue's
  again; ROLLBACK_IN_PROGRESS until green is gone, then ROLLBACK_SUCCESSFUL with ``rollback``
  ``{reason, startedAt, serviceRevisionArn}``.
* **Deployment alarms** (``alarms.enable``) are read from the emulator's CloudWatch from the start
  of the deployment to the end of its bake time; one in ALARM fails it (and rolls it back with
  ``alarms.rollback``). An alarm already in ALARM when the deployment starts turns the alarms off
  for that deployment, as AWS documents.

Minutes are real minutes; ``BOOKING_EMULATOR_ECS_MINUTE_SECONDS`` (default 60) is a test knob that
shortens them (bake times, step and canary bake times, hook timeouts).

The scripted data plane advances a deployment when ECS is asked about the service (DescribeServices
and the service deployment calls), as its rolling rollouts do; green is healthy
``RUNTIME.rollout_seconds`` after SCALE_UP began (or fails then, with ``RUNTIME.script_rollout(svc,
"FAILED")``), drained tasks are gone ``rollout_seconds`` after they were let go. The real data
plane's scheduler thread (tools/ecs_services.py) advances it once a second and runs the tasks.

Sources (AWS documentation):
- "Amazon ECS blue/green deployments" and its workflow, lifecycle stages and ALB resources:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html
- "Amazon ECS linear deployments" / "Amazon ECS canary deployments":
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html
- "Pause hooks for Amazon ECS service deployments", "Continuing service deployments":
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html
- "Troubleshooting Amazon ECS blue/green deployments" (the error messages):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshooting-blue-green.html
- "View service history using Amazon ECS service deployments" (statuses), "Stopping Amazon ECS
  service deployments":
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
- "How CloudWatch alarms detect Amazon ECS deployment failures", "Amazon ECS deployment failure
  detection" (both methods for rolling and blue/green):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-failure-detection.html
- API reference: DeploymentConfiguration, CanaryConfiguration, LinearConfiguration,
  DeploymentLifecycleHook, DeploymentLifecycleHookTimeoutConfiguration, ServiceDeployment,
  StopServiceDeployment, ContinueServiceDeployment (botocore's ECS model has the shapes).

Not modelled: Lambda hooks, RECONCILE_SERVICE (a deployment started over several ACTIVE
revisions), Network Load Balancers and Service Connect traffic shifting, the 24-hour stage
timeout, ``earlySuccessCriteria``, the EventBridge events. Where AWS documents no wording
(the reason of a StopServiceDeployment rollback, the error of stopping a finished deployment, the
exception codes of ContinueServiceDeployment's errors) the emulator's is its own, marked "ours".
"""

from __future__ import annotations

import copy
import datetime
import os
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

MINUTE_ENV = "BOOKING_EMULATOR_ECS_MINUTE_SECONDS"
STRATEGIES = ("ROLLING", "BLUE_GREEN", "CANARY", "LINEAR")
STRATEGY_WORDS = {"BLUE_GREEN": "Blue/green", "CANARY": "canary", "LINEAR": "linear"}
TERMINAL = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
HOOK_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
               "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT",
               "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
# Pause hooks: "Pause hooks cannot be configured at the TEST_TRAFFIC_SHIFT or
# PRODUCTION_TRAFFIC_SHIFT stages" (pause-lifecycle-hooks.html).
PAUSE_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
                "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT")
MAX_PAUSE_HOOKS = 10  # "a maximum of 10 pause hooks and 10 Lambda hooks per service"
HOOK_TIMEOUT_MINUTES = 1440  # DeploymentLifecycleHookTimeoutConfiguration: default 1440, 1..20160
HOOK_TIMEOUT_MAX = 20160
# CanaryConfiguration / LinearConfiguration defaults and ranges (API reference).
CANARY_DEFAULTS = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}
LINEAR_DEFAULTS = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
BAKE_MAX = 1440
# CloudFormation's rule for an unset bakeTimeInMinutes outside rolling/EXTERNAL/CODE_DEPLOY:
# "For all other cases, the value is set to 36 hours (2160 minutes)" (AWS::ECS::Service
# DeploymentConfiguration). BLUE_GREEN must give it (API reference, DeploymentConfiguration).
DEFAULT_BAKE_MINUTES = 2160
EVENTS_KEPT = 100

CIRCUIT_BREAKER_ROLLBACK = "Service deployment rolled back because the circuit breaker threshold " \
    "was exceeded."
NETWORKING = "Service deployment rolled back because of invalid networking configuration. "


def minute() -> float:
    """Seconds in a minute of the deployment's timers (the test knob; 60 unless set)."""
    return float(os.environ.get(MINUTE_ENV, "60"))


# --- errors -------------------------------------------------------------------------------------

def _client_error(message: str) -> Exception:
    from moto.ecs.exceptions import EcsClientException

    return EcsClientException(message)


def _invalid(message: str) -> Exception:
    from moto.ecs.exceptions import InvalidParameterException

    return InvalidParameterException(message)


def _error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


def _not_found() -> Exception:
    # ContinueServiceDeployment's documented message (troubleshooting-blue-green.html).
    return _error("ServiceDeploymentNotFoundException", "The service deployment does not exist.")


# --- validation (CreateService / UpdateService) -------------------------------------------------

def _number(value: Any, name: str, low: float, high: float, tenths: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _invalid(f"{name} must be a number.") from None
    if not low <= number <= high or (tenths and abs(number * 10 - round(number * 10)) > 1e-6):
        step = " in multiples of 0.1" if tenths else ""
        raise _invalid(f"{name} must be between {low:g} and {high:g}{step}.")
    return number


def validate(config: dict[str, Any] | None, load_balancers: list[dict[str, Any]] | None,
             controller: dict[str, Any] | None = None) -> None:
    """Raise ECS's error for a deployment configuration ECS refuses at CreateService /
    UpdateService (the synchronous errors of troubleshooting-blue-green.html and the API
    reference's rules); messages marked ours where AWS documents none."""
    config = config or {}
    balancers = load_balancers or []
    strategy = config.get("strategy") or "ROLLING"
    if strategy not in STRATEGIES:
        raise _invalid(f"Invalid deployment strategy {strategy}. Valid values are: "
                       + ", ".join(STRATEGIES))  # ours (botocore refuses it first)
    if balancers:
        v1 = [b for b in balancers if b.get("loadBalancerName")]
        v2 = [b for b in balancers if b.get("targetGroupArn")]
        if v1 and v2:
            raise _client_error("All loadBalancers must be strictly either ELBv1 (defining "
                                "loadBalancerName) or ELBv2 (defining targetGroupArn)")
        if any(b.get("advancedConfiguration") for b in v1):
            raise _client_error("advancedConfiguration field is not allowed with ELBv1 "
                                "loadBalancers")
        advanced = [b for b in balancers if b.get("advancedConfiguration")]
        if advanced and len(advanced) != len(balancers):
            raise _client_error("Either all or none of the provided loadBalancers must have "
                                "advancedConfiguration defined")
        if strategy != "ROLLING" and not advanced:
            # The strategy as ECS names it in the message: "Blue/green", "linear", "canary"
            # (terraform-aws-modules/terraform-aws-ecs#377 quotes the linear one verbatim).
            raise _client_error("advancedConfiguration field is required for all loadBalancers "
                                f"when using the {STRATEGY_WORDS[strategy]} deployment strategy")
        seen: set[str] = set()
        for balancer in v2:
            groups = [balancer["targetGroupArn"]]
            adv = balancer.get("advancedConfiguration") or {}
            if adv:
                groups.append(adv.get("alternateTargetGroupArn") or "")
            for group in groups:
                if group in seen:
                    raise _client_error(f"Duplicate targetGroupArn found: {group}")
                seen.add(group)
            if adv:
                _validate_advanced(adv)
    controller_type = (controller or {}).get("type") or "ECS"
    if strategy != "ROLLING" and controller_type != "ECS":
        raise _invalid(f"The {strategy} deployment strategy needs the ECS deployment controller "
                       f"(this service uses {controller_type}).")  # ours
    _validate_strategy_settings(config, strategy)
    _validate_hooks(config.get("lifecycleHooks") or [])


def _validate_advanced(adv: dict[str, Any]) -> None:
    if not adv.get("alternateTargetGroupArn"):
        raise _invalid("advancedConfiguration.alternateTargetGroupArn is required.")  # ours
    if not adv.get("productionListenerRule"):
        raise _invalid("advancedConfiguration.productionListenerRule is required.")  # ours
    for name in ("productionListenerRule", "testListenerRule"):
        arn = adv.get(name)
        if not arn:
            continue
        if ":listener/" in arn:
            # An ALB needs a rule ARN (troubleshooting-blue-green.html); the emulator's load
            # balancers are ALBs (NLB listeners are not modelled).
            raise _invalid(f"{name} has an invalid ARN format. Must be RuleArn for ALB or "
                           f"ListenerArn for NLB. Got: {arn}")
        if ":listener-rule/" not in arn:
            raise _invalid(f"{name} has an invalid ARN format. Must be RuleArn for ALB or "
                           f"ListenerArn for NLB. Got: {arn}")
    if adv.get("testListenerRule") and adv["testListenerRule"] == adv["productionListenerRule"]:
        raise _invalid("The following rules cannot be used as both production and test listener "
                       f"rules: {adv['testListenerRule']}")


def _validate_strategy_settings(config: dict[str, Any], strategy: str) -> None:
    if "bakeTimeInMinutes" in config and config["bakeTimeInMinutes"] is not None:
        _number(config["bakeTimeInMinutes"], "bakeTimeInMinutes", 0, BAKE_MAX)
    elif strategy == "BLUE_GREEN":
        # "You must provide this parameter when you use the BLUE_GREEN deployment strategy."
        raise _invalid("bakeTimeInMinutes is required when the deployment strategy is "
                       "BLUE_GREEN.")  # message ours
    canary, linear = config.get("canaryConfiguration"), config.get("linearConfiguration")
    if canary is not None and strategy != "CANARY":
        # "Only valid when the deployment strategy is CANARY."
        raise _invalid("canaryConfiguration is only valid when the deployment strategy is "
                       "CANARY.")  # message ours
    if linear is not None and strategy != "LINEAR":
        raise _invalid("linearConfiguration is only valid when the deployment strategy is "
                       "LINEAR.")  # message ours
    if canary:
        if canary.get("canaryPercent") is not None:
            _number(canary["canaryPercent"], "canaryPercent", 0.1, 100.0, tenths=True)
        if canary.get("canaryBakeTimeInMinutes") is not None:
            _number(canary["canaryBakeTimeInMinutes"], "canaryBakeTimeInMinutes", 0, BAKE_MAX)
    if linear:
        if linear.get("stepPercent") is not None:
            _number(linear["stepPercent"], "stepPercent", 3.0, 100.0, tenths=True)
        if linear.get("stepBakeTimeInMinutes") is not None:
            _number(linear["stepBakeTimeInMinutes"], "stepBakeTimeInMinutes", 0, BAKE_MAX)


def _validate_hooks(hooks: list[dict[str, Any]]) -> None:
    pauses = 0
    for hook in hooks:
        target = hook.get("targetType") or "AWS_LAMBDA"  # the API's default
        if target not in ("AWS_LAMBDA", "PAUSE"):
            raise _invalid("Invalid targetType. Valid values are: AWS_LAMBDA, PAUSE")
        if target == "AWS_LAMBDA":
            # The emulator's limit (stricter than AWS, allowed): it runs no Lambda.
            raise _invalid("The local emulator runs no Lambda functions: lifecycle hooks of "
                           "targetType AWS_LAMBDA (the default targetType) are not supported; use "
                           "targetType PAUSE and ContinueServiceDeployment.")
        pauses += 1
        stages = hook.get("lifecycleStages") or []
        if not stages:
            # "You must provide this parameter when configuring a deployment lifecycle hook."
            raise _invalid("lifecycleStages is required for a lifecycle hook.")  # message ours
        if any(stage not in PAUSE_STAGES for stage in stages):
            raise _invalid("Invalid lifecycle stage provided for Pause Hook")
        if hook.get("hookTargetArn") or hook.get("roleArn"):
            # "Pause hooks do not use hookTargetArn or roleArn."
            raise _invalid("Pause hooks do not use hookTargetArn or roleArn.")  # message ours
        timeout = hook.get("timeoutConfiguration") or {}
        if timeout.get("timeoutInMinutes") is not None:
            _number(timeout["timeoutInMinutes"], "timeoutInMinutes", 1, HOOK_TIMEOUT_MAX)
        if timeout.get("action", "ROLLBACK") not in ("ROLLBACK", "CONTINUE"):
            raise _invalid("timeoutConfiguration.action must be ROLLBACK or CONTINUE.")  # ours
    if pauses > MAX_PAUSE_HOOKS:
        raise _invalid(f"A service can have at most {MAX_PAUSE_HOOKS} pause hooks.")  # ours


# --- records ------------------------------------------------------------------------------------

@dataclass
class Lane:
    """One load balancer of the service and its blue/green pair."""

    container_name: str | None
    container_port: int | None
    blue_group: str
    green_group: str
    production_rule: str
    test_rule: str | None


@dataclass
class ServiceDeployment:
    arn: str
    service_arn: str
    cluster_arn: str
    service_key: tuple[str, str]  # (cluster name, service name)
    strategy: str
    config: dict[str, Any]
    target: str  # revision ARN
    sources: list[str]
    green: dict[str, Any]  # the ECS deployment (DescribeServices' record) it deploys
    blue: list[dict[str, Any]] = field(default_factory=list)  # those it replaces
    created_at: datetime.datetime | None = None
    started_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    stopped_at: datetime.datetime | None = None
    status: str = "IN_PROGRESS"
    status_reason: str | None = None
    stage: str | None = None
    stage_at: float = 0.0  # wall clock, when the stage (or the production step) began
    hooks: list[dict[str, Any]] = field(default_factory=list)  # the current stage's hooks
    lanes: list[Lane] = field(default_factory=list)
    invalid: str | None = None  # an asynchronous networking error found at the start
    production_weight: float = 0.0  # % of production traffic to green
    test_weight: float = 0.0
    step: int = 0
    rollback: dict[str, Any] | None = None
    rollback_deployment: dict[str, Any] | None = None  # rolling: the rollback's ECS deployment
    alarms: dict[str, Any] = field(default_factory=dict)
    breaker: dict[str, Any] = field(default_factory=dict)

    @property
    def staged(self) -> bool:
        return self.strategy != "ROLLING"


def _now() -> datetime.datetime:
    from moto.core.utils import utcnow

    return utcnow()


def _later(minutes: float) -> datetime.datetime:
    return _now() + datetime.timedelta(seconds=minutes * minute())


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    """The service deployments and revisions of one ECS backend, kept in the backend itself so
    a reset forgets them and Emulator.snapshot/restore copy them with the services."""
    return backend.__dict__.setdefault("_booking_deployments",
                                       {"deployments": {}, "revisions": {}})


def _backend_of(service: Any) -> Any:
    return service._backend


def _random_id(length: int) -> str:
    from moto.moto_api._internal import mock_random

    alphabet = string.ascii_letters + string.digits + "_-"
    return "".join(mock_random.choice(alphabet) for _ in range(length))


def _prefix(backend: Any, kind: str, service: Any) -> str:
    from moto.utilities.utils import get_partition

    region = backend.region_name
    return (f"arn:{get_partition(region)}:ecs:{region}:{backend.account_id}:{kind}/"
            f"{service.cluster_name}/{service.name}/")


def _event(service: Any, message: str) -> None:
    from moto.moto_api._internal import mock_random

    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": _now(),
                              "message": f"(service {service.name}) {message}"})
    del service.events[EVENTS_KEPT:]


def _new_revision(backend: Any, service: Any, deployment: dict[str, Any]) -> str:
    """A service revision: what the deployment runs (task definition, network, load balancers)."""
    from moto.moto_api._internal import mock_random

    arn = _prefix(backend, "service-revision", service) + str(
        mock_random.randint(10**18, 10**19 - 1))
    images: list[dict[str, Any]] = []
    try:
        definition = backend.describe_task_definition(deployment["taskDefinition"])
        images = [{"containerName": c.get("name"), "image": c.get("image")}
                  for c in definition.container_definitions]
    except Exception:  # a task definition moto cannot find: the revision still exists
        images = []
    _store(backend)["revisions"][arn] = {
        "serviceRevisionArn": arn, "serviceArn": service.arn, "clusterArn": service.cluster_arn,
        "taskDefinition": deployment["taskDefinition"],
        "capacityProviderStrategy": deployment.get("capacityProviderStrategy"),
        "launchType": deployment.get("launchType"),
        "platformVersion": deployment.get("platformVersion"),
        "platformFamily": deployment.get("platformFamily"),
        "loadBalancers": copy.deepcopy(service.load_balancers) or None,
        "serviceRegistries": copy.deepcopy(service.service_registries) or None,
        "networkConfiguration": copy.deepcopy(deployment.get("networkConfiguration")),
        "containerImages": images, "guardDutyEnabled": False, "createdAt": _now()}
    deployment["_bookingRevisionArn"] = arn
    return arn


# --- the listener rules -------------------------------------------------------------------------

def _elb(backend: Any) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[backend.account_id][backend.region_name]


def _rule(elb: Any, arn: str | None) -> Any:
    if not arn:
        return None
    for balancer in list(elb.load_balancers.values()):
        for listener in list(balancer.listeners.values()):
            for rule in list(listener.rules.values()):
                if rule.arn == arn:
                    return rule
    return None


def _forward(rule: Any) -> list[tuple[str, int]]:
    """(target group, weight) of the rule's forward action."""
    for action in rule.actions:
        if action.type != "forward":
            continue
        groups = (action.data.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return [(g["TargetGroupArn"], int(g.get("Weight", 1) or 0)) for g in groups]
        if action.data.get("TargetGroupArn"):
            return [(action.data["TargetGroupArn"], 1)]
    return []


def _weights(green_percent: float) -> tuple[int, int]:
    """(blue, green) ALB weights for a share of green (weights are integers 0-999: a share in
    tenths of a percent is written in thousandths)."""
    if abs(green_percent - round(green_percent)) < 1e-9:
        green = round(green_percent)
        return 100 - green, green
    green = round(green_percent * 10)
    return 1000 - green, green


def _shift(elb: Any, rule_arn: str | None, blue: str, green: str, green_percent: float) -> None:
    """Rewrite the rule's forward action: [{blue, weight}, {green, weight}] (ECS modifies the
    listener rule's target group weights: troubleshooting-blue-green.html, "During deployment,
    traffic is gradually shifted ... by adjusting the weights of the target groups in the listener
    rules"). tools/elb_proxy.py reads rules per request, so real traffic moves at once."""
    from moto.elbv2.models import FakeAction

    rule = _rule(elb, rule_arn)
    if rule is None or blue == green:
        return
    blue_weight, green_weight = _weights(green_percent)
    actions = []
    for action in rule.actions:
        if action.type != "forward":
            actions.append(action)
            continue
        data = copy.deepcopy(action.data)
        config = dict(data.get("ForwardConfig") or {})
        groups = [dict(g) for g in config.get("TargetGroups") or []]
        if not groups and data.get("TargetGroupArn"):
            groups = [{"TargetGroupArn": data["TargetGroupArn"], "Weight": 1}]
        for arn, weight in ((blue, blue_weight), (green, green_weight)):
            entry = next((g for g in groups if g["TargetGroupArn"] == arn), None)
            if entry is None:
                groups.append({"TargetGroupArn": arn, "Weight": weight})
            else:
                entry["Weight"] = weight
        config["TargetGroups"] = groups
        data.pop("TargetGroupArn", None)
        data["ForwardConfig"] = config
        actions.append(FakeAction(data))
    rule.actions = actions  # one assignment: a request reads either the old or the new actions


def _lanes(backend: Any, service: Any, first: bool) -> tuple[list[Lane], str | None]:
    """Each load balancer's blue and green groups, read from its production rule as ECS reads it
    at the deployment's start; an invalid set-up gives ECS's asynchronous networking error."""
    elb = _elb(backend)
    lanes = []
    for balancer in service.load_balancers or []:
        adv = balancer.get("advancedConfiguration") or {}
        if not adv:
            continue
        primary, alternate = balancer["targetGroupArn"], adv["alternateTargetGroupArn"]
        if adv.get("roleArn") and not _infrastructure_role_usable(backend, adv["roleArn"]):
            return [], (NETWORKING + "ECS was unable to manage the ELB resources due to missing "
                        f"permissions on ECS Infrastructure Role '{adv['roleArn']}'.")
        production = _rule(elb, adv["productionListenerRule"])
        test = _rule(elb, adv.get("testListenerRule"))
        if production is None or (adv.get("testListenerRule") and test is None):
            return [], NETWORKING + "One or more rules not found"
        prod_groups = _forward(production)
        test_groups = _forward(test) if test is not None else []
        associated = {g for g, _ in prod_groups} | {g for g, _ in test_groups}
        if test is None and not {primary, alternate} <= {g for g, _ in prod_groups}:
            return [], ("For Application LoadBalancer, testListenerRule is required when "
                        "productionListenerRule is not associated with both targetGroup and "
                        "alternateTargetGroup")
        if not {primary, alternate} <= associated:
            return [], (NETWORKING + "Both targetGroup and alternateTargetGroup must be "
                        "associated with the productionListenerRule or testListenerRule.")
        serving = [g for g, weight in prod_groups if weight > 0]
        if len(serving) != 1:
            return [], (NETWORKING + f"productionListenerRule {production.arn} should have "
                        f"exactly one target group serving traffic but found {len(serving)} "
                        "target groups which are serving traffic")
        if serving[0] not in (primary, alternate):
            return [], (NETWORKING + "Production listener rule is forwarding traffic to "
                        f"unexpected target group {serving[0]}. Expected traffic to be forwarded "
                        f"to either targetGroupArn: {primary} or alternateTargetGroupArn: "
                        f"{alternate}")
        blue = serving[0]
        green = blue if first else (alternate if blue == primary else primary)
        lanes.append(Lane(balancer.get("containerName"), balancer.get("containerPort"), blue,
                          green, production.arn, test.arn if test is not None else None))
    return lanes, None


def _infrastructure_role_usable(backend: Any, role_arn: str) -> bool:
    """ECS assumes advancedConfiguration.roleArn to move the weights: the role must exist and
    trust ecs.amazonaws.com (troubleshooting-blue-green.html, "Missing trust policy on
    infrastructure role"). Its permissions are not checked (the emulator enforces no IAM
    policy)."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    iam = iam_backends[backend.account_id][get_partition(backend.region_name)]
    role = next((r for r in iam.get_roles() if r.arn == role_arn), None)
    if role is None:
        return False
    trust = role.assume_role_policy_document
    trust = trust if isinstance(trust, str) else str(trust)
    return "ecs.amazonaws.com" in trust


def production_groups(service: Any) -> list[str] | None:
    """The target groups the service's production traffic goes to, once a blue/green deployment
    has moved it (None: the loadBalancers' targetGroupArn, as before any)."""
    return service.__dict__.get("_booking_production_groups")


# --- the data planes ----------------------------------------------------------------------------

class Plane(Protocol):
    """What the stage machine asks of a data plane about one ECS deployment's tasks."""

    def ready(self, deployment: dict[str, Any]) -> bool:
        """The deployment runs its desired count of healthy tasks (in its target groups)."""

    def failed_tasks(self, deployment: dict[str, Any]) -> int:
        """Its tasks that stopped before they were ever healthy (the circuit breaker's count)."""

    def gone(self, deployment: dict[str, Any]) -> bool:
        """None of its tasks is left (drained and stopped)."""


class ScriptedPlane:
    """No tasks run: green is healthy rollout_seconds after SCALE_UP began (or fails then, when
    scripted), and tasks let go are gone rollout_seconds later (moto_ecs.RUNTIME)."""

    def ready(self, deployment: dict[str, Any]) -> bool:
        import moto_ecs

        return moto_ecs.RUNTIME.due(deployment["id"]) == "COMPLETED"

    def failed_tasks(self, deployment: dict[str, Any]) -> int:
        import ecs_services
        import moto_ecs

        if moto_ecs.RUNTIME.due(deployment["id"]) != "FAILED":
            return 0
        return ecs_services.circuit_breaker_threshold(int(deployment.get("desiredCount") or 0))

    def gone(self, deployment: dict[str, Any]) -> bool:
        import moto_ecs

        let_go = deployment.get("_bookingRetiredAt")
        return let_go is not None and time.time() - let_go >= moto_ecs.RUNTIME.rollout_seconds


SCRIPTED = ScriptedPlane()


# --- service deployments: creation --------------------------------------------------------------

def in_progress(backend: Any, service: Any) -> ServiceDeployment | None:
    """The service's staged (non-rolling) deployment that has not finished, if any."""
    for sd in _of_service(backend, service):
        if sd.staged and sd.status not in TERMINAL:
            return sd
    return None


def _of_service(backend: Any, service: Any) -> list[ServiceDeployment]:
    key = (service.cluster_name, service.name)
    return [sd for sd in _store(backend)["deployments"].values() if sd.service_key == key]


def _live(service: Any, deployment: dict[str, Any]) -> bool:
    return any(d is deployment for d in service.deployments)


def started(service: Any, deployment: dict[str, Any],
            rollback_of: dict[str, Any] | None = None) -> ServiceDeployment | None:
    """A new ECS deployment of the service (moto_ecs.new_deployment, CreateService): its service
    revision and service deployment. `rollback_of`: the circuit breaker's rollback of that failed
    rolling deployment (the failed one's service deployment rolls back, no new one)."""
    backend = _backend_of(service)
    store = _store(backend)
    if rollback_of is not None:
        failed = next((sd for sd in store["deployments"].values() if sd.green is rollback_of),
                      None)
        target = failed.sources[0] if failed is not None and failed.sources else None
        if target is not None:
            deployment["_bookingRevisionArn"] = target
        else:
            _new_revision(backend, service, deployment)
        if failed is not None:
            failed.rollback_deployment = deployment
            failed.rollback = {"reason": CIRCUIT_BREAKER_ROLLBACK, "startedAt": _now(),
                               "serviceRevisionArn": deployment["_bookingRevisionArn"]}
            failed.status, failed.status_reason = "ROLLBACK_IN_PROGRESS", CIRCUIT_BREAKER_ROLLBACK
            failed.breaker["status"] = "TRIGGERED"
            failed.updated_at = _now()
        _production_groups_for(service, deployment)
        return None
    config = copy.deepcopy(getattr(service, "deployment_configuration", None) or {})
    strategy = config.get("strategy") or "ROLLING"
    for previous in _of_service(backend, service):  # a new deployment stops the ongoing one
        if previous.status not in TERMINAL:
            _supersede(backend, service, previous)
    others = [d for d in service.deployments
              if d is not deployment and not d.get("_bookingRetire")]
    sources = [d["_bookingRevisionArn"] for d in others if d.get("_bookingRevisionArn")]
    target = _new_revision(backend, service, deployment)
    arn = _prefix(backend, "service-deployment", service) + _random_id(21)
    now = _now()
    sd = ServiceDeployment(
        arn=arn, service_arn=service.arn, cluster_arn=service.cluster_arn,
        service_key=(service.cluster_name, service.name), strategy=strategy, config=config,
        target=target, sources=sources, green=deployment, blue=others, created_at=now,
        started_at=now, updated_at=now)
    sd.breaker = _breaker_status(config, deployment)
    sd.alarms = _alarm_status(backend, config)
    store["deployments"][arn] = sd
    deployment["_bookingServiceDeployment"] = arn
    if not sd.staged:
        _production_groups_for(service, deployment)
        return sd
    deployment["_bookingStaged"] = arn
    deployment["_bookingLaunch"] = False  # green starts at SCALE_UP
    sd.lanes, sd.invalid = _lanes(backend, service, first=not others)
    if sd.lanes:
        deployment["_bookingGroups"] = [lane.green_group for lane in sd.lanes]
        for blue in others:
            blue.setdefault("_bookingGroups", [lane.blue_group for lane in sd.lanes])
    _enter(backend, service, sd, "PRE_SCALE_UP")
    return sd


def _production_groups_for(service: Any, deployment: dict[str, Any]) -> None:
    """A rolling deployment after a blue/green one registers its tasks where production is."""
    groups = production_groups(service)
    if groups and "_bookingGroups" not in deployment:
        deployment["_bookingGroups"] = list(groups)


def _breaker_status(config: dict[str, Any], deployment: dict[str, Any]) -> dict[str, Any]:
    import ecs_services

    breaker = config.get("deploymentCircuitBreaker") or {}
    if not breaker.get("enable"):
        return {"status": "DISABLED", "failureCount": 0, "threshold": 0}
    return {"status": "MONITORING", "failureCount": 0,
            "threshold": ecs_services.circuit_breaker_threshold(
                int(deployment.get("desiredCount") or 0))}


def _alarm_states(backend: Any, names: list[str]) -> dict[str, str]:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms
    return {name: alarms[name].state_value for name in names if name in alarms}


def _alarm_status(backend: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The deployment's alarms. "If an alarm is in the ALARM state at the beginning of a
    deployment, Amazon ECS will not monitor alarms for the duration of that deployment"
    (deployment-alarm-failure.html)."""
    alarms = config.get("alarms") or {}
    names = list(alarms.get("alarmNames") or [])
    if not alarms.get("enable") or not names:
        return {"status": "DISABLED", "alarmNames": names, "triggeredAlarmNames": []}
    if "ALARM" in _alarm_states(backend, names).values():
        return {"status": "DISABLED", "alarmNames": names, "triggeredAlarmNames": []}
    return {"status": "MONITORING", "alarmNames": names, "triggeredAlarmNames": []}


def _supersede(backend: Any, service: Any, sd: ServiceDeployment) -> None:
    """A new deployment started while this one was ongoing: it is stopped ("STOP_REQUESTED - ...
    A user starts a new service deployment", service-deployment.html). A staged one gives its
    traffic back to blue and lets its green tasks go; the new deployment starts from blue."""
    now = _now()
    if sd.staged:
        _traffic_to_blue(backend, sd)
        sd.green["_bookingLaunch"] = False
        _retire(sd.green)
        _fail_hooks(sd)
    sd.status = "STOPPED"
    # (wording ours)
    sd.status_reason = "Service deployment stopped because a new service deployment started."
    sd.stopped_at = sd.finished_at = sd.updated_at = now


# --- the stage machine --------------------------------------------------------------------------

def _hooks_at(sd: ServiceDeployment, stage: str) -> list[dict[str, Any]]:
    hooks = []
    for hook in sd.config.get("lifecycleHooks") or []:
        if (hook.get("targetType") or "AWS_LAMBDA") != "PAUSE":
            continue
        if stage not in (hook.get("lifecycleStages") or []):
            continue
        timeout = hook.get("timeoutConfiguration") or {}
        minutes = float(timeout.get("timeoutInMinutes") or HOOK_TIMEOUT_MINUTES)
        hooks.append({"hookId": "ecs-pause-" + _random_id(43), "targetType": "PAUSE",
                      "status": "AWAITING_ACTION", "expiresAt": _later(minutes),
                      "timeoutAction": timeout.get("action") or "ROLLBACK",
                      "_expires": time.time() + minutes * minute(), "_stage": stage})
    return hooks


def _enter(backend: Any, service: Any, sd: ServiceDeployment, stage: str) -> None:
    sd.stage, sd.stage_at, sd.updated_at = stage, time.time(), _now()
    sd.hooks = _hooks_at(sd, stage) if stage in HOOK_STAGES else []
    if stage == "SCALE_UP":
        import moto_ecs

        sd.green["_bookingLaunch"] = True
        moto_ecs.RUNTIME.restart(sd.green["id"])  # the scripted plane's clock starts now
        sd.green["pendingCount"] = int(service.desired_count)
    elif stage == "TEST_TRAFFIC_SHIFT":
        elb = _elb(backend)
        for lane in sd.lanes:
            if lane.test_rule:
                _shift(elb, lane.test_rule, lane.blue_group, lane.green_group, 100.0)
        sd.test_weight = 100.0 if any(lane.test_rule for lane in sd.lanes) else 0.0
    elif stage == "PRODUCTION_TRAFFIC_SHIFT":
        sd.step += 1
        sd.production_weight = _step_weight(sd)
        elb = _elb(backend)
        for lane in sd.lanes:
            _shift(elb, lane.production_rule, lane.blue_group, lane.green_group,
                   sd.production_weight)
        _event(service, f"(deployment {sd.green['id']}) shifted {sd.production_weight:g}% of "
                        "production traffic to the new service revision.")  # ours
    elif stage == "CLEAN_UP":
        for blue in sd.blue:
            _retire(blue)


def _step_weight(sd: ServiceDeployment) -> float:
    if sd.strategy == "CANARY":
        canary = {**CANARY_DEFAULTS, **(sd.config.get("canaryConfiguration") or {})}
        return min(100.0, float(canary["canaryPercent"])) if sd.step == 1 else 100.0
    if sd.strategy == "LINEAR":
        linear = {**LINEAR_DEFAULTS, **(sd.config.get("linearConfiguration") or {})}
        return min(100.0, round(sd.step * float(linear["stepPercent"]), 6))
    return 100.0


def _step_bake_minutes(sd: ServiceDeployment) -> float:
    if sd.strategy == "CANARY":
        canary = {**CANARY_DEFAULTS, **(sd.config.get("canaryConfiguration") or {})}
        return float(canary["canaryBakeTimeInMinutes"])
    if sd.strategy == "LINEAR":
        linear = {**LINEAR_DEFAULTS, **(sd.config.get("linearConfiguration") or {})}
        return float(linear["stepBakeTimeInMinutes"])
    return 0.0


def _bake_minutes(sd: ServiceDeployment) -> float:
    bake = sd.config.get("bakeTimeInMinutes")
    return float(bake) if bake is not None else float(DEFAULT_BAKE_MINUTES)


def _retire(deployment: dict[str, Any]) -> None:
    """The deployment's tasks are let go (deregistered, drained, stopped by the data plane)."""
    if not deployment.get("_bookingRetire"):
        deployment["_bookingRetire"] = True
        deployment["_bookingRetiredAt"] = time.time()
    deployment["_bookingLaunch"] = False


def _traffic_to_blue(backend: Any, sd: ServiceDeployment) -> None:
    elb = _elb(backend)
    for lane in sd.lanes:
        _shift(elb, lane.production_rule, lane.blue_group, lane.green_group, 0.0)
        if lane.test_rule:
            _shift(elb, lane.test_rule, lane.blue_group, lane.green_group, 0.0)
    sd.production_weight = sd.test_weight = 0.0


def _fail_hooks(sd: ServiceDeployment) -> None:
    for hook in sd.hooks:
        if hook["status"] == "AWAITING_ACTION":
            hook["status"] = "FAILED"


def tick(backend: Any, service: Any, plane: Plane) -> None:
    """Advance the service's deployments as far as they can go now."""
    for sd in _of_service(backend, service):
        if not sd.staged:
            _sync_rolling(service, sd)
            continue
        for _ in range(32):  # stages that need no waiting follow one another at once
            if not _advance(backend, service, sd, plane):
                break
    for deployment in list(service.deployments):  # superseded greens, once drained
        staged = deployment.get("_bookingStaged")
        owner = _store(backend)["deployments"].get(staged) if staged else None
        if (deployment.get("_bookingRetire") and plane.gone(deployment)
                and (owner is None or owner.status in TERMINAL)):
            service.deployments[:] = [d for d in service.deployments if d is not deployment]


def advance(backend: Any, service: Any) -> None:
    """The scripted data plane moves deployments when asked about them; on the real one the
    scheduler's thread ticks them, and a call only reads the rolling ones' state afresh."""
    import ecs_podman

    if not ecs_podman.enabled():
        tick(backend, service, SCRIPTED)
        return
    for sd in _of_service(backend, service):
        if not sd.staged:
            _sync_rolling(service, sd)


def _advance(backend: Any, service: Any, sd: ServiceDeployment, plane: Plane) -> bool:
    """One step of the stage machine; True when something changed."""
    if sd.status in TERMINAL:
        return False
    if service.status != "ACTIVE":
        sd.status, sd.status_reason = "STOPPED", "The service was deleted."  # ours
        sd.stopped_at = sd.finished_at = sd.updated_at = _now()
        return False
    if sd.status in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
        return _advance_rollback(service, sd, plane)
    if sd.invalid is not None:
        _rollback(backend, service, sd, sd.invalid)
        return True
    if _monitors_fail(backend, service, sd, plane):
        return True
    if sd.hooks:
        waiting = [h for h in sd.hooks if h["status"] == "AWAITING_ACTION"]
        for hook in waiting:
            if time.time() >= hook["_expires"]:
                hook["status"] = "TIMED_OUT"
                if hook["timeoutAction"] == "ROLLBACK":
                    _rollback(backend, service, sd, "Service deployment rolled back because "
                              f"{sd.stage} pause hook timed out.")
                    return True
        if any(h["status"] == "AWAITING_ACTION" for h in sd.hooks):
            return False
    stage, elapsed = sd.stage, time.time() - sd.stage_at
    following = {"PRE_SCALE_UP": "SCALE_UP", "POST_SCALE_UP": "TEST_TRAFFIC_SHIFT",
                 "TEST_TRAFFIC_SHIFT": "POST_TEST_TRAFFIC_SHIFT",
                 "POST_TEST_TRAFFIC_SHIFT": "PRE_PRODUCTION_TRAFFIC_SHIFT",
                 "PRE_PRODUCTION_TRAFFIC_SHIFT": "PRODUCTION_TRAFFIC_SHIFT",
                 "POST_PRODUCTION_TRAFFIC_SHIFT": "BAKE_TIME"}
    if stage in following:
        _enter(backend, service, sd, following[stage])
        return True
    if stage == "SCALE_UP":
        if not plane.ready(sd.green):
            return False
        desired = int(service.desired_count)
        if isinstance(plane, ScriptedPlane):
            sd.green.update(runningCount=desired, pendingCount=0)
            service.running_count = sum(int(d.get("runningCount") or 0)
                                        for d in service.deployments)
            service.pending_count = 0
        _enter(backend, service, sd, "POST_SCALE_UP")
        return True
    if stage == "PRODUCTION_TRAFFIC_SHIFT":
        if sd.production_weight >= 100.0:
            _enter(backend, service, sd, "POST_PRODUCTION_TRAFFIC_SHIFT")
            return True
        if elapsed >= _step_bake_minutes(sd) * minute():
            _enter(backend, service, sd, "PRE_PRODUCTION_TRAFFIC_SHIFT")
            return True
        return False
    if stage == "BAKE_TIME":
        if elapsed < _bake_minutes(sd) * minute():
            return False
        if sd.alarms.get("status") == "MONITORING":
            sd.alarms["status"] = "MONITORING_COMPLETE"
        _enter(backend, service, sd, "CLEAN_UP")
        return True
    if stage == "CLEAN_UP":
        if not all(plane.gone(blue) for blue in sd.blue):
            return False
        _succeed(service, sd)
        return True
    return False


def _monitors_fail(backend: Any, service: Any, sd: ServiceDeployment, plane: Plane) -> bool:
    """The circuit breaker and the deployment alarms, until the bake time is over."""
    if sd.stage == "CLEAN_UP":
        return False
    if sd.breaker.get("status") == "MONITORING" and sd.stage != "PRE_SCALE_UP":
        failed = plane.failed_tasks(sd.green)
        sd.breaker["failureCount"] = failed
        if failed >= sd.breaker["threshold"]:
            sd.breaker["status"] = "TRIGGERED"
            breaker = sd.config.get("deploymentCircuitBreaker") or {}
            _event(service, f"(deployment {sd.green['id']}) deployment failed: tasks failed to "
                            "start.")
            if breaker.get("rollback"):
                _rollback(backend, service, sd, CIRCUIT_BREAKER_ROLLBACK, evented=True)
            else:
                _stop_failed(service, sd, "Service deployment failed because the circuit breaker "
                                          "threshold was exceeded.")  # ours
            return True
    if sd.alarms.get("status") == "MONITORING":
        states = _alarm_states(backend, sd.alarms["alarmNames"])
        firing = [name for name in sd.alarms["alarmNames"] if states.get(name) == "ALARM"]
        if firing:
            sd.alarms.update(status="TRIGGERED", triggeredAlarmNames=firing)
            rollback = bool((sd.config.get("alarms") or {}).get("rollback"))
            # The service event as ECS writes it ("deployment failed: alarm detected.");
            # the deployment's reason names the alarms (wording ours).
            _event(service, f"(deployment {sd.green['id']}) deployment failed: alarm detected.")
            names = ", ".join(firing)
            if rollback:
                _rollback(backend, service, sd, "Service deployment rolled back because the "
                          f"CloudWatch alarm(s) {names} went into the ALARM state.", evented=True)
            else:
                _stop_failed(service, sd, "Service deployment failed because the CloudWatch "
                                          f"alarm(s) {names} went into the ALARM state.")
            return True
    return False


def _stop_failed(service: Any, sd: ServiceDeployment, reason: str) -> None:
    """Failure detected without rollback: STOP_REQUESTED -> STOPPED (service-deployment.html);
    the failed deployment launches no more tasks ("A deployment in a FAILED state won't launch
    any new tasks")."""
    sd.green.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=_now())
    sd.green["_bookingLaunch"] = False
    _fail_hooks(sd)
    sd.status, sd.status_reason = "STOPPED", reason
    sd.stopped_at = sd.finished_at = sd.updated_at = _now()


def _rollback(backend: Any, service: Any, sd: ServiceDeployment, reason: str,
              requested: bool = False, evented: bool = False) -> None:
    """Back to blue: traffic at once, green let go, blue PRIMARY again (no new blue task while
    blue still runs: that is what the bake time keeps it for)."""
    now = _now()
    _fail_hooks(sd)
    sd.status_reason, sd.updated_at = reason, now
    green = sd.green
    green.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=now)
    green["_bookingLaunch"] = False
    blue = sd.blue[0] if sd.blue else None
    if blue is None:  # the service's first deployment: nothing to roll back to
        sd.status = "ROLLBACK_FAILED"
        sd.status_reason = reason + " There is no service revision to roll back to."  # ours
        sd.finished_at = now
        if not evented:
            _event(service, f"(deployment {green['id']}) deployment failed: {reason}")
        return
    _traffic_to_blue(backend, sd)
    _retire(green)
    green["status"] = "ACTIVE"
    if blue.get("_bookingRetire"):  # CLEAN_UP had begun: blue runs again
        blue.pop("_bookingRetire", None)
        blue.pop("_bookingRetiredAt", None)
        blue["_bookingLaunch"] = True
    blue.update(status="PRIMARY", updatedAt=now)
    service.task_definition = blue["taskDefinition"]
    sd.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": blue.get(
        "_bookingRevisionArn") or (sd.sources[0] if sd.sources else None)}
    sd.status = "ROLLBACK_REQUESTED" if requested else "ROLLBACK_IN_PROGRESS"
    if not evented:
        _event(service, f"(deployment {green['id']}) deployment failed: {reason}")
    _event(service, f"rolling back to deployment {blue['id']}.")


def _advance_rollback(service: Any, sd: ServiceDeployment, plane: Plane) -> bool:
    if sd.status == "ROLLBACK_REQUESTED":
        sd.status, sd.updated_at = "ROLLBACK_IN_PROGRESS", _now()
        return True
    blue = sd.blue[0]
    if not plane.gone(sd.green):
        return False
    if blue.get("_bookingLaunch") and not plane.ready(blue):
        return False
    blue.pop("_bookingLaunch", None)
    now = _now()
    sd.status, sd.finished_at, sd.updated_at = "ROLLBACK_SUCCESSFUL", now, now
    sd.green.update(runningCount=0, pendingCount=0)
    service.deployments[:] = [d for d in service.deployments if d is not sd.green]
    if isinstance(plane, ScriptedPlane):
        service.running_count = int(blue.get("runningCount") or service.desired_count)
        service.pending_count = 0
    _event(service, "has reached a steady state.")
    return True


def _succeed(service: Any, sd: ServiceDeployment) -> None:
    now = _now()
    green = sd.green
    green.update(rolloutState="COMPLETED", updatedAt=now, status="PRIMARY",
                 rolloutStateReason=f"ECS deployment {green['id']} completed.")
    for blue in sd.blue:
        blue.update(runningCount=0, pendingCount=0)
    service.deployments[:] = [green]
    if sd.lanes:
        service.__dict__["_booking_production_groups"] = [lane.green_group for lane in sd.lanes]
    if sd.alarms.get("status") == "MONITORING":
        sd.alarms["status"] = "MONITORING_COMPLETE"
    if sd.breaker.get("status") == "MONITORING":
        sd.breaker["status"] = "MONITORING_COMPLETE"
    sd.status, sd.status_reason = "SUCCESSFUL", None
    sd.finished_at = sd.updated_at = now
    sd.hooks = []
    service.running_count = int(green.get("runningCount") or service.desired_count)
    service.pending_count = 0
    scheduler_completed(service, green)
    _event(service, f"(deployment {green['id']}) deployment completed.")
    _event(service, "has reached a steady state.")


def scheduler_completed(service: Any, deployment: dict[str, Any]) -> None:
    """The real plane's scheduler remembers the last completed task definition (its rollback
    target); harmless on the scripted plane."""
    import ecs_services

    scheduler = ecs_services.SCHEDULER.services.get(service.arn)
    if scheduler is not None:
        scheduler.last_completed = deployment["taskDefinition"]


def _sync_rolling(service: Any, sd: ServiceDeployment) -> None:
    """A rolling deployment's status, from its ECS deployment."""
    if sd.status in TERMINAL:
        return
    now = _now()
    if sd.rollback_deployment is not None:
        state = sd.rollback_deployment.get("rolloutState")
        if state == "COMPLETED":
            sd.status, sd.finished_at, sd.updated_at = "ROLLBACK_SUCCESSFUL", now, now
        elif state == "FAILED":
            sd.status, sd.finished_at, sd.updated_at = "ROLLBACK_FAILED", now, now
        return
    state = sd.green.get("rolloutState")
    if state == "COMPLETED":
        sd.status, sd.finished_at, sd.updated_at = "SUCCESSFUL", now, now
        for monitor in (sd.breaker, sd.alarms):
            if monitor.get("status") == "MONITORING":
                monitor["status"] = "MONITORING_COMPLETE"
        sd.breaker["failureCount"] = int(sd.green.get("failedTasks") or 0)
    elif state == "FAILED":
        sd.status, sd.status_reason = "STOPPED", sd.green.get("rolloutStateReason")
        sd.breaker.update(status="TRIGGERED", failureCount=int(sd.green.get("failedTasks") or 0))
        sd.stopped_at = sd.finished_at = sd.updated_at = now
    elif not _live(service, sd.green) or sd.green.get("status") != "PRIMARY":
        sd.status = "STOPPED"
        sd.status_reason = "Service deployment stopped because a new service deployment " \
                           "started."  # ours
        sd.stopped_at = sd.finished_at = sd.updated_at = now


# --- the API ------------------------------------------------------------------------------------

def _summary(sd: ServiceDeployment, arn: str, deployment: dict[str, Any] | None,
             green: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {"arn": arn}
    if deployment is not None:
        summary.update(requestedTaskCount=int(deployment.get("desiredCount") or 0),
                       runningTaskCount=int(deployment.get("runningCount") or 0),
                       pendingTaskCount=int(deployment.get("pendingCount") or 0))
    if sd.staged:
        production = sd.production_weight if green else 100.0 - sd.production_weight
        test = sd.test_weight if green else 100.0 - sd.test_weight
        summary.update(requestedProductionTrafficWeight=production,
                       requestedTestTrafficWeight=test)
    return summary


def _described(sd: ServiceDeployment) -> dict[str, Any]:
    blues = {d.get("_bookingRevisionArn"): d for d in sd.blue}
    answer: dict[str, Any] = {
        "serviceDeploymentArn": sd.arn, "serviceArn": sd.service_arn,
        "clusterArn": sd.cluster_arn, "createdAt": sd.created_at, "startedAt": sd.started_at,
        "finishedAt": sd.finished_at, "stoppedAt": sd.stopped_at, "updatedAt": sd.updated_at,
        "sourceServiceRevisions": [_summary(sd, arn, blues.get(arn), False)
                                   for arn in sd.sources],
        "targetServiceRevision": _summary(sd, sd.target, sd.green, True),
        "status": sd.status, "statusReason": sd.status_reason,
        "deploymentConfiguration": sd.config, "rollback": sd.rollback,
        "deploymentCircuitBreaker": sd.breaker or None,
        "alarms": sd.alarms or None,
    }
    if sd.staged:
        answer["lifecycleStage"] = sd.stage
        answer["lifecycleHookDetails"] = [
            {k: v for k, v in hook.items() if not k.startswith("_")} for hook in sd.hooks]
    return answer


def _brief(sd: ServiceDeployment) -> dict[str, Any]:
    return {"serviceDeploymentArn": sd.arn, "serviceArn": sd.service_arn,
            "clusterArn": sd.cluster_arn, "startedAt": sd.started_at,
            "createdAt": sd.created_at, "finishedAt": sd.finished_at,
            "targetServiceRevisionArn": sd.target, "status": sd.status,
            "statusReason": sd.status_reason}


def _service_of(backend: Any, sd: ServiceDeployment) -> Any:
    return backend.services.get(f"{sd.service_key[0]}:{sd.service_key[1]}")


def _find(backend: Any, arn: str) -> ServiceDeployment:
    sd = _store(backend)["deployments"].get(arn or "")
    if sd is None:
        raise _not_found()
    service = _service_of(backend, sd)
    if service is not None:
        advance(backend, service)
    return sd


def _epoch(value: Any) -> float:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.timestamp()
    return float(value)


def list_service_deployments(backend: Any, cluster: str, service_name: str,
                             statuses: list[str] | None, created: dict[str, Any] | None,
                             token: str | None, limit: int | None) -> dict[str, Any]:
    """ListServiceDeployments: newest first, 20 a page by default (1-100)."""
    service = backend._get_service(cluster or "default", service_name)
    advance(backend, service)
    if limit is not None and not 1 <= int(limit) <= 100:
        raise _invalid("maxResults must be between 1 and 100.")  # ours
    found = sorted(_of_service(backend, service), key=lambda sd: _epoch(sd.created_at),
                   reverse=True)
    if statuses:
        found = [sd for sd in found if sd.status in statuses]
    created = created or {}
    if created.get("before") is not None:
        found = [sd for sd in found if _epoch(sd.created_at) < _epoch(created["before"])]
    if created.get("after") is not None:
        found = [sd for sd in found if _epoch(sd.created_at) > _epoch(created["after"])]
    start = int(token) if token and token.isdigit() else 0
    size = int(limit or 20)
    page = found[start:start + size]
    answer: dict[str, Any] = {"serviceDeployments": [_brief(sd) for sd in page]}
    if start + size < len(found):
        answer["nextToken"] = str(start + size)
    return answer


def describe_service_deployments(backend: Any, arns: list[str]) -> dict[str, Any]:
    if not arns or len(arns) > 20:
        raise _invalid("serviceDeploymentArns must hold between 1 and 20 ARNs.")  # ours
    found, failures = [], []
    for arn in arns:
        try:
            found.append(_described(_find(backend, arn)))
        except Exception as error:
            if getattr(error, "code", "") != "ServiceDeploymentNotFoundException":
                raise
            failures.append({"arn": arn, "reason": "MISSING"})
    return {"serviceDeployments": found, "failures": failures}


def describe_service_revisions(backend: Any, arns: list[str]) -> dict[str, Any]:
    if not arns or len(arns) > 20:
        raise _invalid("serviceRevisionArns must hold between 1 and 20 ARNs.")  # ours
    revisions = _store(backend)["revisions"]
    return {"serviceRevisions": [revisions[arn] for arn in arns if arn in revisions],
            "failures": [{"arn": arn, "reason": "MISSING"} for arn in arns
                         if arn not in revisions]}


def stop_service_deployment(backend: Any, arn: str, stop_type: str | None) -> dict[str, Any]:
    """StopServiceDeployment ROLLBACK: "You can use this option even if you didn't configure the
    service deployment for the rollback option"; a deployment PENDING or IN_PROGRESS moves to
    ROLLBACK_REQUESTED, one already stopping or rolling back continues (stop-service-deployment
    .html). ABORT is in the API's enum but its reference says "The valid values are ROLLBACK":
    the emulator refuses it, and a call without stopType."""
    sd = _find(backend, arn)
    if stop_type != "ROLLBACK":
        raise _invalid(f"stopType {stop_type or '(none)'} is not supported by the local emulator: "
                       "the API reference lists ROLLBACK as the valid value.")  # the emulator's
    if sd.status in ("STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"):
        return {"serviceDeploymentArn": sd.arn}
    if sd.status in TERMINAL:
        # ConflictException: "conflict in the current state of the resource" (API reference);
        # the message is ours.
        raise _error("ConflictException", f"The service deployment {sd.arn} is {sd.status} and "
                                          "can no longer be stopped.")
    service = _service_of(backend, sd)
    reason = "Service deployment rolled back because a rollback was requested with " \
             "StopServiceDeployment."  # ours
    if sd.staged:
        _rollback(backend, service, sd, reason, requested=True)
    else:
        _rollback_rolling(service, sd, reason)
    return {"serviceDeploymentArn": sd.arn}


def _rollback_rolling(service: Any, sd: ServiceDeployment, reason: str) -> None:
    """A rolling deployment rolled back on request: the service deploys its source revision's
    task definition again (a new ECS deployment, as the circuit breaker's rollback)."""
    import moto_ecs

    backend = _backend_of(service)
    source = _store(backend)["revisions"].get(sd.sources[0]) if sd.sources else None
    if source is None:
        sd.status, sd.status_reason = "ROLLBACK_FAILED", reason + \
            " There is no service revision to roll back to."  # ours
        sd.finished_at = sd.updated_at = _now()
        return
    sd.green.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=_now())
    service.task_definition = source["taskDefinition"]
    _event(service, f"(deployment {sd.green['id']}) deployment failed: {reason}")
    rolled = moto_ecs.new_deployment(service, source["taskDefinition"], outcome="COMPLETED",
                                     rollback_of=sd.green)
    sd.status, sd.status_reason = "ROLLBACK_REQUESTED", reason
    sd.rollback = {"reason": reason, "startedAt": _now(), "serviceRevisionArn": source[
        "serviceRevisionArn"]}
    _event(service, f"rolling back to deployment {rolled['id']}.")


_HOOK_ID = re.compile(r"^ecs-[a-z]+-[A-Za-z0-9_-]+$")


def continue_service_deployment(backend: Any, arn: str, hook_id: str,
                                action: str | None) -> dict[str, Any]:
    """ContinueServiceDeployment: CONTINUE (the default) or ROLLBACK a PAUSE hook awaiting action;
    the errors with the messages of troubleshooting-blue-green.html (their exception codes are
    not documented: InvalidParameterException for the hookId, ClientException for a finished
    deployment are the emulator's choice)."""
    sd = _find(backend, arn)
    if sd.status in TERMINAL:
        raise _client_error("Continuing a service deployment is not allowed for service "
                            "deployment in terminal states.")
    if not _HOOK_ID.match(hook_id or ""):
        raise _invalid("Invalid hookId: hookId must follow the format: ecs-{hookType}-{id}")
    hook = next((h for h in sd.hooks if h["hookId"] == hook_id
                 and h["status"] == "AWAITING_ACTION"), None)
    if hook is None or sd.status != "IN_PROGRESS":
        raise _invalid("Provided hookId is either completed, unavailable, or not associated with "
                       "the given Resource ARN")
    action = action or "CONTINUE"
    if action not in ("CONTINUE", "ROLLBACK"):
        raise _invalid("action must be CONTINUE or ROLLBACK.")  # ours (botocore refuses first)
    service = _service_of(backend, sd)
    if action == "CONTINUE":
        hook["status"] = "SUCCEEDED"
        sd.updated_at = _now()
        advance(backend, service)
    else:
        # A hook that fails rolls the deployment back (pause-lifecycle-hooks.html: "If any hook
        # triggers a rollback, the entire deployment rolls back"); the reason is worded as ECS
        # words a failed hook ("... because <stage> lifecycle hook(s) failed.").
        hook["status"] = "FAILED"
        _rollback(backend, service, sd, f"Service deployment rolled back because {sd.stage} "
                                        "lifecycle hook(s) failed.")
    return {"serviceDeploymentArn": sd.arn}


def forget_service(backend: Any, service: Any) -> None:
    """DeleteService: "Amazon ECS deletes the service deployment when you delete a service"
    (service-deployment.html)."""
    store = _store(backend)
    key = (service.cluster_name, service.name)
    for arn in [arn for arn, sd in store["deployments"].items() if sd.service_key == key]:
        del store["deployments"][arn]


def apply() -> None:
    """Add the service deployment operations to moto's ECS responses (moto_ecs.apply calls it)."""
    from moto.core.responses import ActionResult
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse

    def list_deployments(self: Any) -> Any:
        return ActionResult(list_service_deployments(
            self.ecs_backend, self._get_param("cluster", "default"), self._get_param("service"),
            self._get_param("status"), self._get_param("createdAt"),
            self._get_param("nextToken"), self._get_param("maxResults")))

    def describe_deployments(self: Any) -> Any:
        return ActionResult(describe_service_deployments(
            self.ecs_backend, self._get_param("serviceDeploymentArns") or []))

    def describe_revisions(self: Any) -> Any:
        return ActionResult(describe_service_revisions(
            self.ecs_backend, self._get_param("serviceRevisionArns") or []))

    def stop_deployment(self: Any) -> Any:
        return ActionResult(stop_service_deployment(
            self.ecs_backend, self._get_param("serviceDeploymentArn"),
            self._get_param("stopType")))

    def continue_deployment(self: Any) -> Any:
        return ActionResult(continue_service_deployment(
            self.ecs_backend, self._get_param("serviceDeploymentArn"),
            self._get_param("hookId"), self._get_param("action")))

    import moto_ecs

    cls.list_service_deployments = moto_ecs._locked(list_deployments)
    cls.describe_service_deployments = moto_ecs._locked(describe_deployments)
    cls.describe_service_revisions = moto_ecs._locked(describe_revisions)
    cls.stop_service_deployment = moto_ecs._locked(stop_deployment)
    cls.continue_service_deployment = moto_ecs._locked(continue_deployment)
