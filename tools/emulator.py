#!/usr/bin/env python3
"""The local AWS emulator: moto in server mode on loopback, with our fidelity patches.

    emulator.py serve --port 5000              run in the foreground (used by `up` and by tests)
    emulator.py up    --port 5000              start in the background unless already running
    emulator.py down                           stop the background emulator (PID file)
    emulator.py reset --port 5000              forget every emulated resource
    emulator.py url   --port 5000              print only the endpoint URL

Every AWS call answered is appended to .run/emulator-calls.jsonl (service, operation, time), so
benchmarks and tests can count and order API calls at the emulator.

BOOKING_EMULATOR_STRICT (read at start) turns on strict mode, tools/moto_strict.py: moto as strict
as AWS where a first run fails (docs/emulator.md, "Strict mode"). Off unless set.

The Makefile drives this; see `make help`. State lives in .run/ (PID file and log).
"""

from __future__ import annotations

import argparse
import copy
import copyreg
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ecs_podman  # found through the path above
import ecs_services
import elasticache_redis
import elb_proxy
import local_net
import moto_ecs
import moto_patches
import moto_strict
import rds_postgres
import twilio_stub

HOST = "127.0.0.1"
RUN_DIR = Path(__file__).resolve().parent.parent / ".run"


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


HEALTH_PATH = "/_emulator/health"
# The address of the real server behind each endpoint name (a DB instance's PostgreSQL, a
# replication group's Redis, a load balancer's proxy; tools/local_net.py): what a client maps
# the name to.
ENDPOINTS_PATH = "/_emulator/endpoints"


def is_answering(port: int, timeout: float = 5.0) -> bool:
    """True when our emulator (not just any HTTP server) answers on the port."""
    try:
        with urllib.request.urlopen(f"{endpoint_url(port)}{HEALTH_PATH}", timeout=timeout) as r:
            return r.read() == b"booking-deploy emulator"
    except (urllib.error.URLError, OSError):
        return False


def _read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


@dataclass(frozen=True)
class Call:
    """One AWS API call the emulator answered: when, which service, which operation, and whether
    strict mode answered it with AWS's throttling error (the SDK then sends it again)."""

    at: float
    service: str
    action: str
    throttled: bool = False


_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


def _describe_request(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a signed AWS request, without disturbing the body for moto."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: "AmazonEC2ContainerServiceV20141113.DescribeServices"
        return service, target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return service, query["Action"][0]
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # hand moto the same bytes
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return service, action[0]
    # REST protocols (S3, Route 53, ...): the method and path are the operation.
    return service, f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}"


