"""The part of ECS the emulator lacks: a data plane whose deployments and tasks finish.

moto 5.2 stores ECS services and tasks but runs nothing: a service's deployment never leaves
IN_PROGRESS (``runningCount`` 0 forever), UpdateService with a new task definition starts no new
deployment, a one-off task's containers exit 0 whatever happens, and CreateService forgets the
deployment configuration, capacity provider strategy, health check grace period and ECS Exec
flag. The release playbooks wait on exactly those things, so this module restores them the way
AWS behaves:

* CreateService keeps every setting it was given; the service's first deployment rolls out.
* UpdateService with a new task definition, network configuration or capacity provider strategy
  (or ``forceNewDeployment``) starts a new PRIMARY deployment (``IN_PROGRESS``); the old one
  turns ACTIVE and is drained when the new one completes.
* A deployment resolves ``rollout_seconds`` after it started, when next described: COMPLETED
  (the default), or FAILED when scripted - and then, if the service's deployment circuit breaker
  has ``rollback`` on, ECS starts a rollback deployment to the last good task definition, which
  completes, exactly as AWS does.
* A one-off task (RunTask) stops with the exit code scripted for its task definition family
  (default 0); a non-zero code stops it with "Essential container in task exited".

With ``BOOKING_EMULATOR_ECS_TASKS=podman``, RunTask runs the task's containers for real instead
(tools/ecs_podman.py) and DescribeTasks reports how far they have come; services run real tasks
and roll out as ECS's scheduler rolls them out (tools/ecs_services.py), not on a timer. Every
ECS call then runs under ``ecs_podman.LOCK``, the lock the scheduler's thread takes.

Blue/green, canary and linear deployments (``deploymentConfiguration.strategy``), the service
deployments and revisions of every deployment and their API calls (ListServiceDeployments,
DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment,
ContinueServiceDeployment) are tools/ecs_deployments.py's, called from here: CreateService and
UpdateService validate the configuration with it, each new deployment is recorded there, and
DescribeServices advances its stages on the scripted data plane.

Whatever the data plane, ListTasks filters by ``serviceName`` (a service's tasks are those of
group ``service:<name>``; moto ignored the filter) and a task's ENI gets its private IP from its
subnet.

Tests script outcomes through ``RUNTIME`` (in-process emulator):
``RUNTIME.script_rollout("svc", "FAILED")``, ``RUNTIME.script_exit_code("family", 1)``.
The defaults are what a healthy release looks like, so an emulator in its own process (``make
site``, ``make deploy``) shows a release that succeeds.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections import defaultdict, deque
from typing import Any

import ecs_deployments
import ecs_podman  # found beside this file (tools/ is on the emulator's path)
import ecs_services

ROLLOUT_SECONDS_ENV = "BOOKING_EMULATOR_ECS_ROLLOUT_SECONDS"
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


class EcsRuntime:
    """Scripted outcomes for the next deployments and one-off tasks; defaults: all succeed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.rollout_seconds = float(os.environ.get(ROLLOUT_SECONDS_ENV, "1"))
            self._rollouts: dict[str, deque[str]] = defaultdict(deque)
            self._exit_codes: dict[str, deque[int]] = defaultdict(deque)
            # deployment id -> (monotonic start, outcome)
            self._deployments: dict[str, tuple[float, str]] = {}

    def state(self) -> dict[str, Any]:
        """A copy of what is scripted and running (Emulator.snapshot)."""
        with self._lock:
            return copy.deepcopy({"rollout_seconds": self.rollout_seconds,
                                  "_rollouts": self._rollouts, "_exit_codes": self._exit_codes,
                                  "_deployments": self._deployments})

    def load(self, state: dict[str, Any]) -> None:
        """Back to a copy taken by state() (Emulator.restore)."""
        with self._lock:
            for name, value in copy.deepcopy(state).items():
                setattr(self, name, value)

    def script_rollout(self, service: str, outcome: str) -> None:
        """The next deployment started for `service` ends `outcome` (COMPLETED or FAILED)."""
        if outcome not in ("COMPLETED", "FAILED"):
            raise ValueError(outcome)
        with self._lock:
            self._rollouts[service].append(outcome)

    def script_exit_code(self, family: str, code: int) -> None:
        """The next one-off task of task definition `family` exits with `code`."""
        with self._lock:
            self._exit_codes[family].append(code)

    def started(self, service: str, deployment_id: str, outcome: str | None = None) -> None:
        with self._lock:
            if outcome is None:
                queue = self._rollouts[service]
                outcome = queue.popleft() if queue else "COMPLETED"
            self._deployments[deployment_id] = (time.monotonic(), outcome)

    def restart(self, deployment_id: str) -> None:
        """The deployment's clock starts again, its outcome kept (a blue/green deployment's
        SCALE_UP begins: tools/ecs_deployments.py)."""
        with self._lock:
            _, outcome = self._deployments.get(deployment_id, (0.0, "COMPLETED"))
            self._deployments[deployment_id] = (time.monotonic(), outcome)

    def due(self, deployment_id: str) -> str | None:
        """The outcome of a deployment whose time has come, else None."""
        with self._lock:
            born, outcome = self._deployments.get(deployment_id, (0.0, "COMPLETED"))
        return outcome if time.monotonic() - born >= self.rollout_seconds else None

    def exit_code(self, family: str) -> int:
        with self._lock:
            queue = self._exit_codes[family]
            return queue.popleft() if queue else 0


