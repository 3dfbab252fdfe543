"""ECS services as the service scheduler runs them, with real tasks (issue 17's real data plane).

With ``BOOKING_EMULATOR_ECS_TASKS=podman``, a service's tasks are real containers
(tools/ecs_podman.py) and a scheduler thread does what ECS's service scheduler does, once a
second, for every service:

* **Desired count kept.** The PRIMARY deployment's task definition runs ``desiredCount`` tasks,
  each in one of the service's subnets in turn (``startedBy`` the deployment's ID, ``group``
  ``service:<name>``); a task that stops (its essential container exited, it was killed) is
  replaced.
* **Rolling deployments** per ``deploymentConfiguration``: new tasks start while all the
  service's tasks stay within ``maximumPercent`` of the desired count; old ones are stopped while
  the healthy ones stay at or above ``minimumHealthyPercent`` (ECS developer guide, "Deploy
  Amazon ECS services by replacing tasks"). A task is healthy when RUNNING, its essential
  containers' health checks (if any) HEALTHY and, behind a load balancer, its target healthy in
  every target group (target health from tools/elb_proxy.py's health checks).
* **Load balancers**: a task of a service with ``loadBalancers`` is registered (its private IP,
  the container port) in each target group once RUNNING; before it is stopped it is
  deregistered and the task waits out the group's deregistration delay (connection draining),
  then gets SIGTERM. A task whose target is unhealthy after ``healthCheckGracePeriodSeconds`` is
  stopped ("Task failed ELB health checks in (target-group ...)"), one whose container health
  check fails likewise ("Task failed container health checks").
* **COMPLETED** once the new deployment runs the desired count of healthy tasks and the old
  deployments none; **FAILED** by the deployment circuit breaker when as many of its tasks failed
  (stopped before they were ever healthy) as the threshold: half the desired count, at least 3,
  at most 200 (API reference, ServiceDeploymentCircuitBreaker). With ``rollback`` ECS then
  deploys the last completed task definition again; without, the failed deployment launches no
  more tasks.
* **Service events** as ECS words them: started/stopped tasks, registered/deregistered targets,
  draining, failed health checks, deployment completed/failed, steady state (the newest first,
  the last 100 kept).
* **Blue/green, canary and linear deployments** (tools/ecs_deployments.py, the stage machine,
  ticked here once a second): while one is in progress the scheduler runs the green deployment's
  full desired count from SCALE_UP on, beside blue (ECS needs 200% capacity for it, whatever
  ``maximumPercent`` says), each deployment's tasks registered in its own target group; blue keeps
  its tasks until CLEAN_UP, green is drained and stopped on a rollback, and no rolling
  replacement of old tasks happens meanwhile. The scheduler is the stage machine's data plane
  (``ready``, ``failed_tasks``, ``gone``).

Spot or on-demand capacity is bookkeeping only. Not modelled: placement across AZs beyond
round-robin over the subnets, task launch throttling after repeated failures, deployment alarms
of rolling deployments (those of blue/green, canary and linear ones: tools/ecs_deployments.py).
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import ecs_deployments
import ecs_podman

TICK_SECONDS = 1.0
EVENTS_KEPT = 100
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
ESSENTIAL_HEALTH_FAILED = "Task failed container health checks"


def _now() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def _short(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def circuit_breaker_threshold(desired: int) -> int:
    """Half the desired count, rounded up, at least 3 and at most 200."""
    return min(200, max(3, math.ceil(desired * 0.5)))


@dataclass
class _Member:
    """One task of the service, as the scheduler tracks it."""

    task: ecs_podman.PodmanTask
    deployment: str
    targets: list[tuple[str, str, int]] = field(default_factory=list)  # (group, ip, port)
    draining_until: float | None = None  # deregistered: stopped once the delay is over
    stopping: bool = False  # StopTask sent by the scheduler
    stop_reason: str = ""  # why, once draining is over
    ever_healthy: bool = False
    counted: bool = False  # its stop has been accounted for


class ServiceScheduler:
    """The scheduler of one service (one moto Service record)."""

    def __init__(self, backend: Any, service: Any) -> None:
        self.backend, self.service = backend, service
        self.members: dict[str, _Member] = {}  # task ARN -> member
        self._next_subnet = 0
        self.last_completed: str | None = None  # task definition of the last COMPLETED rollout

    # --- records and events ------------------------------------------------------------------
    def event(self, message: str) -> None:
        from moto.moto_api._internal import mock_random

        self.service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": _now(),
                                       "message": f"(service {self.service.name}) {message}"})
        del self.service.events[EVENTS_KEPT:]

    def _deployment(self, deployment_id: str) -> dict[str, Any] | None:
        return next((d for d in self.service.deployments if d["id"] == deployment_id), None)

    # --- the loop ----------------------------------------------------------------------------
    def tick(self) -> None:
        service = self.service
        for member in self.members.values():
            member.task.report()
        self._account_for_stopped()
        primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
        if service.status != "ACTIVE" or primary is None:
            self._scale_to_zero()
            return
        staged = ecs_deployments.in_progress(self.backend, service)
        self._register_running()
        self._stop_unhealthy()
        self._let_go(primary)
        if staged is not None:  # blue/green, canary, linear: the stage machine says what runs
            for deployment in list(service.deployments):
                if deployment.get("_bookingLaunch"):
                    self._launch(deployment, ceiling=False)
        else:
            if primary.get("rolloutState") != "FAILED":
                self._launch(primary)
            self._stop_surplus(primary)
        self._finish_draining()
        self._update_counts(primary, complete=staged is None)
        ecs_deployments.tick(self.backend, service, self)

    # --- the stage machine's data plane (ecs_deployments.Plane) --------------------------------
    def ready(self, deployment: dict[str, Any]) -> bool:
        """The deployment runs the desired count of healthy tasks."""
        healthy = [m for m in self._live(deployment["id"]) if self._healthy(m)]
        return len(healthy) >= int(self.service.desired_count)

    def failed_tasks(self, deployment: dict[str, Any]) -> int:
        return int(deployment.get("failedTasks") or 0)

    def gone(self, deployment: dict[str, Any]) -> bool:
        return not any(m.deployment == deployment["id"] and m.task.status != "STOPPED"
                       for m in self.members.values())

    def _let_go(self, primary: dict[str, Any]) -> None:
        """The tasks of deployments the stage machine let go are drained and stopped."""
        for deployment in self.service.deployments:
            if deployment.get("_bookingRetire"):
                for member in self._live(deployment["id"]):
                    self._stop(member, f"Scaling activity initiated by (deployment "
                                       f"{primary['id']})")

    def _live(self, deployment: str | None = None) -> list[_Member]:
        return [m for m in self.members.values()
                if m.task.status != "STOPPED" and not m.stopping and m.draining_until is None
                and (deployment is None or m.deployment == deployment)]

    def _healthy(self, member: _Member) -> bool:
        if member.task.status != "RUNNING" or member.task.health_status() == "UNHEALTHY":
            return False
        if member.task.health and member.task.health_status() != "HEALTHY":
            return False
        if self.service.load_balancers and not member.targets:
            return False
        healthy = all(_target_state(self.backend, *target) == "healthy"
                      for target in member.targets)
        member.ever_healthy = member.ever_healthy or healthy
        return healthy

    def _account_for_stopped(self) -> None:
        stopped = [m for m in self.members.values()
                   if m.task.status == "STOPPED" and not m.counted]
        for member in stopped:
            member.counted = True
            self._deregister(member)
            if not member.stopping:  # it stopped by itself
                self.event(f"has stopped 1 running tasks: (task {member.task.id}).")
            deployment = self._deployment(member.deployment)
            if deployment is not None and not member.ever_healthy:
                deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
        for arn in [arn for arn, m in self.members.items() if m.counted]:
            del self.members[arn]

    def _launch(self, primary: dict[str, Any], ceiling: bool = True) -> None:
        """Start the deployment's missing tasks, within maximumPercent of the desired count
        (`ceiling`; a blue/green deployment's green runs its full count beside blue)."""
        desired = int(self.service.desired_count)
        config = getattr(self.service, "deployment_configuration", None) or {}
        top = math.floor(desired * int(config.get("maximumPercent", 200)) / 100)
        in_flight = [m for m in self.members.values() if m.task.status != "STOPPED"]
        wanted = desired - len(self._live(primary["id"]))
        room = max(top, desired) - len(in_flight)
        count = min(wanted, room) if ceiling else wanted
        started = [self._start(primary) for _ in range(max(count, 0))]
        if started:
            self.event(f"has started {len(started)} tasks: "
                       + " ".join(f"(task {_short(arn)})" for arn in started) + ".")

    def _start(self, deployment: dict[str, Any]) -> str:
        service = self.service
        network = dict(service.network_configuration or {})
        awsvpc = dict(network.get("awsvpcConfiguration") or {})
        subnets = list(awsvpc.get("subnets") or [])
        if subnets:  # spread over the service's subnets, one after the other
            first = self._next_subnet % len(subnets)
            self._next_subnet += 1
            awsvpc["subnets"] = subnets[first:] + subnets[:first]
            network["awsvpcConfiguration"] = awsvpc
        strategy = getattr(service, "capacity_provider_strategy", None)
        [task] = self.backend.run_task(
            service.cluster_name, deployment["taskDefinition"], 1, None, deployment["id"],
            [], None if strategy else (service.launch_type or "FARGATE"), network,
            group=f"service:{service.name}", platform_version=service.platform_version,
            capacity_provider_strategy=strategy)
        running = ecs_podman.RUNNING_TASKS[task.task_arn]
        self.members[task.task_arn] = _Member(running, deployment["id"])
        return task.task_arn

    def _register_running(self) -> None:
        from moto.elbv2.models import elbv2_backends

        if not self.service.load_balancers:
            return
        elb = elbv2_backends[self.backend.account_id][self.backend.region_name]
        for member in self._live():
            if member.targets or member.task.status != "RUNNING" or member.task.address is None:
                continue
            for balancer, group in zip(self.service.load_balancers, self._groups(member),
                                       strict=True):
                port = int(balancer["containerPort"])
                elb.register_targets(group, [{"Id": member.task.address[1], "Port": port}])
                member.targets.append((group, member.task.address[1], port))
                self.event(f"registered 1 targets in (target-group {group})")

    def _groups(self, member: _Member) -> list[str]:
        """The target groups of the member's deployment: its own under a blue/green deployment
        (the stage machine set them), else where production traffic goes."""
        balancers = self.service.load_balancers
        deployment = self._deployment(member.deployment) or {}
        groups = deployment.get("_bookingGroups") or ecs_deployments.production_groups(
            self.service)
        if groups and len(groups) == len(balancers):
            return list(groups)
        return [balancer["targetGroupArn"] for balancer in balancers]

    def _deregister(self, member: _Member) -> float:
        """Deregister the task's targets; the longest deregistration delay of its groups."""
        from moto.elbv2.models import elbv2_backends

        elb = elbv2_backends[self.backend.account_id][self.backend.region_name]
        delay = 0.0
        for group, address, port in member.targets:
            target_group = elb.target_groups.get(group)
            if target_group is None or address not in target_group.targets:
                continue
            elb.deregister_targets(group, [{"Id": address, "Port": port}])
            self.event(f"deregistered 1 targets in (target-group {group})")
            attributes = getattr(target_group, "attributes", {}) or {}
            delay = max(delay, float(attributes.get("deregistration_delay.timeout_seconds", 300)))
        member.targets = []
        return delay

    def _stop(self, member: _Member, reason: str) -> None:
        """Drain the task's connections (deregistration delay), then StopTask it."""
        if member.targets:
            delay = self._deregister(member)
            self.event("has begun draining connections on 1 tasks.")
            member.draining_until = time.monotonic() + delay
            member.stop_reason = reason
            return
        member.stopping = True
        member.task.stop(reason)
        self.event(f"has stopped 1 running tasks: (task {member.task.id}).")

    def _finish_draining(self) -> None:
        for member in self.members.values():
            if member.draining_until is not None and time.monotonic() >= member.draining_until:
                member.draining_until = None
                member.stopping = True
                member.task.stop(member.stop_reason)
                self.event(f"has stopped 1 running tasks: (task {member.task.id}).")

    def _stop_unhealthy(self) -> None:
        grace = float(getattr(self.service, "health_check_grace_period_seconds", None) or 0)
        for member in self._live():
            if member.task.status != "RUNNING":
                continue
            if member.task.health_status() == "UNHEALTHY":
                self.event(f"(task {member.task.id}) failed container health checks.")
                self._stop(member, ESSENTIAL_HEALTH_FAILED)
                continue
            started = member.task.started_at or time.monotonic()
            if time.monotonic() - started < grace:
                continue
            for group, address, port in member.targets:
                if _target_state(self.backend, group, address, port) == "unhealthy":
                    self.event(f"(port {port}) is unhealthy in (target-group {group}) due to "
                               "(reason Health checks failed).")
                    self._stop(member, f"Task failed ELB health checks in (target-group {group})")
                    break

    def _stop_surplus(self, primary: dict[str, Any]) -> None:
        """Old deployments' tasks (and the primary's beyond the desired count) go while the
        healthy tasks stay at or above minimumHealthyPercent of the desired count."""
        desired = int(self.service.desired_count)
        config = getattr(self.service, "deployment_configuration", None) or {}
        floor = math.ceil(desired * int(config.get("minimumHealthyPercent", 100)) / 100)
        old = [m for m in self._live() if m.deployment != primary["id"]]
        extra = self._live(primary["id"])[desired:]
        healthy = sum(1 for m in self._live() if self._healthy(m))
        # The unhealthy first: stopping them costs no healthy capacity.
        for member in sorted(old + extra, key=self._healthy):
            if not self._healthy(member):
                self._stop(member, f"Scaling activity initiated by (deployment {primary['id']})")
            elif healthy - 1 >= floor:
                healthy -= 1
                self._stop(member, f"Scaling activity initiated by (deployment {primary['id']})")

    def _scale_to_zero(self) -> None:
        for member in self._live():
            self._stop(member, "Service is being deleted" if self.service.status != "ACTIVE"
                       else "Scaling activity initiated by (service)")
        self._finish_draining()

    def _update_counts(self, primary: dict[str, Any], complete: bool = True) -> None:
        service = self.service
        for deployment in service.deployments:
            mine = [m for m in self.members.values() if m.deployment == deployment["id"]
                    and m.task.status != "STOPPED"]
            deployment["runningCount"] = sum(1 for m in mine if m.task.status == "RUNNING")
            deployment["pendingCount"] = sum(1 for m in mine
                                             if m.task.status in ("PROVISIONING", "PENDING"))
            if deployment["status"] != "PRIMARY":
                deployment["desiredCount"] = len(mine)
        primary["desiredCount"] = int(service.desired_count)
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = sum(d["pendingCount"] for d in service.deployments)
        if primary.get("rolloutState") != "IN_PROGRESS" or not complete:
            return  # (a staged deployment completes by its stages: ecs_deployments)
        config = getattr(service, "deployment_configuration", None) or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        threshold = circuit_breaker_threshold(int(service.desired_count))
        if breaker.get("enable") and primary.get("failedTasks", 0) >= threshold:
            self._fail(primary, bool(breaker.get("rollback")))
            return
        healthy = [m for m in self._live(primary["id"]) if self._healthy(m)]
        others = [m for m in self.members.values()
                  if m.deployment != primary["id"] and m.task.status != "STOPPED"]
        if len(healthy) >= int(service.desired_count) and not others:
            primary.update(rolloutState="COMPLETED", updatedAt=_now(),
                           rolloutStateReason=f"ECS deployment {primary['id']} completed.")
            service.deployments[:] = [primary]
            self.last_completed = primary["taskDefinition"]
            self.event(f"(deployment {primary['id']}) deployment completed.")
            self.event("has reached a steady state.")

    def _fail(self, primary: dict[str, Any], rollback: bool) -> None:
        import moto_ecs

        primary.update(rolloutState="FAILED", rolloutStateReason=CIRCUIT_BREAKER_REASON,
                       updatedAt=_now())
        previous = self.last_completed or next(
            (d["taskDefinition"] for d in self.service.deployments
             if d is not primary and d["taskDefinition"] != primary["taskDefinition"]), None)
        if not rollback or previous is None:
            self.event(f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
            return
        self.service.task_definition = previous
        rolled = moto_ecs.new_deployment(self.service, previous, outcome="COMPLETED",
                                         rollback_of=primary)
        self.event(f"deployment {primary['id']} deployment failed: tasks failed to start. "
                   f"Rolling back to deployment {rolled['id']}.")


def _target_state(backend: Any, group: str, address: str, port: int) -> str:
    """The target's health as the load balancer's checks see it (tools/elb_proxy.py); without
    the real load balancer, a registered target counts as healthy."""
    import elb_proxy

    if not elb_proxy.enabled():
        return "healthy"
    return elb_proxy.target_state(group, address, port)[0]


class _Scheduler:
    """The thread that runs every service's scheduler once a second."""

    def __init__(self) -> None:
        self.services: dict[str, ServiceScheduler] = {}  # service ARN -> its scheduler
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def add(self, backend: Any, service: Any) -> None:
        with ecs_podman.LOCK:
            self.services[service.arn] = ServiceScheduler(backend, service)
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._loop, name="ecs-service-scheduler",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(TICK_SECONDS):
            with ecs_podman.LOCK:
                for arn, scheduler in list(self.services.items()):
                    try:
                        scheduler.tick()
                    except Exception:  # one service's trouble must not stop the others'
                        traceback.print_exc(file=sys.stderr)
                    if scheduler.service.status != "ACTIVE" and not scheduler.members:
                        del self.services[arn]

    def forget(self, account: str, region: str) -> None:
        """The ECS backend was reset (/moto-api/reset): its services' tasks stop, unscheduled."""
        with ecs_podman.LOCK:
            for arn, scheduler in list(self.services.items()):
                if (scheduler.backend.account_id, scheduler.backend.region_name) == (
                        account, region):
                    for member in scheduler.members.values():
                        member.task.stop("Service deleted (the emulator was reset)")
                    del self.services[arn]

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self.services.clear()


SCHEDULER = _Scheduler()


def manage(backend: Any, service: Any) -> None:
    """CreateService (moto_ecs): the scheduler runs the service's tasks from now on."""
    SCHEDULER.add(backend, service)


def stop_all() -> None:
    """The emulator stops: no more scheduling (ecs_podman.stop_all stops the tasks)."""
    SCHEDULER.stop()