def endpoint_client(url: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client for the emulator at `url` (dummy credentials: moto checks none)."""
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")


# Locks inside moto's models (and ours) are copied as new, unlocked locks: a snapshot is taken
# and restored between calls, never during one.
for _lock_type in (type(threading.Lock()), type(threading.RLock())):
    copyreg.pickle(_lock_type, lambda lock: (type(lock), ()))


def _new_defaultdict(cls: type, factory: Any) -> Any:
    made = cls.__new__(cls)
    defaultdict.__init__(made, factory)
    return made


def _reduce_defaultdict(made: Any) -> tuple[Any, ...]:
    return (_new_defaultdict, (type(made), made.default_factory), made.__dict__ or None, None,
            iter(made.items()))


def _copyable_defaultdicts() -> None:
    """defaultdict subclasses whose __init__ takes arguments (moto's SSM ParameterDict) cannot be
    copied the default way (deepcopy calls cls(default_factory)): rebuild them by __new__."""
    pending = [defaultdict]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not defaultdict and cls.__init__ is not defaultdict.__init__:
            copyreg.pickle(cls, _reduce_defaultdict)


@dataclass
class Snapshot:
    """Every emulated resource at one moment, for Emulator.restore (in-process emulators only).

    `backends` holds, per moto backend in use, the live objects (BackendDict, its per-account
    dict, the region's backend) and a deep copy of the backend's state. The live objects stay
    the same across restores: models hold references to backends (an ELB target to EC2), and
    those references must keep pointing at the backends moto serves from.
    """

    backends: list[tuple[Any, str, Any, str, Any, dict[str, Any]]]
    ecs_runtime: dict[str, Any]
    rds_offered: dict[str, Any]


def _live_memo(backends: list[tuple[Any, str, Any, str, Any, dict[str, Any]]]) -> dict[int, Any]:
    """deepcopy's memo seeded so that references to moto's live containers are not copied."""
    memo: dict[int, Any] = {}
    for backend_dict, _, account_backends, _, backend, _ in backends:
        for live in (backend_dict, account_backends, backend):
            memo[id(live)] = live
    return memo


class Emulator:
    """moto's server with our fidelity patches, recording every AWS call it answers.

    Used by `emulator.py serve` and, in-process, by the test suite, which can then inspect the
    calls (order, count) and drive emulator state directly.
    """

    def __init__(self, port: int = 0, call_log: Path | None = None) -> None:
        # Attaching AWS managed policies (AmazonECSTaskExecutionRolePolicy, ...) needs them loaded.
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        # Requested ACM certificates become ISSUED after this many seconds (moto's default: 60),
        # standing for AWS's DNS validation.
        os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "5")
        moto_patches.apply_all()
        # Strict mode's test hooks and throttling (None unless BOOKING_EMULATOR_STRICT is set).
        self._strict = moto_strict.gate()
        self._requested_port = port
        self._call_log = call_log
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._hosts_file: local_net.HostsFile | None = None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == HEALTH_PATH:  # cheap, whatever the emulated state
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"booking-deploy emulator"]
        if environ.get("PATH_INFO") == ENDPOINTS_PATH:  # endpoint name -> real server
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(local_net.HOSTS).encode()]
        if self._strict is not None:  # strict mode's own /_emulator/ hooks
            answered = self._strict.hook(environ, start_response)
            if answered is not None:
                return answered
            if environ.get("PATH_INFO") == "/moto-api/reset":
                moto_strict.reset_state()
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            service, action = _describe_request(environ)
            refused = None
            if self._strict is not None:  # strict mode: AWS's throttling error, now and then
                refused = self._strict.throttled(service, action, environ, start_response)
            call = Call(time.time(), service, action, throttled=refused is not None)
            with self._lock:
                self.calls.append(call)
                if self._call_log:
                    with self._call_log.open("a") as log:
                        log.write(json.dumps(asdict(call)) + "\n")
            if refused is not None:
                return refused
        return self._moto(environ, start_response)

    def _published_names(self) -> dict[str, str]:
        """What this emulator's block of /etc/hosts maps: the endpoints of its real servers and
        the Route 53 names that alias them (tools/local_net.py)."""
        hosts = dict(local_net.HOSTS)
        return {**hosts, **local_net.aliases_of(hosts)} if hosts else {}

    def start(self) -> Emulator:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self._moto = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(HOST, self._requested_port, self._app, threaded=True,
                                   request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._hosts_file = local_net.HostsFile(self._published_names)
        self._hosts_file.start()
        if twilio_stub.enabled():  # api.twilio.com, as Twilio's test credentials answer
            twilio_stub.start()
        return self

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return endpoint_url(self.port)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A boto3 client for this emulator (dummy credentials: moto checks none)."""
        return endpoint_client(self.url, service, region)

    def reset(self) -> None:
        """Forget every emulated resource and every recorded call.

        Called in this process, as /moto-api/reset would: through the server a reset waits for a
        server thread and, with every backend of a converged stack to drop, took more than the
        request's 10 s timeout on CI's loaded two cores (2026-12-07: 7 fixture errors).
        """
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        moto_ecs.RUNTIME.reset()
        moto_strict.reset_state()
        with self._lock:
            self.calls.clear()

    def snapshot(self) -> Snapshot:
        """Copy every emulated resource (and the scripted ECS data plane) as it is now.

        For tests that build an expensive state once and start several tests from it: a
        restore takes about a second where the state took a deploy (tests/test_release_failures.py).
        """
        from moto.core.base_backend import BackendDict, backend_lock

        _copyable_defaultdicts()  # the classes of the backends in use are imported by now
        with backend_lock:
            live = [(backend_dict, account, account_backends, region, backend, backend.__dict__)
                    for backend_dict in BackendDict._instances
                    for account, account_backends in backend_dict.items()
                    for region, backend in account_backends.items()]
            state = copy.deepcopy([entry[5] for entry in live], _live_memo(live))
        return Snapshot([(*entry[:5], saved) for entry, saved in zip(live, state, strict=True)],
                        moto_ecs.RUNTIME.state(), moto_strict.offered_state())

    def restore(self, snapshot: Snapshot) -> None:
        """Put every emulated resource back as `snapshot` saw it; forget the recorded calls.

        Backends used since the snapshot are dropped, as a reset drops them. The snapshot can be
        restored again: each restore works on a fresh copy.
        """
        from moto.core.base_backend import BackendDict, backend_lock

        with backend_lock:
            for backend_dict in BackendDict._instances:
                backend_dict.clear()
            BackendDict._instances.clear()
            for _, _, account_backends, _, _, _ in snapshot.backends:
                dict.clear(account_backends)  # regions first used since the snapshot
            state = copy.deepcopy([entry[5] for entry in snapshot.backends],
                                  _live_memo(snapshot.backends))
            for (backend_dict, account, account_backends, region, backend, _), saved in zip(
                    snapshot.backends, state, strict=True):
                backend.__dict__ = saved
                # dict's own methods: moto's __setitem__/__getitem__ would create new backends.
                dict.__setitem__(account_backends, region, backend)
                dict.__setitem__(backend_dict, account, account_backends)
                if backend_dict not in BackendDict._instances:
                    BackendDict._instances.append(backend_dict)
        moto_ecs.RUNTIME.load(snapshot.ecs_runtime)
        moto_strict.load_offered(snapshot.rds_offered)
        with self._lock:
            self.calls.clear()

    def stop(self) -> None:
        if self._hosts_file is not None:  # its names leave /etc/hosts,
            self._hosts_file.stop()
        ecs_services.stop_all()  # no more service scheduling,
        ecs_podman.stop_all()  # the ECS tasks it runs as containers stop with it,
        rds_postgres.stop_all()  # the PostgreSQL servers behind its DB instances,
        elasticache_redis.stop_all()  # the Redis servers behind its replication groups,
        elb_proxy.stop_all()  # its load balancers' proxies and health checks,
        twilio_stub.stop()  # and the Twilio API stub
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()


def serve(port: int, call_log: Path | None) -> None:
    if call_log:  # a log under a folder that does not exist yet (.run/ on a fresh clone)
        call_log.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(port, call_log).start()
    print(f"emulator listening on {emulator.url}", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    stopping.wait()
    emulator.stop()


def _strict_settings_of(port: int) -> dict[str, Any] | None:
    """The strict-mode settings the emulator on `port` runs with (None: strict mode off)."""
    try:
        with urllib.request.urlopen(f"{endpoint_url(port)}{moto_strict.SETTINGS_PATH}",
                                    timeout=5) as response:
            settings = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return settings if isinstance(settings, dict) and "seed" in settings else None


def up(port: int, pidfile: Path, logfile: Path, call_log: Path) -> int:
    pid = _read_pid(pidfile)
    if is_answering(port):
        # Asked for a strict mode (`off` included: make always asks), it must be the running one.
        asked = os.environ.get(moto_strict.STRICT_ENV)
        wanted = moto_strict.parse_spec(asked, os.environ.get(moto_strict.SEED_ENV))
        running = _strict_settings_of(port)
        if asked is not None and running != (wanted.as_dict() if wanted else None):
            print(f"error: the emulator on {endpoint_url(port)} does not run with "
                  f"{moto_strict.STRICT_ENV}={os.environ[moto_strict.STRICT_ENV]!r} "
                  f"(it runs with {running or 'strict mode off'}); `make emulator-down` first",
                  file=sys.stderr)
            return 1
        if pid:
            print(f"emulator already running (pid {pid}) on {endpoint_url(port)}")
        else:
            print(f"emulator already running on {endpoint_url(port)} (started elsewhere)")
        return 0
    if pid:
        print(f"error: emulator pid {pid} ({pidfile}) is alive but does not answer on "
              f"{endpoint_url(port)}; `make emulator-down` first", file=sys.stderr)
        return 1
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, __file__, "serve", "--port", str(port),
             "--call-log", str(call_log)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"error: emulator exited with {proc.returncode}; see {logfile}", file=sys.stderr)
            return 1
        if is_answering(port, timeout=1.0):
            pidfile.write_text(f"{proc.pid}\n")
            print(f"emulator started (pid {proc.pid}) on {endpoint_url(port)}")
            return 0
        time.sleep(0.1)
    proc.terminate()
    print(f"error: emulator did not answer within 30 s; see {logfile}", file=sys.stderr)
    return 1


DOWN_TIMEOUT_SECONDS = 180


def down(pidfile: Path) -> int:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        print("emulator not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    # On the real data plane the emulator stops its ECS tasks as ECS does (SIGTERM, SIGKILL after
    # each container's stopTimeout: 120 s at most for ours) and its servers: give it that long.
    deadline = time.monotonic() + DOWN_TIMEOUT_SECONDS
    while _read_pid(pidfile) is not None:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            ecs_podman.remove_containers_of(pid)  # what it could not stop itself
            break
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    print(f"emulator stopped (pid {pid})")
    return 0


def reset(port: int) -> int:
    request = urllib.request.Request(f"{endpoint_url(port)}/moto-api/reset", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"error: no emulator on {endpoint_url(port)} ({exc})", file=sys.stderr)
        return 1
    print(f"emulator on {endpoint_url(port)} reset: every emulated resource is gone")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve", "up", "down", "reset", "url"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5000")))
    parser.add_argument("--pidfile", type=Path, default=RUN_DIR / "emulator.pid")
    parser.add_argument("--logfile", type=Path, default=RUN_DIR / "emulator.log")
    parser.add_argument("--call-log", type=Path, default=RUN_DIR / "emulator-calls.jsonl",
                        help="JSON lines, one per AWS call answered (for counting and ordering)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.call_log)
        return 0
    if args.command == "up":
        return up(args.port, args.pidfile, args.logfile, args.call_log)
    if args.command == "down":
        return down(args.pidfile)
    if args.command == "reset":
        return reset(args.port)
    print(endpoint_url(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