RUNTIME = EcsRuntime()

# CreateService parameters moto drops, as the service attributes UpdateService sets.
_KEPT_ON_CREATE = {
    "deploymentConfiguration": "deployment_configuration",
    "capacityProviderStrategy": "capacity_provider_strategy",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "enableECSManagedTags": "enable_ecs_managed_tags",
}
# What starts a new deployment when UpdateService changes it.
_REDEPLOYED_BY = ("task_definition", "network_configuration", "capacity_provider_strategy",
                  "load_balancers", "platform_version")


def _now() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def new_deployment(service: Any, task_definition: str, outcome: str | None = None,
                   rollback_of: dict[str, Any] | None = None) -> dict:
    """A new PRIMARY deployment of the service, and its service deployment and revision
    (tools/ecs_deployments.py); `rollback_of`: the failed deployment it rolls back."""
    from moto.moto_api._internal import mock_random

    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    for old in service.deployments:
        if old["status"] == "PRIMARY":
            old["status"] = "ACTIVE"
    deployment = {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": service.desired_count,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": _now(),
        "updatedAt": _now(),
        "launchType": service.launch_type,
        "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None),
        "platformVersion": service.platform_version,
        "platformFamily": "Linux",
        "networkConfiguration": service.network_configuration or None,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
    }
    service.deployments.insert(0, deployment)
    RUNTIME.started(service.name, deployment_id, outcome)
    ecs_deployments.started(service, deployment, rollback_of=rollback_of)
    return deployment


def _event(service: Any, message: str) -> None:
    from moto.moto_api._internal import mock_random

    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": _now(),
                              "message": f"(service {service.name}) {message}"})


