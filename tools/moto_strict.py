"""STRICT emulator mode: moto made as strict as AWS where a first run on a new account fails.

moto answers at once and checks little: a service-linked role that does not exist, an IAM role
created a second ago, a load balancer still provisioning, a NAT gateway still pending, a resource
read right after its create, a throttled call, an RDS version AWS no longer offers - all succeed.
On AWS each of these fails a first run (../shared/notes/real-aws-audit.md #2, #3, #4, #9-#12).
This module restores those failures, each with AWS's own error code and message shape, so that
roles can be made to survive them against the emulator.

The rule: every behaviour here makes the emulator more faithful or stricter than moto, never more
lenient than AWS. Each names the AWS behaviour and its public source (docs/emulator.md, "Strict
mode", lists them) and has a test in tests/test_moto_strict.py showing that the call fails as on
AWS while the condition holds and succeeds once it no longer does.

Off unless BOOKING_EMULATOR_STRICT is set (read when moto_patches.apply_all() runs): a
comma-separated spec, e.g. ``slr,iam=8,waf=8,nat,consistency=3,throttle=0.03,rds_versions``;
``1``/``on``/``all`` means every behaviour at its default, ``test`` the short holds of the test
suites (PROFILES); unset, ``0`` or ``off`` leaves the emulator exactly as without this module.
BOOKING_EMULATOR_STRICT_SEED seeds the throttling RNG.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

STRICT_ENV = "BOOKING_EMULATOR_STRICT"
SEED_ENV = "BOOKING_EMULATOR_STRICT_SEED"
DEFAULT_SEED = 1729

# Spec keys that take seconds (or, for throttle, a share of calls), and their defaults.
# nat and waf hold resources that take minutes on AWS (NAT gateways, ALBs): their defaults outlast
# the Ansible tasks between a create and its first use (in site.yml the private routes came 11 s
# and 17 s after their NAT gateways: a 3 s or 10 s hold was over by then).
DEFAULTS: dict[str, float] = {
    "slr": 5.0,          # seconds a new service-linked role takes before ECS can assume it
    "iam": 8.0,          # seconds a new role / trust / policy takes to reach other services
    "waf": 30.0,         # seconds before WAF can find a new web ACL (and an ALB's provisioning)
    "nat": 30.0,         # seconds a NAT gateway stays pending (when CREATE_SECONDS names none)
    "consistency": 3.0,  # seconds a new resource may be missing from its describe call
    "throttle": 0.03,    # share of AWS calls answered with the protocol's throttling error
}
FLAGS = ("rds_versions",)
# Named specs. "test": every behaviour, with holds short enough for a test suite that converges
# site.yml several times (each race is still taken: the roles' retries and waits run) - the
# default of the pytest suite and the molecule scenarios. The site stack (tests/conftest.py)
# runs the long holds under which the NAT and WAF races really show.
PROFILES: dict[str, str] = {
    "test": "all,slr=2,iam=3,waf=4,nat=4,consistency=2",
}
_ALL_ON = {"1", "on", "all", "true", "yes"}
_ALL_OFF = {"", "0", "off", "false", "no"}

HOOK_PREFIX = "/_emulator/"
SETTINGS_PATH = "/_emulator/strict"
FORCE_MINOR_UPGRADE_PATH = "/_emulator/rds/force-minor-upgrade"


@dataclass(frozen=True)
class StrictSettings:
    """The strict behaviours turned on (None: off) and their delays in seconds."""

    slr: float | None = None
    iam: float | None = None
    waf: float | None = None
    nat: float | None = None
    consistency: float | None = None
    throttle: float | None = None
    rds_versions: bool = False
    seed: int = DEFAULT_SEED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_spec(spec: str | None, seed: str | None = None) -> StrictSettings | None:
    """The settings a BOOKING_EMULATOR_STRICT value asks for; None when strict mode is off.

    ``1``/``on``/``all`` turns every behaviour on at its default and may be combined with
    overrides (``all,iam=8``). An unknown key or a bad value raises ValueError, so a typo stops
    the emulator instead of silently testing less.
    """
    text = (spec or "").strip()
    text = PROFILES.get(text.lower(), text)
    if text.lower() in _ALL_OFF:
        return None
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, has_value, raw = (s.strip() for s in item.partition("="))
        key = key.lower()
        if key in _ALL_ON and not has_value:
            values.update({**DEFAULTS, **dict.fromkeys(FLAGS, True), **values})
            continue
        if key in FLAGS:
            if has_value and raw.lower() in _ALL_OFF:
                values.pop(key, None)
            elif has_value and raw.lower() not in _ALL_ON:
                raise ValueError(f"{STRICT_ENV}: {key} takes no value, got {item!r}")
            else:
                values[key] = True
            continue
        if key not in DEFAULTS:
            known = ", ".join([*DEFAULTS, *FLAGS])
            raise ValueError(f"{STRICT_ENV}: unknown behaviour {key!r} (known: {known})")
        try:
            number = float(raw) if has_value and raw else DEFAULTS[key]
        except ValueError:
            raise ValueError(f"{STRICT_ENV}: {item!r} needs a number") from None
        if number < 0 or (key == "throttle" and number > 1):
            raise ValueError(f"{STRICT_ENV}: {item!r} is out of range")
        values[key] = number
    if not values:
        return None
    return StrictSettings(**values, seed=int(seed) if seed else DEFAULT_SEED)


# ---------------------------------------------------------------------------------------------
# Shared helpers: when an object was born, and the error types of each protocol.

_BORN = "_strict_born"


def _stamp_on_init(cls: type) -> None:
    """Record (monotonic) when each instance of `cls` is created, as `_strict_born`."""
    original = cls.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.__dict__[_BORN] = time.monotonic()

    cls.__init__ = __init__  # type: ignore[misc]


def _age(obj: Any, attribute: str = _BORN) -> float:
    """Seconds since `obj` was stamped (infinite when it never was: created before the patch)."""
    stamp = obj.__dict__.get(attribute)
    return float("inf") if stamp is None else time.monotonic() - stamp


def _argument(function: Callable[..., Any], name: str, args: tuple, kwargs: dict) -> Any:
    """The value `function` (a method, self first) gets for parameter `name` in this call."""
    bound = inspect.signature(function).bind_partial(*args, **kwargs)
    return bound.arguments.get(name)


def _checked(method: Callable[..., Any], parameter: str,
             check: Callable[[Any, Any], None]) -> Callable[..., Any]:
    """`method` (a backend method), first calling check(backend, <its `parameter` argument>)."""

    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(self, _argument(method, parameter, (self, *args), kwargs))
        return method(self, *args, **kwargs)

    return checked


def _json_error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def _partition(region: str) -> str:
    from moto.utilities.utils import get_partition

    return get_partition(region)


def _iam(account_id: str, region: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id][_partition(region)]


# ---------------------------------------------------------------------------------------------
# slr: service-linked roles exist before the services that need them.

# AWS's names for the service-linked roles our stack can meet (moto derives "AWSServiceRoleForecs"
# from the service principal). IAM User Guide, "AWS services that work with IAM", and each
# service's "Using service-linked roles" page.
SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "config.amazonaws.com": "AWSServiceRoleForConfig",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache",
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "ecs.application-autoscaling.amazonaws.com":
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
}
ECS_SLR_SERVICE = "ecs.amazonaws.com"
CONFIG_SLR_SERVICE = "config.amazonaws.com"
ECS_SLR_MESSAGE = ("Unable to assume the service linked role. Please verify that the ECS service "
                   "linked role exists.")
FARGATE_PROVIDERS = {"FARGATE", "FARGATE_SPOT"}


def _service_linked_role(account_id: str, region: str, service: str) -> Any | None:
    path = f"/aws-service-role/{service}/"
    name = SERVICE_LINKED_ROLE_NAMES.get(service)
    for role in _iam(account_id, region).get_roles():
        if role.path == path and (name is None or role.name == name):
            return role
    return None


def _slr_names() -> None:
    """CreateServiceLinkedRole names roles as AWS does, and refuses a second one like AWS.

    AWS: ``AWSServiceRoleForECS`` at /aws-service-role/ecs.amazonaws.com/ (moto:
    ``AWSServiceRoleForecs``); creating it again answers InvalidInput "Service role name
    AWSServiceRoleForECS has been taken in this account, please try a different suffix."
    (moto: EntityAlreadyExists).
    """
    from moto.iam.exceptions import InvalidInput
    from moto.iam.models import IAMBackend

    original = IAMBackend.create_service_linked_role

    def create_service_linked_role(self: Any, service_name: str, description: str,
                                   suffix: str) -> Any:
        aws_name = SERVICE_LINKED_ROLE_NAMES.get(service_name)
        if aws_name is None:
            return original(self, service_name, description, suffix)
        role_name = f"{aws_name}_{suffix}" if suffix else aws_name
        if any(role.name == role_name for role in self.get_roles()):
            raise InvalidInput(f"Service role name {role_name} has been taken in this account, "
                               "please try a different suffix.")
        document = {"Version": "2012-10-17", "Statement": [{
            "Action": ["sts:AssumeRole"], "Effect": "Allow",
            "Principal": {"Service": [service_name]}}]}
        return self.create_role(role_name, json.dumps(document),
                                f"/aws-service-role/{service_name}/", permissions_boundary=None,
                                description=description, tags=[], max_session_duration="3600",
                                linked_service=service_name)

    IAMBackend.create_service_linked_role = create_service_linked_role


def _ecs_needs_its_service_linked_role(settings: StrictSettings) -> None:
    """CreateCluster with FARGATE / FARGATE_SPOT fails until ECS's service-linked role is usable.

    AWS: ECS creates AWSServiceRoleForECS itself the first time a cluster is created, but a
    cluster naming the Fargate capacity providers needs the role at once: on a new account it
    fails with InvalidParameterException "Unable to assume the service linked role. Please verify
    that the ECS service linked role exists." and a re-run succeeds (CloudFormation coverage
    roadmap #818; aws-samples/run-selenium-tests-at-scale-using-ecs-fargate #2). So: a missing
    role is created by the call that fails; a role younger than `slr` seconds fails the call
    too (IAM propagation, ~10 s in aws-solutions-library-samples/guidance-for-claude-code-with-
    amazon-bedrock #252). PutClusterCapacityProviders adding FARGATE* is held to the same rule.
    """
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.models import EC2ContainerServiceBackend

    delay = settings.slr or 0.0

    def check(backend: Any, providers: Iterable[str] | None) -> None:
        account_id, region = backend.account_id, backend.region_name
        role = _service_linked_role(account_id, region, ECS_SLR_SERVICE)
        if role is None:
            _iam(account_id, region).create_service_linked_role(ECS_SLR_SERVICE, "", "")
            if FARGATE_PROVIDERS & set(providers or []):
                raise InvalidParameterException(ECS_SLR_MESSAGE)
        elif FARGATE_PROVIDERS & set(providers or []) and _age(role) < delay:
            raise InvalidParameterException(ECS_SLR_MESSAGE)

    for name in ("create_cluster", "put_cluster_capacity_providers"):
        setattr(EC2ContainerServiceBackend, name,
                _checked(getattr(EC2ContainerServiceBackend, name), "capacity_providers", check))


# ---------------------------------------------------------------------------------------------
# iam: a role (or its trust / permissions policy) takes time to reach other services.

_TRUST_CHANGED = "_strict_trust_changed"
_POLICY_CHANGED = "_strict_policy_changed"


def _track_role_changes() -> None:
    """Stamp each real change of a role's trust or permissions policies (creation: apply())."""
    from moto.iam.models import IAMBackend

    def stamp(role: Any, attribute: str) -> None:
        role.__dict__[attribute] = time.monotonic()

    update_trust = IAMBackend.update_assume_role_policy

    def update_assume_role_policy(self: Any, role_name: str, policy_document: str) -> None:
        before = self.get_role(role_name).assume_role_policy_document
        update_trust(self, role_name, policy_document)
        role = self.get_role(role_name)
        if role.assume_role_policy_document != before:
            stamp(role, _TRUST_CHANGED)

    put_policy = IAMBackend.put_role_policy

    def put_role_policy(self: Any, role_name: str, policy_name: str, policy_json: str) -> None:
        before = dict(self.get_role(role_name).policies).get(policy_name)
        put_policy(self, role_name, policy_name, policy_json)
        if before != policy_json:
            stamp(self.get_role(role_name), _POLICY_CHANGED)

    attach = IAMBackend.attach_role_policy

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        before = set(self.get_role(role_name).managed_policies)
        attach(self, policy_arn, role_name)
        role = self.get_role(role_name)
        if set(role.managed_policies) != before:
            stamp(role, _POLICY_CHANGED)

    IAMBackend.update_assume_role_policy = update_assume_role_policy
    IAMBackend.put_role_policy = put_role_policy
    IAMBackend.attach_role_policy = attach_role_policy


def _role_readiness(account_id: str, region: str, arn: str, seconds: float) -> str | None:
    """Why another service cannot use role `arn` yet: missing, trust, permissions; None: ready."""
    role = next((r for r in _iam(account_id, region).get_roles() if r.arn == arn), None)
    if role is None:
        return "missing"
    if min(_age(role), _age(role, _TRUST_CHANGED)) < seconds:
        return "trust"
    if _age(role, _POLICY_CHANGED) < seconds:
        return "permissions"
    return None


CLOUDTRAIL_TRUST_MESSAGE = ("Access denied. Verify in IAM that the role has adequate trust "
                            "relationships.")
CLOUDTRAIL_PERMISSIONS_MESSAGE = ("Access denied. Verify in IAM that the role has adequate "
                                  "permissions.")


def _cloudtrail_checks_its_logs_role(settings: StrictSettings) -> None:
    """CreateTrail / UpdateTrail refuse a CloudWatch Logs role IAM has not propagated yet.

    AWS validates at call time that CloudTrail can assume CloudWatchLogsRoleArn and write to the
    log group. A role created seconds earlier fails with InvalidCloudWatchLogsRoleArnException
    "Access denied. Verify in IAM that the role has adequate trust relationships." (older
    wording: "... Check the trust relationships for your role.", terraform #13631); its policy
    put seconds earlier fails with InvalidCloudWatchLogsLogGroupArnException "Access denied.
    Verify in IAM that the role has adequate permissions." (older: "Check the permissions for
    your role.", terraform-provider-aws #5499, #1820). terraform-provider-aws #1312 retries both.
    """
    from moto.cloudtrail.models import CloudTrailBackend

    seconds = settings.iam or 0.0

    def check(backend: Any, role_arn: str | None) -> None:
        if not role_arn:
            return
        why = _role_readiness(backend.account_id, backend.region_name, role_arn, seconds)
        if why in ("missing", "trust"):
            raise _json_error("InvalidCloudWatchLogsRoleArnException", CLOUDTRAIL_TRUST_MESSAGE)
        if why == "permissions":
            raise _json_error("InvalidCloudWatchLogsLogGroupArnException",
                              CLOUDTRAIL_PERMISSIONS_MESSAGE)

    for name in ("create_trail", "update_trail"):
        setattr(CloudTrailBackend, name,
                _checked(getattr(CloudTrailBackend, name), "cw_role_arn", check))


def _config_checks_its_role(settings: StrictSettings) -> None:
    """PutConfigurationRecorder refuses a role AWS Config cannot assume (yet).

    AWS (Config API reference, PutConfigurationRecorder: InvalidRoleException): with `slr`, the
    recorder naming AWS Config's service-linked role fails until that role exists; with `iam`,
    any role that does not exist or was created (or had its policies changed) less than `iam`
    seconds ago fails too (IAM propagation: the SLR created and used at once, audit #11;
    awslabs/aws-securityhub-multiaccount-scripts #53). The message is ours: AWS documents the
    code, not its text.
    """
    from moto.config.models import ConfigBackend

    original = ConfigBackend.put_configuration_recorder

    def put_configuration_recorder(self: Any, config_recorder: dict[str, Any]) -> None:
        arn = config_recorder.get("roleARN") or ""
        account_id, region = self.account_id, self.region_name
        slr_path = f":role/aws-service-role/{CONFIG_SLR_SERVICE}/"
        refused = False
        if settings.slr is not None and slr_path in arn:
            refused = _service_linked_role(account_id, region, CONFIG_SLR_SERVICE) is None
        if not refused and settings.iam is not None and arn:
            refused = _role_readiness(account_id, region, arn, settings.iam) is not None
        if refused:
            raise _json_error("InvalidRoleException",
                              f"The role {arn} does not exist or cannot be assumed by AWS "
                              "Config. Verify the role and its trust relationship.")
        original(self, config_recorder)

    ConfigBackend.put_configuration_recorder = put_configuration_recorder


# ---------------------------------------------------------------------------------------------
# waf and nat: slow resources are not usable while they are being created.

WAF_UNAVAILABLE_MESSAGE = ("AWS WAF couldn\u2019t retrieve the resource that you requested. "
                           "Retry your request.")
WAF_NONEXISTENT_MESSAGE = ("AWS WAF couldn\u2019t perform the operation because your resource "
                           "doesn\u2019t exist. If you've just created a resource that you're "
                           "using in this operation, you might just need to wait a few minutes. "
                           "It can take from a few seconds to a number of minutes for changes to "
                           "propagate.")


def _hold_unless_create_seconds(kind: str, seconds: float) -> None:
    """Hold `kind` (nat, alb) in its creating state for `seconds`, unless CREATE_SECONDS does."""
    import moto_patches

    if kind in moto_patches._creation_delays():
        return  # _slow_creation already holds it, for the time asked there
    if kind == "nat":
        from moto.ec2.models.nat_gateways import NatGateway

        moto_patches._hold_while_creating(NatGateway, "state", "available", "pending", seconds)
    elif kind == "alb":
        from moto.elbv2.models import FakeLoadBalancer

        moto_patches._hold_while_creating(FakeLoadBalancer, "state", "active", "provisioning",
                                          seconds)


def _waf_association_waits(settings: StrictSettings) -> None:
    """AssociateWebACL refuses a load balancer not yet active and a web ACL not yet propagated.

    AWS: associating a web ACL created seconds earlier with an ALB still provisioning fails with
    WAFUnavailableEntityException ("AWS WAF couldn't retrieve the resource that you requested.
    Retry your request.", terraform-provider-aws #29080, #17527) or WAFNonexistentItemException
    (kubernetes-sigs/aws-load-balancer-controller #2022, #1089; WAFv2 API reference: "If you've
    just created a resource that you're using in this operation, you might just need to wait a few
    minutes"). Here: an ALB that is not `active` -> WAFUnavailableEntityException; no such ALB,
    or a web ACL younger than `waf` seconds -> WAFNonexistentItemException. Without an alb entry
    in BOOKING_EMULATOR_CREATE_SECONDS, ALBs stay provisioning for `waf` seconds.
    """
    from moto.elbv2.models import elbv2_backends
    from moto.wafv2.models import FakeWebACL, WAFV2Backend

    seconds = settings.waf or 0.0
    _stamp_on_init(FakeWebACL)
    _hold_unless_create_seconds("alb", seconds)
    original = WAFV2Backend.associate_web_acl

    def associate_web_acl(self: Any, web_acl_arn: str, resource_arn: str) -> None:
        if ":elasticloadbalancing:" in resource_arn:
            region = resource_arn.split(":")[3]
            balancer = elbv2_backends[self.account_id][region].load_balancers.get(resource_arn)
            if balancer is None:
                raise _json_error("WAFNonexistentItemException", WAF_NONEXISTENT_MESSAGE)
            balancer.activate()  # AWS's ALBs turn active by themselves (moto: when described)
            if balancer.state != "active":  # ... after the time they take to provision
                raise _json_error("WAFUnavailableEntityException", WAF_UNAVAILABLE_MESSAGE)
        web_acl = self.wacls.get(web_acl_arn)
        if web_acl is not None and _age(web_acl) < seconds:
            raise _json_error("WAFNonexistentItemException", WAF_NONEXISTENT_MESSAGE)
        original(self, web_acl_arn, resource_arn)

    WAFV2Backend.associate_web_acl = associate_web_acl


def _routes_need_an_available_nat_gateway(settings: StrictSettings) -> None:
    """CreateRoute / ReplaceRoute to a NAT gateway fail while it is pending (or unknown).

    AWS: a route to a NAT gateway created moments before answers InvalidNatGatewayID.NotFound
    "The natGateway ID 'nat-...' does not exist" (boto/boto3 #779; EC2 API "Eventual
    consistency": an ID not yet propagated reads as not existing), and create_route retries only
    throttling. moto accepts any NatGatewayId, even one that does not exist. Without a nat entry in
    BOOKING_EMULATOR_CREATE_SECONDS, NAT gateways stay pending for `nat` seconds.
    """
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models import EC2Backend

    _hold_unless_create_seconds("nat", settings.nat or 0.0)

    def check(backend: Any, nat_gateway_id: str | None) -> None:
        if nat_gateway_id is None:
            return
        gateway = backend.nat_gateways.get(nat_gateway_id)
        if gateway is None or gateway.state == "pending":
            raise EC2ClientError("InvalidNatGatewayID.NotFound",
                                 f"The natGateway ID '{nat_gateway_id}' does not exist")

    for name in ("create_route", "replace_route"):
        setattr(EC2Backend, name, _checked(getattr(EC2Backend, name), "nat_gateway_id", check))


# ---------------------------------------------------------------------------------------------
# consistency: a resource read right after its create may be missing.

def _reads_lag_behind_creates(settings: StrictSettings) -> None:
    """For `consistency` seconds after its create, a resource is missing from its describe call.

    Only the reads our modules make right after a create (audit #12):
    * EC2 DescribeFlowLogs (ec2_vpc_flow_log.py reads the new flow log back): a young flow log is
      left out of the answer. EC2 API "Eventual consistency in the Amazon EC2 API".
    * ECS DescribeTasks right after RunTask (ecs_run_task.py): a young task is answered in
      ``failures`` with reason MISSING, as ECS does (ECS RunTask API reference: "The Amazon ECS API
      follows an eventual consistency model"; boto/boto3 #842; dask/dask-cloudprovider #483).
    * Config DescribeConfigRules by name (module_utils/config_rule.py): a young rule answers
      NoSuchConfigRuleException, and is left out of a listing.
    """
    from moto.config.exceptions import NoSuchConfigRuleException
    from moto.config.models import ConfigRule
    from moto.config.responses import ConfigResponse
    from moto.core.responses import ActionResult
    from moto.ec2.models.flow_logs import FlowLogs as FlowLog
    from moto.ec2.responses.flow_logs import FlowLogs as FlowLogsResponse
    from moto.ecs.models import Task
    from moto.ecs.responses import DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse

    seconds = settings.consistency or 0.0
    for cls in (FlowLog, Task, ConfigRule):
        _stamp_on_init(cls)

    def describe_flow_logs(self: Any) -> Any:
        flow_log_ids = self._get_param("FlowLogIds", [])
        filters = self._filters_from_querystring()
        flow_logs = self.ec2_backend.describe_flow_logs(flow_log_ids, filters)
        self.error_on_dryrun()
        return ActionResult({"FlowLogs": [f for f in flow_logs if _age(f) >= seconds]})

    FlowLogsResponse.describe_flow_logs = describe_flow_logs

    def describe_tasks(self: Any) -> Any:
        cluster = self._get_param("cluster", "default")
        tasks = self.ecs_backend.describe_tasks(cluster, self._get_param("tasks", []))
        if "TAGS" in self._get_param("include", []):
            self._include_in_response(DESCRIBE_TASKS_TAGS)
        else:
            self._exclude_from_response(DESCRIBE_TASKS_TAGS)
        return ActionResult({
            "tasks": [t for t in tasks if _age(t) >= seconds],
            "failures": [{"arn": t.task_arn, "reason": "MISSING"}
                         for t in tasks if _age(t) < seconds]})

    EC2ContainerServiceResponse.describe_tasks = describe_tasks

    def describe_config_rules(self: Any) -> str:
        backend = self.config_backend
        names = self._get_param("ConfigRuleNames")
        for name in names or []:
            rule = backend.config_rules.get(name)
            if rule is not None and _age(rule) < seconds:
                raise NoSuchConfigRuleException(name)
        rules = backend.describe_config_rules(names, self._get_param("NextToken"))
        rules["ConfigRules"] = [
            r for r in rules["ConfigRules"]
            if _age(backend.config_rules[r["ConfigRuleName"]]) >= seconds]
        return json.dumps(rules)

    ConfigResponse.describe_config_rules = describe_config_rules


# ---------------------------------------------------------------------------------------------
# rds_versions: RDS offers some engine versions, and upgrades minor versions by force.

# The engine versions the emulator offers, by engine and major version: {major: (versions,
# default)}. A small stand-in for DescribeDBEngineVersions on a real Region, where old minors
# disappear (RDS for PostgreSQL release calendar) and creating them then fails.
OFFERED_VERSIONS: dict[str, dict[str, tuple[list[str], str]]] = {
    "postgres": {
        "15": (["15.10", "15.12", "15.13", "15.14"], "15.13"),
        "16": (["16.6", "16.8", "16.9", "16.10"], "16.9"),
        "17": (["17.4", "17.5", "17.6"], "17.5"),
    },
}
DEFAULT_MAJOR = {"postgres": "17"}
_offered: dict[str, dict[str, tuple[list[str], str]]] = {}
_offered_lock = threading.Lock()


def reset_state() -> None:
    """Forget what strict mode changed besides moto's resources (the retired RDS versions)."""
    if ACTIVE is not None and ACTIVE.rds_versions:
        _reset_offered()


def offered_state() -> dict[str, dict[str, tuple[list[str], str]]]:
    """A copy of the RDS versions offered now (Emulator.snapshot)."""
    with _offered_lock:
        return copy.deepcopy(_offered)


def load_offered(state: dict[str, dict[str, tuple[list[str], str]]]) -> None:
    """Back to a copy taken by offered_state() (Emulator.restore)."""
    with _offered_lock:
        _offered.clear()
        _offered.update(copy.deepcopy(state))


def _reset_offered() -> None:
    with _offered_lock:
        _offered.clear()
        _offered.update({engine: {major: (list(versions), default)
                                  for major, (versions, default) in majors.items()}
                         for engine, majors in OFFERED_VERSIONS.items()})


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def offered_versions(engine: str) -> list[str]:
    """The versions of `engine` the emulator offers now, oldest first."""
    with _offered_lock:
        majors = _offered.get(engine, {})
        return sorted((v for versions, _ in majors.values() for v in versions), key=_version_key)


def _default_version(engine: str, major: str | None) -> str | None:
    with _offered_lock:
        majors = _offered[engine]
        entry = majors.get(major or DEFAULT_MAJOR[engine])
        return entry[1] if entry else None


def _resolve_version(engine: str, requested: str | None) -> str:
    """The full version CreateDBInstance gets for `requested` (None or a major: its default)."""
    with _offered_lock:
        majors = _offered[engine]
        if not requested:
            return majors[DEFAULT_MAJOR[engine]][1]
        if requested in majors:
            return majors[requested][1]
        if any(requested in versions for versions, _ in majors.values()):
            return requested
    from moto.rds.exceptions import InvalidParameterCombination

    raise InvalidParameterCombination(f"Cannot find version {requested} for {engine}")


def _engine_version_description(engine: str, version: str) -> dict[str, Any]:
    major = version.split(".")[0]
    with _offered_lock:
        majors = _offered[engine]
        auto_target = majors[major][1]
        newer = [v for v in majors[major][0] if _version_key(v) > _version_key(version)]
        next_major = majors.get(str(int(major) + 1))
    targets = [{"Engine": engine, "EngineVersion": v, "Description": f"PostgreSQL {v}",
                "AutoUpgrade": v == auto_target, "IsMajorVersionUpgrade": False}
               for v in newer]
    if next_major:
        targets += [{"Engine": engine, "EngineVersion": v, "Description": f"PostgreSQL {v}",
                     "AutoUpgrade": False, "IsMajorVersionUpgrade": True}
                    for v in next_major[0]]
    return {"Engine": engine, "EngineVersion": version, "MajorEngineVersion": major,
            "DBParameterGroupFamily": f"{engine}{major}",
            "DBEngineDescription": "PostgreSQL",
            "DBEngineVersionDescription": f"PostgreSQL {version}-R1",
            "ValidUpgradeTarget": targets, "Status": "available",
            "SupportsReadReplica": True, "SupportedFeatureNames": []}


def _rds_offers_versions() -> None:
    """CreateDBInstance / ModifyDBInstance accept only offered versions; DescribeDBEngineVersions.

    AWS: CreateDBInstance with a version RDS no longer offers fails with
    InvalidParameterCombination "Cannot find version 15.2 for postgres" (RhinoSecurityLabs/
    cloudgoat #145, anomalyco/sst #6195); ModifyDBInstance to a lower version fails with
    "Cannot upgrade postgres from 15.7 to 15.5" and to one not offered with "Cannot find upgrade
    path from 14.10 to 14.7." (ministryofjustice/cloud-platform-environments #25855, #23174;
    hashicorp/terraform #22462); a major upgrade needs AllowMajorVersionUpgrade. moto accepts
    any version and does not implement DescribeDBEngineVersions. Postgres only.
    """
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import InvalidParameterCombination
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    _reset_offered()
    create = RDSBackend.create_db_instance

    def create_db_instance(self: Any, db_kwargs: dict[str, Any]) -> Any:
        engine = db_kwargs.get("engine")
        if engine in OFFERED_VERSIONS:
            db_kwargs["engine_version"] = _resolve_version(engine, db_kwargs.get("engine_version"))
        return create(self, db_kwargs)

    modify = RDSBackend.modify_db_instance

    def modify_db_instance(self: Any, db_instance_identifier: str,
                           db_kwargs: dict[str, Any]) -> Any:
        wanted = db_kwargs.get("engine_version")
        database = self.describe_db_instances(db_instance_identifier)[0]
        current, engine = database.engine_version, database.engine
        if wanted and engine in OFFERED_VERSIONS and wanted != current:
            if wanted not in offered_versions(engine):
                raise InvalidParameterCombination(
                    f"Cannot find upgrade path from {current} to {wanted}.")
            if _version_key(wanted) < _version_key(current):
                raise InvalidParameterCombination(
                    f"Cannot upgrade {engine} from {current} to {wanted}")
            if (wanted.split(".")[0] != current.split(".")[0]
                    and not db_kwargs.get("allow_major_version_upgrade")):
                raise InvalidParameterCombination(
                    "The AllowMajorVersionUpgrade flag must be present when upgrading to a new "
                    "major version.")
        return modify(self, db_instance_identifier, db_kwargs)

    def describe_db_engine_versions(self: Any) -> Any:
        engine = self.params.get("Engine")
        wanted = self.params.get("EngineVersion")
        family = self.params.get("DBParameterGroupFamily")
        default_only = bool(self.params.get("DefaultOnly"))
        found = []
        for name in OFFERED_VERSIONS:
            if engine and engine != name:
                continue
            versions = offered_versions(name)
            if default_only:  # the default of the major asked for (or of the engine)
                major = wanted.split(".")[0] if wanted else None
                versions = [v for v in versions if v == _default_version(name, major)]
            for version in versions:
                if not default_only and wanted and wanted not in (version,
                                                                  version.split(".")[0]):
                    continue
                if family and family != f"{name}{version.split('.')[0]}":
                    continue
                found.append(_engine_version_description(name, version))
        return ActionResult({"DBEngineVersions": found})

    RDSBackend.create_db_instance = create_db_instance
    RDSBackend.modify_db_instance = modify_db_instance
    RDSResponse.describe_db_engine_versions = describe_db_engine_versions


def force_minor_upgrade(instance_id: str, version: str, *, region: str = "us-east-1",
                        account_id: str | None = None, retire_previous: bool = False) -> dict:
    """Upgrade an instance's minor version as RDS does by force when a minor is deprecated.

    AWS upgrades instances on a deprecated minor version in their maintenance window even with
    auto minor version upgrade off (RDS User Guide, "Upgrading a DB instance engine version";
    RDS for PostgreSQL release calendar). With `retire_previous`, the old version is no longer
    offered either (creating it then fails). Needs `rds_versions`.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.rds.models import rds_backends

    if ACTIVE is None or not ACTIVE.rds_versions:
        raise RuntimeError(f"force_minor_upgrade needs {STRICT_ENV} with rds_versions")
    backend = rds_backends[account_id or DEFAULT_ACCOUNT_ID][region]
    database = backend.databases.get(instance_id)
    if database is None:
        raise LookupError(f"no DB instance {instance_id} in {region}")
    engine, previous = database.engine, database.engine_version
    if engine not in OFFERED_VERSIONS or version not in offered_versions(engine):
        raise ValueError(f"{engine} {version} is not an offered version")
    if (version.split(".")[0] != previous.split(".")[0]
            or _version_key(version) <= _version_key(previous)):
        raise ValueError(f"{previous} -> {version} is not a minor upgrade")
    database.engine_version = version
    if retire_previous:
        with _offered_lock:
            major = previous.split(".")[0]
            versions, default = _offered[engine][major]
            if previous in versions:
                versions.remove(previous)
            _offered[engine][major] = (versions, version if default == previous else default)
    return {"DBInstanceIdentifier": instance_id, "EngineVersion": version,
            "PreviousEngineVersion": previous}


# ---------------------------------------------------------------------------------------------
# throttle: a share of AWS calls answered with the protocol's throttling error.

# botocore retries these (legacy mode: botocore/data/_retry.json; standard mode:
# botocore/retries/standard.py ThrottledRetryableChecker / transient 503), as AWS's.
_QUERY_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
              '<Code>Throttling</Code><Message>Rate exceeded</Message></Error>'
              '<RequestId>{id}</RequestId></ErrorResponse>')
_EC2_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            '<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error>'
            '</Errors><RequestID>{id}</RequestID></Response>')
_S3_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
           '<Message>Please reduce your request rate.</Message><RequestId>{id}</RequestId>'
           '<HostId>{id}</HostId></Error>')
_REST_XML_SERVICES = {"route53", "cloudfront"}


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    return bytes([0x78, len(data)]) + data


def throttling_response(service: str, environ: dict[str, Any]) -> tuple[str, list, bytes]:
    """(status, headers, body) of AWS's throttling error for this request's protocol.

    EC2: RequestLimitExceeded, HTTP 503 (EC2 API "Request throttling"); other query services:
    Throttling, 400; JSON and CBOR protocols: ThrottlingException, 400 (e.g. ECS API "Request
    throttling"), a query service spoken in JSON/CBOR (CloudWatch) with its query code Throttling
    in x-amzn-query-error; S3: SlowDown, 503 ("Amazon S3 error best practices"); Route 53 and
    the rest-xml services: Throttling, 400.
    """
    request_id = str(uuid.uuid4())
    json_body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        status, body = "400 Bad Request", (
            b"\xa2" + _cbor_text("__type") + _cbor_text("ThrottlingException")
            + _cbor_text("message") + _cbor_text("Rate exceeded"))
        extra = [("Content-Type", "application/cbor"), ("Smithy-Protocol", "rpc-v2-cbor"),
                 ("x-amzn-query-error", "Throttling;Sender")]
    elif environ.get("HTTP_X_AMZ_TARGET"):
        status, body = "400 Bad Request", json_body
        extra = [("Content-Type", environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1")]
        if environ.get("HTTP_X_AMZN_QUERY_MODE") == "true":  # a query service spoken in JSON
            extra.append(("x-amzn-query-error", "Throttling;Sender"))
    elif service == "s3":
        status, body = "503 Slow Down", _S3_XML.format(id=request_id).encode()
        extra = [("Content-Type", "application/xml")]
    elif service == "ec2":
        status, body = "503 Service Unavailable", _EC2_XML.format(id=request_id).encode()
        extra = [("Content-Type", "text/xml")]
    elif ("Action=" in environ.get("QUERY_STRING", "")
          or environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
          or service in _REST_XML_SERVICES):
        status, body = "400 Bad Request", _QUERY_XML.format(id=request_id).encode()
        extra = [("Content-Type", "text/xml")]
    else:  # rest-json
        status, body = "400 Bad Request", json_body
        extra = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ThrottlingException")]
    return status, [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id),
                    *extra], body


@dataclass
class Throttle:
    """Decides which calls are throttled: a seeded share, never the same call twice in a row."""

    share: float
    seed: int
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _just_throttled: set[tuple[str, str]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def decide(self, service: str, action: str) -> bool:
        key = (service, action)
        with self._lock:
            if key in self._just_throttled:
                self._just_throttled.discard(key)
                return False  # its retry goes through, so botocore's retries always succeed
            if self._rng.random() < self.share:
                self._just_throttled.add(key)
                return True
            return False


# ---------------------------------------------------------------------------------------------
# The WSGI side: the emulator's own hooks, and throttling (tools/emulator.py calls these).

class Gate:
    """What strict mode does before moto sees a request: test hooks and throttling."""

    def __init__(self, settings: StrictSettings) -> None:
        self.settings = settings
        self.throttle = (Throttle(settings.throttle, settings.seed)
                         if settings.throttle else None)

    def hook(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
        """Answer the emulator's own /_emulator/ paths; None for every other path."""
        path = environ.get("PATH_INFO", "")
        if not path.startswith(HOOK_PREFIX):
            return None
        method = environ.get("REQUEST_METHOD")
        if path == SETTINGS_PATH and method == "GET":
            return _json_reply(start_response, "200 OK", self.settings.as_dict())
        if path == FORCE_MINOR_UPGRADE_PATH and method == "POST" and self.settings.rds_versions:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                result = force_minor_upgrade(
                    body["DBInstanceIdentifier"], body["EngineVersion"],
                    region=body.get("Region", "us-east-1"), account_id=body.get("AccountId"),
                    retire_previous=bool(body.get("RetirePrevious")))
            except (KeyError, LookupError, ValueError, RuntimeError) as exc:
                return _json_reply(start_response, "400 Bad Request", {"error": str(exc)})
            return _json_reply(start_response, "200 OK", result)
        return _json_reply(start_response, "404 Not Found", {"error": f"no hook {method} {path}"})

    def throttled(self, service: str, action: str, environ: dict[str, Any],
                  start_response: Any) -> list[bytes] | None:
        """AWS's throttling error for this call when it is chosen; else None (moto answers)."""
        if self.throttle is None or service == "unsigned":
            return None
        if not self.throttle.decide(service, action):
            return None
        status, headers, body = throttling_response(service, environ)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


def _json_reply(start_response: Any, status: str, payload: Any) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


# ---------------------------------------------------------------------------------------------

ACTIVE: StrictSettings | None = None
_GATE: Gate | None = None


def apply(settings: StrictSettings) -> None:
    """Patch moto for `settings` (once per process, before the server answers its first call)."""
    global ACTIVE, _GATE
    if settings.slr is not None or settings.iam is not None:
        from moto.iam.models import Role

        _stamp_on_init(Role)  # a role's age: how far IAM has propagated it
    if settings.slr is not None:
        _slr_names()
        _ecs_needs_its_service_linked_role(settings)
    if settings.iam is not None:
        _track_role_changes()
        _cloudtrail_checks_its_logs_role(settings)
    if settings.slr is not None or settings.iam is not None:
        _config_checks_its_role(settings)
    if settings.waf is not None:
        _waf_association_waits(settings)
    if settings.nat is not None:
        _routes_need_an_available_nat_gateway(settings)
    if settings.consistency is not None:
        _reads_lag_behind_creates(settings)
    if settings.rds_versions:
        _rds_offers_versions()
    ACTIVE, _GATE = settings, Gate(settings)


def apply_from_env() -> StrictSettings | None:
    """Apply what BOOKING_EMULATOR_STRICT asks for (read now); None when strict mode is off."""
    settings = parse_spec(os.environ.get(STRICT_ENV), os.environ.get(SEED_ENV))
    if settings is not None:
        apply(settings)
    return settings


def gate() -> Gate | None:
    """The WSGI-side gate of the applied strict mode, or None when strict mode is off."""
    return _GATE
