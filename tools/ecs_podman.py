"""ECS one-off tasks as real containers: RunTask runs what the task definition says, with podman.

The first part of the emulator's real data plane (issue 17). With
``BOOKING_EMULATOR_ECS_TASKS=podman`` in the emulator's environment, a Fargate RunTask no longer
stops with a scripted exit code (moto_ecs): the emulator starts the task's containers on the
project's podman store (tools/container/podman.sh) and the task lives as ECS reports it:

* PROVISIONING while ECS prepares the task: the secrets are read from the emulator's Parameter
  Store (``secrets[].valueFrom``, a name or its ARN) and the images pulled from the registry the
  task definition names. A missing parameter stops the task before any container starts, with
  ECS's ``TaskFailedToStart`` and the agent's message (``ResourceInitializationError: unable to
  pull secrets or registry auth: ... invalid ssm parameters: <name>``); an image that cannot be
  pulled with ``CannotPullContainerError``; an ``awslogs`` log group that does not exist with
  ECS's logger error, unless ``awslogs-create-group`` is ``true``.
* RUNNING once the containers run: ``command``, ``entryPoint``, ``user``, ``environment``,
  ``stopTimeout``, the overrides of the RunTask call (``containerOverrides``: command,
  environment), ``readonlyRootFilesystem`` (no tmpfs added: Fargate adds none), and the task's
  volumes mounted as Fargate mounts them (a path the image declares a ``VOLUME`` starts with the
  image's content, any other an empty directory owned by root, mode 0755).
* STOPPED when an essential container exits (the others are stopped, SIGTERM then SIGKILL after
  their ``stopTimeout``): each container's real exit code, ``stopCode``
  ``EssentialContainerExited`` and ``stoppedReason`` "Essential container in task exited". StopTask
  stops the containers the same way: desired status STOPPED at once, ``stopCode``
  ``UserInitiated`` with the reason given, STOPPED once they have exited. When the emulator stops
  (``make down``), so do the tasks it runs.

Each container's output goes, line by line as it is written, to the log group and stream its
``awslogs`` options name (``<awslogs-stream-prefix>/<container>/<task id>``) in the emulator's
CloudWatch Logs, so ``aws logs tail`` on the emulator shows it. Secrets reach podman through an
env file readable by the emulator's user only, removed once the container is created; they are
never on a command line. DescribeTasks reads each task's progress from RUNNING_TASKS: the threads
that run the containers never write moto's ECS records (they write log events, as the awslogs
driver does through the API).

Each task has its own address, as awsvpc gives a Fargate task its own ENI: its container runs on
the podman bridge network of its ENI's subnet (tools/local_net.py) with the very private IP that
DescribeTasks reports. The endpoints of the emulated services (DB instances, replication groups,
load balancers) resolve inside it to their real servers (``local_net.HOSTS``), and it trusts the
local CA in its system bundle, as a Fargate task trusts Amazon's. cpu and memory limits are
applied (the container's own, else the task's), and the tasks' CPU is reserved as Fargate
reserves it, ahead of the host's other work (``reserve_task_cpu``). A container's
``healthCheck`` runs as ECS runs it (``podman exec`` every ``interval``, ``timeout``,
``retries``, failures ignored during ``startPeriod``): UNKNOWN, then HEALTHY or UNHEALTHY,
reported per container and for the task (tools/ecs_services.py stops a service's unhealthy task
and replaces it).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import local_ca  # beside this file (tools/ is on the emulator's path)
import local_net

TASKS_ENV = "BOOKING_EMULATOR_ECS_TASKS"
REPO = Path(__file__).resolve().parents[1]
PODMAN = [str(REPO / "tools" / "container" / "podman.sh")]

SECRETS_FAILED = ("ResourceInitializationError: unable to pull secrets or registry auth: "
                  "execution resource retrieval failed: unable to retrieve secrets from ssm: "
                  "service call has been retried 1 time(s): invalid ssm parameters: {names}")
PULL_FAILED = ("CannotPullContainerError: pull image manifest has been retried 1 time(s): "
               "failed to resolve ref {image}: {detail}")
# As Fargate's agent reports a log group that does not exist (the awslogs driver cannot create
# the task's stream; its message as AWS re:Post threads quote it).
LOG_GROUP_MISSING = ("ResourceInitializationError: failed to validate logger args: "
                     "create stream has been retried 1 times: failed to create Cloudwatch log "
                     "stream: ResourceNotFoundException: The specified log group does not exist. "
                     ": exit status 1")
ESSENTIAL_EXITED = "Essential container in task exited"
FARGATE_STOP_TIMEOUT = 30  # seconds (ContainerDefinition stopTimeout: "the default is 30")
# HealthCheck's defaults (ECS API reference, HealthCheck): interval 30 s, timeout 5 s, 3 retries,
# no start period.
HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
# Where the image's system CA bundle is (Debian's, the image's base): the local CA joins it there.
CA_BUNDLE_IN_CONTAINER = "/etc/ssl/certs/ca-certificates.crt"
# Every task container carries the PID of the emulator that runs it (a killed emulator's are
# removed by `emulator.py down`).
EMULATOR_LABEL = "booking.emulator.pid"
# Every ECS data-plane change (a task's record, a service's deployments) happens under this lock,
# in the API's threads and in the service scheduler's (tools/ecs_services.py) alike.
LOCK = threading.RLock()
# Loopback registries speak plain HTTP (tools/container/registry.sh); every other one TLS.
_PLAIN_HTTP_HOSTS = ("127.0.0.1", "localhost")


def enabled() -> bool:
    """Whether RunTask runs real containers (the emulator's environment says so)."""
    return os.environ.get(TASKS_ENV, "") == "podman"


def podman(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


# Fargate reserves a task's vCPU for it; on this machine the task containers share the cores with
# everything else. podman (cgroupfs manager) puts every container under one parent cgroup,
# libpod_parent, which competes with each process session outside it as one equal (cgroup v1
# cpu.shares 1024; with autogroup every session of the host is one such entity): with eight busy
# sessions beside them, all the tasks together got a fifth of a core (measured 2026-12-07), and
# web tasks booting gunicorn missed their health checks (CI, under the test suite's load). Weighing
# the parent like eight such sessions gives the tasks the CPU their size (--cpus) allows first, as
# Fargate does, and nothing beyond it. Set where the machine lets us (root, cgroupfs); else the
# tasks share the CPU as before.
TASK_CGROUP_PARENT = "libpod_parent"
TASK_CPU_SHARES = 8192  # cgroup v1 cpu.shares (default 1024)
TASK_CPU_WEIGHT = 800  # cgroup v2 cpu.weight (default 100)
CGROUP_ROOT = Path("/sys/fs/cgroup")
_cpu_reserved = threading.Event()


def reserve_task_cpu(root: Path = CGROUP_ROOT) -> Path | None:
    """Weigh the task containers' parent cgroup above the host's other work (see above); the file
    written, or None where cgroups cannot be written here. Idempotent."""
    if (root / "cgroup.controllers").exists():  # v2: the unified hierarchy
        parent, name, value = root / TASK_CGROUP_PARENT, "cpu.weight", TASK_CPU_WEIGHT
    else:
        parent, name, value = root / "cpu" / TASK_CGROUP_PARENT, "cpu.shares", TASK_CPU_SHARES
    try:
        parent.mkdir(exist_ok=True)  # a directory in cgroupfs is a cgroup; podman reuses it
        (parent / name).write_text(f"{value}\n")
    except OSError:
        return None
    _cpu_reserved.set()
    return parent / name


class TaskFailedToStart(Exception):
    """The task stops before its containers start; the message is ECS's stoppedReason."""


def _parameter_name(value_from: str) -> str:
    """A parameter's name from a secret's valueFrom: the name itself, or its ARN
    (arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>)."""
    if value_from.startswith("arn:"):
        return "/" + value_from.split(":parameter/", 1)[1]
    return value_from


def _resolve_secrets(containers: list[dict[str, Any]], account: str, region: str) -> dict[
        str, dict[str, str]]:
    """Each container's secrets as environment variables, read from the Parameter Store."""
    from moto.core.exceptions import JsonRESTError
    from moto.ssm.models import ssm_backends

    store = ssm_backends[account][region]
    resolved: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for container in containers:
        values = resolved.setdefault(container["name"], {})
        for secret in container.get("secrets") or []:
            name = _parameter_name(secret["valueFrom"])
            try:
                parameter = store.get_parameter(name)  # None when there is no such name
            except JsonRESTError:  # a version or label that does not exist
                parameter = None
            if parameter is None:
                missing.append(name)
            else:
                # As the agent reads it: GetParameters WithDecryption (moto keeps a
                # SecureString's value wrapped as "kms:<key>:<value>").
                values[secret["name"]] = parameter.decrypt(parameter.value)
    if missing:
        raise TaskFailedToStart(SECRETS_FAILED.format(names=", ".join(missing)))
    return resolved


def _log_options(container: dict[str, Any]) -> dict[str, str] | None:
    config = container.get("logConfiguration") or {}
    return (config.get("options") or {}) if config.get("logDriver") == "awslogs" else None


def _check_log_groups(containers: list[dict[str, Any]], account: str, region: str) -> None:
    from moto.logs.models import logs_backends

    for container in containers:
        options = _log_options(container)
        if options is None:
            continue
        backend = logs_backends[account][options.get("awslogs-region", region)]
        group = options["awslogs-group"]
        if group not in backend.groups:
            if str(options.get("awslogs-create-group", "")).lower() != "true":
                raise TaskFailedToStart(LOG_GROUP_MISSING)
            backend.create_log_group(group, {})


def _pull(image: str) -> None:
    registry = image.split("/", 1)[0].split(":", 1)[0]
    tls = "false" if registry in _PLAIN_HTTP_HOSTS else "true"
    pulled = podman("pull", "--quiet", f"--tls-verify={tls}", image, timeout=600)
    if pulled.returncode != 0:
        detail = (pulled.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise TaskFailedToStart(PULL_FAILED.format(image=image, detail=detail))


_CERTIFI: dict[str, list[str]] = {}


def _certifi_bundle(image: str) -> list[str]:
    """Where the image's Python keeps certifi's CA bundle, if it has one: requests (the Twilio
    client's HTTP) trusts that file, not the system's, so the local CA joins it there too."""
    if image not in _CERTIFI:
        found = podman("run", "--rm", "--network=none", "--entrypoint", "python", image, "-c",
                       "import certifi; print(certifi.where())", timeout=60)
        path = found.stdout.strip().splitlines()[-1] if found.returncode == 0 else ""
        _CERTIFI[image] = [path] if path.startswith("/") else []
    return _CERTIFI[image]


def _image_volumes(image: str) -> set[str]:
    inspected = podman("image", "inspect", image)
    if inspected.returncode != 0:
        return set()
    config = json.loads(inspected.stdout)[0].get("Config") or {}
    return set(config.get("Volumes") or {})


class PodmanTask:
    """One RunTask task: its containers on podman, its moto record kept up to date."""

    def __init__(self, task: Any, task_definition: Any, overrides: dict[str, Any] | None,
                 account: str, region: str) -> None:
        self.task = task
        self.task_definition = task_definition
        self.id = task.task_arn.rsplit("/", 1)[-1]
        self.account, self.region = account, region
        by_name = {o.get("name"): o for o in (overrides or {}).get("containerOverrides") or []}
        self.containers = [self._with_override(c, by_name.get(c["name"]))
                           for c in task_definition.container_definitions]
        self.names = {c["name"]: f"ecs-{self.id[:12]}-{c['name']}" for c in self.containers}
        self._made: list[tuple[str, str]] = []  # ("volume", name) / ("dir", path) to remove
        self._shippers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.status = "PROVISIONING"
        self.exit_codes: dict[str, int | None] = {}
        self.stop_code: str | None = None
        self.stopped_reason: str | None = None
        self._stop_asked: threading.Event = threading.Event()  # StopTask, or the emulator's end
        self._runner: threading.Thread | None = None
        self.started_at: float | None = None  # monotonic, when RUNNING
        # Container name -> UNKNOWN / HEALTHY / UNHEALTHY, for those with a healthCheck.
        self.health: dict[str, str] = {c["name"]: "UNKNOWN" for c in self.containers
                                       if c.get("healthCheck")}
        self.address = _private_ip(task)

    @staticmethod
    def _with_override(container: dict[str, Any], override: dict[str, Any] | None) -> dict:
        if not override:
            return container
        merged = dict(container)
        if override.get("command") is not None:
            merged["command"] = override["command"]
        if override.get("environment"):
            environment = {e["name"]: e["value"] for e in container.get("environment") or []}
            environment.update({e["name"]: e["value"] for e in override["environment"]})
            merged["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
        return merged

    # --- the moto record: written in the API's threads only (RunTask, DescribeTasks) ----------
    def _record_containers(self) -> None:
        from moto.ecs.models import Container

        records = []
        for container in self.containers:
            record = Container(_DefinitionView(self.task.task_definition_arn, container))
            record.task_arn = self.task.task_arn  # moto gives the task definition's
            record.exitCode = None
            record.health_status = "UNKNOWN"
            records.append(record)
        self.task.containers = records
        # moto moves a task through its states as it is described; this one moves as it runs.
        self.task._transitions = []

    def report(self) -> None:
        """Write what the task has come to into its moto record (DescribeTasks calls this)."""
        with self._lock:
            status, codes = self.status, dict(self.exit_codes)
            stop_code, reason = self.stop_code, self.stopped_reason
            health = dict(self.health)
        self.task.status = status
        self.task.health_status = self.health_status()
        for record in self.task.containers:
            record.last_status = "PENDING" if status == "PROVISIONING" else status
            record.exitCode = codes.get(record.name)
            record.health_status = health.get(record.name, "UNKNOWN")
        if status == "STOPPED" or self._stop_asked.is_set():
            self.task.desired_status = "STOPPED"
            self.task.stop_code = stop_code
            self.task.stopped_reason = reason

    def health_status(self) -> str:
        """The task's health as ECS derives it from its essential containers' checks: UNHEALTHY
        if one is, HEALTHY when all that have a check are, UNKNOWN otherwise (and without any)."""
        with self._lock:
            essential = [self.health[c["name"]] for c in self.containers
                         if c.get("essential", True) and c["name"] in self.health]
        if "UNHEALTHY" in essential:
            return "UNHEALTHY"
        if essential and all(h == "HEALTHY" for h in essential):
            return "HEALTHY"
        return "UNKNOWN"

    def _set(self, status: str, **stopped: Any) -> None:
        with self._lock:
            self.status = status
            for name, value in stopped.items():
                setattr(self, name, value)

    # --- the containers -----------------------------------------------------------------------
    def start(self) -> None:
        self._record_containers()
        self.report()
        RUNNING_TASKS[self.task.task_arn] = self
        self._runner = threading.Thread(target=self._run, name=f"ecs-task-{self.id[:8]}",
                                        daemon=True)
        self._runner.start()

    def stop(self, reason: str) -> None:
        """StopTask: the containers get SIGTERM, then SIGKILL after their stopTimeout (podman's
        --stop-timeout, set from it); the task is STOPPED once they have exited, with stopCode
        UserInitiated and the reason given."""
        with self._lock:
            if self.status == "STOPPED" or self._stop_asked.is_set():
                return
            self.stop_code, self.stopped_reason = "UserInitiated", reason
            self._stop_asked.set()  # the task's own thread stops the containers (_wait)

    def _run(self) -> None:
        try:
            secrets = _resolve_secrets(self.containers, self.account, self.region)
            _check_log_groups(self.containers, self.account, self.region)
            for image in dict.fromkeys(c["image"] for c in self.containers):
                _pull(image)
            self._set("PENDING")
            for container in self.containers:
                self._create(container, secrets[container["name"]])
        except TaskFailedToStart as failure:
            self._cleanup()
            self._set("STOPPED", stop_code="TaskFailedToStart", stopped_reason=str(failure))
            return
        if self._stop_asked.is_set():  # StopTask while the task was provisioned
            self._cleanup()
            self._set("STOPPED")
            return
        if not _cpu_reserved.is_set():
            reserve_task_cpu()
        for container in self.containers:
            podman("start", self.names[container["name"]])
            options = _log_options(container)
            if options is not None:
                shipper = threading.Thread(target=self._ship_logs, args=(container, options),
                                           daemon=True)
                shipper.start()
                self._shippers.append(shipper)
        with self._lock:
            self.started_at = time.monotonic()
        self._set("RUNNING")
        for container in self.containers:
            if container.get("healthCheck"):
                threading.Thread(target=self._check_health, args=(container,), daemon=True,
                                 name=f"ecs-health-{self.id[:8]}").start()
        self._wait()

    def _check_health(self, container: dict[str, Any]) -> None:
        """The container's healthCheck, as the ECS agent runs it (Docker's semantics): every
        `interval` s (the first `interval` s after start), a run longer than `timeout` fails,
        `retries` consecutive failures make it UNHEALTHY unless within `startPeriod`; one success
        makes it HEALTHY (and ends the start period)."""
        check = {**HEALTH_DEFAULTS, **container["healthCheck"]}
        command = list(check["command"])
        if command and command[0] == "CMD-SHELL":
            command = ["/bin/sh", "-c", " ".join(command[1:])]
        elif command and command[0] == "CMD":
            command = command[1:]
        name = container["name"]
        failures, started = 0, time.monotonic()
        while not self._stop_asked.wait(float(check["interval"])):
            if self.status != "RUNNING":
                return
            try:
                passed = podman("exec", self.names[name], *command,
                                timeout=float(check["timeout"])).returncode == 0
            except subprocess.TimeoutExpired:
                passed = False
            in_start_period = time.monotonic() - started < float(check["startPeriod"])
            with self._lock:
                if passed:
                    failures, self.health[name] = 0, "HEALTHY"
                    started = float("-inf")  # a success ends the start period
                elif not in_start_period:
                    failures += 1
                    if failures >= int(check["retries"]):
                        self.health[name] = "UNHEALTHY"

    def _create(self, container: dict[str, Any], secrets: dict[str, str]) -> None:
        args = ["create", "--name", self.names[container["name"]],
                "--label", f"{EMULATOR_LABEL}={os.getpid()}"]
        # The emulated endpoints resolve inside the container as on AWS (tools/local_net.py),
        # and the local CA is trusted as Amazon's CAs are on Fargate (tools/local_ca.py).
        for name, address in sorted(local_net.HOSTS.items()):
            args += ["--add-host", f"{name}:{address}"]
        bundle = local_ca.trust_bundle()
        for path in (CA_BUNDLE_IN_CONTAINER, *_certifi_bundle(container["image"])):
            args += ["-v", f"{bundle}:{path}:ro"]
        args += self._limits(container)
        if container.get("entryPoint"):
            args += ["--entrypoint", json.dumps(container["entryPoint"])]
        if container.get("user"):
            args += ["--user", str(container["user"])]
        if container.get("readonlyRootFilesystem"):
            args += ["--read-only", "--read-only-tmpfs=false"]
        # SIGTERM, then SIGKILL after stopTimeout: Fargate's default 30 s (podman's is 10).
        args += ["--stop-timeout", str(container.get("stopTimeout") or FARGATE_STOP_TIMEOUT)]
        args += self._mounts(container)
        environment = {e["name"]: e["value"] for e in container.get("environment") or []}
        environment.update(secrets)
        with tempfile.TemporaryDirectory(prefix="ecs-task-env-") as private:
            env_file = Path(private) / "env"  # the directory is 0700: only this user reads it
            env_file.write_text("".join(f"{k}={v}\n" for k, v in environment.items()))
            # The network and the container on it under the machine's lock: another emulator
            # stopping removes the task networks no container uses (local_net.remove_networks).
            with local_net.machine_lock():
                created = podman(*args, *self._network(), "--env-file", str(env_file),
                                 container["image"], *(container.get("command") or []))
        if created.returncode != 0:
            raise TaskFailedToStart(f"CannotCreateContainerError: {created.stderr.strip()}")

    def _network(self) -> list[str]:
        """awsvpc: the task's ENI's subnet as a bridge network, its private IP as the address."""
        if self.address is None:
            return ["--network=host"]
        subnet, address = self.address
        try:
            network = local_net.subnet_network(subnet, PODMAN)
        except local_net.LocalNetError as error:
            raise TaskFailedToStart(f"ResourceInitializationError: {error}") from error
        return ["--network", network, "--ip", address]

    def _limits(self, container: dict[str, Any]) -> list[str]:
        """Fargate's task size, as podman applies it: the container's cpu/memory, else the
        task's (a 1024-unit vCPU is one CPU)."""
        cpu = container.get("cpu") or self.task_definition.cpu
        memory = container.get("memory") or self.task_definition.memory
        limits = []
        if cpu and int(cpu) > 0:
            limits.append(f"--cpus={int(cpu) / 1024:g}")
        if memory and int(memory) > 0:
            limits.append(f"--memory={int(memory)}m")
        return limits

    def _mounts(self, container: dict[str, Any]) -> list[str]:
        declared = _image_volumes(container["image"])
        args = []
        for mount in container.get("mountPoints") or []:
            path = mount["containerPath"]
            suffix = ":ro" if mount.get("readOnly") else ""
            if path in declared:  # Fargate copies the image's content into the new volume
                name = f"ecs-{self.id[:12]}-{mount['sourceVolume']}"
                if ("volume", name) not in self._made:
                    podman("volume", "create", "--label", f"{EMULATOR_LABEL}={os.getpid()}",
                           name)
                    self._made.append(("volume", name))
                args += ["-v", f"{name}:{path}{suffix}"]
            else:  # an empty directory owned by root, 0755
                host = tempfile.mkdtemp(prefix=f"ecs-{self.id[:12]}-")
                os.chmod(host, 0o755)
                self._made.append(("dir", host))
                args += ["-v", f"{host}:{path}{suffix}"]
        return args

    def _wait(self) -> None:
        essential = [c["name"] for c in self.containers if c.get("essential", True)]
        waiters = {name: subprocess.Popen([*PODMAN, "wait", self.names[name]],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True)
                   for name in self.names}
        while (all(waiters[name].poll() is None for name in essential)
               and not self._stop_asked.is_set()):
            time.sleep(0.2)
        self._set("STOPPING")
        # The others (all, on StopTask) stop as ECS stops them: SIGTERM, SIGKILL after stopTimeout.
        for container in self.containers:
            if waiters[container["name"]].poll() is None:
                podman("stop", self.names[container["name"]], timeout=180)
        codes = {}
        for name, waiter in waiters.items():
            output = waiter.communicate(timeout=180)[0].strip()
            codes[name] = int(output) if output.lstrip("-").isdigit() else None
        for shipper in self._shippers:  # what the containers wrote reaches the log streams
            shipper.join(timeout=30)
        self._cleanup()
        if self._stop_asked.is_set():  # StopTask's code and reason stand
            self._set("STOPPED", exit_codes=codes)
        else:
            self._set("STOPPED", exit_codes=codes, stop_code="EssentialContainerExited",
                      stopped_reason=ESSENTIAL_EXITED)

    def join(self, timeout: float) -> None:
        if self._runner is not None:
            self._runner.join(timeout)

    def _ship_logs(self, container: dict[str, Any], options: dict[str, str]) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[self.account][options.get("awslogs-region", self.region)]
        group = options["awslogs-group"]
        prefix = options.get("awslogs-stream-prefix")
        stream = "/".join(p for p in (prefix, container["name"], self.id) if p)
        backend.ensure_log_stream(group, stream)
        follow = subprocess.Popen([*PODMAN, "logs", "--follow", self.names[container["name"]]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert follow.stdout is not None
        for line in follow.stdout:
            backend.put_log_events(group, stream, [
                {"timestamp": int(time.time() * 1000), "message": line.rstrip("\n")}])
        follow.wait()

    def _cleanup(self) -> None:
        for name in self.names.values():
            podman("rm", "--force", "--volumes", "--time", "0", name, timeout=180)
        while self._made:
            kind, name = self._made.pop()
            if kind == "volume":
                podman("volume", "rm", "--force", name)
            else:
                subprocess.run(["rm", "-rf", name], check=False)


def _private_ip(task: Any) -> tuple[str, str] | None:
    """(subnet CIDR, private IP) of the task's ENI, or None without awsvpc."""
    from moto.ec2.models import ec2_backends

    for attachment in getattr(task, "attachments", None) or []:
        details = {d["name"]: d["value"] for d in attachment.get("details") or []}
        if "privateIPv4Address" in details and "subnetId" in details:
            ec2 = ec2_backends[task._account_id][task.region_name]
            return ec2.get_subnet(details["subnetId"]).cidr_block, details["privateIPv4Address"]
    return None


class _DefinitionView:
    """What moto's Container reads of a task definition: one container's definition."""

    def __init__(self, arn: str, container: dict[str, Any]) -> None:
        self.arn = arn
        self.container_definitions = [container]


# Task ARN -> its PodmanTask, for DescribeTasks (a stopped task stays, as ECS shows it for a while).
RUNNING_TASKS: dict[str, PodmanTask] = {}


def run(tasks: list[Any], task_definition: Any, overrides: dict[str, Any] | None,
        account: str, region: str) -> None:
    """Start RunTask's tasks on podman (moto_ecs calls this when enabled())."""
    for task in tasks:
        PodmanTask(task, task_definition, overrides, account, region).start()


def stop(task: str, reason: str) -> Any:
    """StopTask (moto_ecs) of `task`, an ARN or ID: its moto record if it runs here, else None."""
    task_id = task.rsplit("/", 1)[-1]
    running = next((t for t in RUNNING_TASKS.values() if t.id == task_id), None)
    if running is None:
        return None
    running.stop(reason)
    running.report()
    return running.task


def stop_all(reason: str = "Task stopped by the emulator's shutdown", timeout: float = 120) -> None:
    """Stop every task still running and wait for them (the emulator stops: `make down`)."""
    running = [t for t in RUNNING_TASKS.values() if t.status != "STOPPED"]
    for task in running:
        task.stop(reason)
    deadline = time.monotonic() + timeout
    for task in running:
        task.join(max(deadline - time.monotonic(), 0))
    local_net.remove_networks(PODMAN)


def report(tasks: list[Any]) -> None:
    """Bring the moto records of tasks run here up to date (moto_ecs, on DescribeTasks)."""
    for task in tasks:
        running = RUNNING_TASKS.get(task.task_arn)
        if running is not None:
            running.report()


def remove_containers_of(emulator_pid: int) -> None:
    """Remove the task containers an emulator process left behind (it was killed)."""
    listed = podman("ps", "--all", "--quiet", "--filter", f"label={EMULATOR_LABEL}={emulator_pid}")
    for container in listed.stdout.split():
        podman("rm", "--force", "--volumes", "--time", "0", container, timeout=180)
    local_net.remove_networks(PODMAN)


def report_all() -> None:
    """Bring the moto record of every task run here up to date (moto_ecs, on ListTasks)."""
    for running in list(RUNNING_TASKS.values()):
        running.report()