def _advance(service: Any) -> None:
    """Resolve the deployments of `service` whose rollout time has come."""
    for deployment in list(service.deployments):
        if deployment.get("rolloutState") != "IN_PROGRESS" or deployment.get("_bookingStaged"):
            continue  # a blue/green, canary or linear one follows its stages (ecs_deployments)
        outcome = RUNTIME.due(deployment["id"])
        if outcome is None:
            continue
        deployment["updatedAt"] = _now()
        if outcome == "COMPLETED":
            deployment.update(rolloutState="COMPLETED", runningCount=service.desired_count,
                              pendingCount=0,
                              rolloutStateReason=f"ECS deployment {deployment['id']} completed.")
            service.running_count, service.pending_count = service.desired_count, 0
            # The old deployments' tasks are drained and the deployments disappear.
            service.deployments[:] = [d for d in service.deployments if d is deployment]
            _event(service, "has reached a steady state.")
            continue
        breaker = (getattr(service, "deployment_configuration", None) or {}).get(
            "deploymentCircuitBreaker") or {}
        if not breaker.get("enable"):
            continue  # no circuit breaker: ECS keeps trying for ever, as on AWS
        deployment.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON,
                          failedTasks=max(service.desired_count, 1), runningCount=0)
        if not breaker.get("rollback"):
            continue
        previous = next((d for d in service.deployments
                         if d is not deployment and d["taskDefinition"] != deployment[
                             "taskDefinition"]), None)
        if previous is None:
            continue
        _event(service, f"deployment {deployment['id']} deployment failed: tasks failed to "
                        f"start. Rolling back to deployment {previous['id']}.")
        service.task_definition = previous["taskDefinition"]
        new_deployment(service, previous["taskDefinition"], outcome="COMPLETED",
                       rollback_of=deployment)
        # The rollback replaces the failed deployment and the one it rolls back to.
        service.deployments[:] = [d for d in service.deployments
                                  if d is not previous]
        deployment["status"] = "ACTIVE"


def _default_security_group(backend: Any, network: dict[str, Any] | None) -> Any:
    """awsvpcConfiguration without securityGroups: AWS uses the VPC's default security group
    (API reference, AwsVpcConfiguration: "If you don't specify a security group, the default
    security group for the VPC is used"); moto failed with a KeyError (HTTP 500)."""
    awsvpc = (network or {}).get("awsvpcConfiguration") or {}
    if not awsvpc.get("subnets") or awsvpc.get("securityGroups"):
        return network
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    vpc_id = ec2.get_subnet(awsvpc["subnets"][0]).vpc_id
    default = ec2.get_default_security_group(vpc_id)
    return {**network, "awsvpcConfiguration": {**awsvpc, "securityGroups": [default.id]}}


def _address_in_subnet(task: Any) -> None:
    """A task's ENI gets a private IP from its subnet, as AWS assigns it (moto drew one from all
    of 10.0.0.0/8, outside the subnet). The subnet's first four addresses and its last are
    reserved (VPC user guide, "Subnet CIDR blocks"), and one in use by another ENI is skipped."""
    import ipaddress
    import random

    from moto.ec2.models import ec2_backends

    for attachment in getattr(task, "attachments", None) or []:
        details = {d["name"]: d for d in attachment.get("details") or []}
        if "networkInterfaceId" not in details:
            continue
        ec2 = ec2_backends[task._account_id][task.region_name]
        eni = ec2.get_network_interface(details["networkInterfaceId"]["value"])
        subnet = ipaddress.ip_network(eni.subnet.cidr_block)
        if ipaddress.ip_address(eni.private_ip_address) in subnet:
            continue
        taken = {other.private_ip_address for other in ec2.enis.values()
                 if other.subnet.id == eni.subnet.id}
        first, last = int(subnet.network_address) + 4, int(subnet.broadcast_address) - 1
        for _ in range(1000):
            address = str(ipaddress.ip_address(random.randint(first, last)))
            if address not in taken:
                break
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        eni.__dict__.pop("_booking_dns", None)  # named after the new address
        details["privateIPv4Address"]["value"] = address
        details["privateDnsName"]["value"] = eni.private_dns_name


def _memory_from_task(task_definition: Any) -> Any:
    """A Fargate task definition may give memory at task level only (AWS allows it)."""
    if all("memory" in c or "memoryReservation" in c or "Memory" in c
           or "MemoryReservation" in c for c in task_definition.container_definitions):
        return task_definition
    share = int(task_definition.memory or 0) // max(len(task_definition.container_definitions), 1)

    class _View:
        container_definitions = [
            c if ("memory" in c or "memoryReservation" in c) else {**c, "memory": share}
            for c in task_definition.container_definitions]
    return _View()


def _locked(function: Any) -> Any:
    """The call runs under the data plane's lock (the service scheduler's thread takes it too)."""
    import functools

    @functools.wraps(function)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with ecs_podman.LOCK:
            return function(*args, **kwargs)

    return locked


def apply() -> None:
    """Patch moto's ECS backend and responses (once per process)."""
    from moto.ecs import models, responses

    backend_cls = models.EC2ContainerServiceBackend

    # RunTask with awsvpc networking reads the ENI's private DNS name, which moto sets only for
    # some ENIs (AttributeError, HTTP 500). AWS names every one after its private IP.
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    if not isinstance(getattr(NetworkInterface, "private_dns_name", None), property):
        def _get(eni: Any) -> str:
            return eni.__dict__.get("_booking_dns") or (
                f"ip-{eni.private_ip_address.replace('.', '-')}.ec2.internal")

        def _set(eni: Any, value: str) -> None:
            eni.__dict__["_booking_dns"] = value

        NetworkInterface.private_dns_name = property(_get, _set)

    create = responses.EC2ContainerServiceResponse.create_service

    def create_service(self: Any) -> Any:
        # ECS refuses a deployment configuration it cannot run before creating anything.
        ecs_deployments.validate(self._get_param("deploymentConfiguration"),
                                 self._get_param("loadBalancers"),
                                 self._get_param("deploymentController"))
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                                self._get_param("serviceName"))
        for param, attribute in _KEPT_ON_CREATE.items():
            if self._get_param(param) is not None:
                setattr(service, attribute, self._get_param(param))
        if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
            service.launch_type = None  # moto defaults it to EC2 even with a strategy
        for deployment in service.deployments:
            deployment["launchType"] = service.launch_type
            deployment["capacityProviderStrategy"] = self._get_param("capacityProviderStrategy")
            RUNTIME.started(service.name, deployment["id"])
            ecs_deployments.started(service, deployment)
        if ecs_podman.enabled():  # its tasks run for real (tools/ecs_services.py)
            ecs_services.manage(self.ecs_backend, service)
        return result

    responses.EC2ContainerServiceResponse.create_service = _locked(create_service)

    create_in_backend = backend_cls.create_service

    def _create_service(self: Any, *args: Any, network_configuration: Any = None,
                        **kwargs: Any) -> Any:
        # No securityGroups: the VPC's default group, as for RunTask (moto: KeyError, HTTP 500).
        return create_in_backend(self, *args, **kwargs, network_configuration=(
            _default_security_group(self, network_configuration)))

    backend_cls.create_service = _create_service

    update = backend_cls.update_service

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        service = self._get_service(properties.get("cluster", "default"),
                                    properties["service"].split("/")[-1])
        before = {name: getattr(service, name, None) for name in _REDEPLOYED_BY}
        # The configuration the service will have, as ECS validates it (ecs_deployments).
        ecs_deployments.validate(
            properties.get("deployment_configuration") or getattr(
                service, "deployment_configuration", None),
            properties.get("load_balancers") if properties.get("load_balancers") is not None
            else service.load_balancers, service.deployment_controller)
        force = bool(properties.pop("force_new_deployment", False))
        if properties.get("task_definition"):
            # AWS stores the full ARN, whatever form of the name was given.
            properties["task_definition"] = self.describe_task_definition(
                properties["task_definition"]).arn
        result = update(self, properties)
        changed = any(getattr(result, name, None) != before[name] for name in _REDEPLOYED_BY)
        if changed or force:
            new_deployment(result, result.task_definition)
        return result

    backend_cls.update_service = _locked(update_service)

    delete = backend_cls.delete_service

    def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        service = delete(self, cluster_name, service_name, force)
        ecs_deployments.forget_service(self, service)  # its service deployments go with it
        return service

    backend_cls.delete_service = _locked(delete_service)

    describe = backend_cls.describe_services

    def describe_services(self: Any, cluster: str, names: list[str]) -> Any:
        services, failures = describe(self, cluster, names)
        if not ecs_podman.enabled():  # else the scheduler moves them (tools/ecs_services.py)
            for service in services:
                _advance(service)
        for service in services:  # blue/green, canary and linear deployments' stages
            ecs_deployments.advance(self, service)
        return services, failures

    backend_cls.describe_services = _locked(describe_services)

    list_tasks = backend_cls.list_tasks

    def _list_tasks(self: Any, cluster_str: str | None = None,
                    container_instance: str | None = None, family: str | None = None,
                    started_by: str | None = None, service_name: str | None = None,
                    desired_status: str | None = None) -> Any:
        ecs_podman.report_all()  # the desired status of tasks run as containers is current
        listed = list_tasks(self, cluster_str, container_instance, family, started_by, None,
                            desired_status)
        if service_name:  # a service's tasks are its group's (ListTasks' serviceName)
            name = service_name.rsplit("/", 1)[-1]
            listed = [task for task in listed if task.group == f"service:{name}"]
        return listed

    backend_cls.list_tasks = _locked(_list_tasks)

    run = backend_cls.run_task

    def run_task(self: Any, cluster_str: str, task_definition_str: str, count: int,
                 overrides: dict[str, Any] | None, started_by: str, tags: Any,
                 launch_type: str | None, networking_configuration: dict[str, Any] | None = None,
                 *args: Any, **kwargs: Any) -> Any:
        networking_configuration = _default_security_group(self, networking_configuration)
        tasks = run(self, cluster_str, task_definition_str, count, overrides, started_by, tags,
                    launch_type, networking_configuration, *args, **kwargs)
        for task in tasks:
            _address_in_subnet(task)
        task_definition = self.describe_task_definition(task_definition_str)
        if ecs_podman.enabled():  # real containers (tools/ecs_podman.py)
            ecs_podman.run(tasks, task_definition, overrides, self.account_id, self.region_name)
            return tasks
        family = task_definition.family
        for task in tasks:
            code = RUNTIME.exit_code(family)
            for container in task.containers:
                container.exitCode = code
            if code:
                task.stopped_reason = "Essential container in task exited"
        return tasks

    backend_cls.run_task = _locked(run_task)

    describe_tasks = backend_cls.describe_tasks

    def _describe_tasks(self: Any, cluster_str: str, tasks: list[str]) -> Any:
        described = describe_tasks(self, cluster_str, tasks)
        ecs_podman.report(described)  # tasks run as containers say how far they have come
        return described

    backend_cls.describe_tasks = _locked(_describe_tasks)

    stop_task = backend_cls.stop_task

    def _stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        self._get_cluster(cluster_str)  # an unknown cluster is refused as moto refuses it
        stopping = ecs_podman.stop(task_str, reason or "")  # its containers stop as on ECS
        return stopping if stopping is not None else stop_task(self, cluster_str, task_str,
                                                               reason)

    backend_cls.stop_task = _locked(_stop_task)

    reset = backend_cls.reset

    def _reset(self: Any) -> None:
        """/moto-api/reset: the services' scheduling ends and their tasks stop with them."""
        ecs_services.SCHEDULER.forget(self.account_id, self.region_name)
        reset(self)

    backend_cls.reset = _locked(_reset)

    requirements = backend_cls._calculate_task_resource_requirements

    def _requirements(task_definition: Any) -> Any:
        return requirements(_memory_from_task(task_definition))

    backend_cls._calculate_task_resource_requirements = staticmethod(_requirements)

    ecs_deployments.apply()  # ListServiceDeployments, StopServiceDeployment, ...
