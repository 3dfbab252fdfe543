"""Application Load Balancers as real HTTP(S) proxies with real target health (issue 17).

With ``BOOKING_EMULATOR_ELB=proxy`` in the emulator's environment, the emulator's ALBs carry
traffic, the last part of the real data plane:

* **Target health.** Each target group health-checks its registered IP targets itself: one HTTP
  (or HTTPS, unverified) ``GET HealthCheckPath`` every ``HealthCheckIntervalSeconds`` to the
  target's ``HealthCheckPort`` (``traffic-port``: the target's own port), ``Host: <ip>:<port>``,
  ``User-Agent: ELB-HealthChecker/2.0``, given ``HealthCheckTimeoutSeconds`` to answer, the
  status compared with ``Matcher.HttpCode`` ("200", "200-299", "200,302"). DescribeTargetHealth
  (and ``target_state()``, for the emulator's own ECS service controller) reports:

  - ``initial`` / ``Elb.RegistrationInProgress`` "Target registration is in progress" until the
    first check is sent (``REGISTRATION_SECONDS`` after RegisterTargets, or after the group is
    first used by a listener rule), then ``Elb.InitialHealthChecking`` "Initial health checks in
    progress" while it has failed fewer than ``UnhealthyThresholdCount`` checks;
  - ``healthy`` after ONE passing check for a newly registered target ("After your target is
    registered, it must pass one health check to be considered healthy"), and after
    ``HealthyThresholdCount`` consecutive passes for an unhealthy one;
  - ``unhealthy`` after ``UnhealthyThresholdCount`` consecutive failures, with the last failure's
    reason: ``Target.ResponseCodeMismatch`` "Health checks failed with these codes: [500]",
    ``Target.Timeout`` "Request timed out" (no answer within the timeout), or
    ``Target.FailedHealthChecks`` "Health checks failed" (connection refused or reset, a
    malformed answer);
  - ``draining`` / ``Target.DeregistrationInProgress`` "Target deregistration is in progress" for
    the group's ``deregistration_delay.timeout_seconds`` after DeregisterTargets (listed by
    DescribeTargetHealth like a registered target, as AWS does), then the target is gone;
  - ``unused`` / ``Target.NotInUse`` "Target group is not configured to receive traffic from the
    load balancer" while no listener rule forwards to the group (no checks are sent then);
  - ``unavailable`` / ``Target.HealthCheckDisabled`` "Health checks are disabled" when the group's
    health checks are off.

  The checker is one scheduler thread (started with the first registered target) plus a short
  thread per check; its state lives here, under this module's lock: the threads never write
  moto's records, and the patched DescribeTargetHealth reads this state.

* **A proxy per load balancer.** An ALB with listeners gets an endpoint address of its own
  (tools/local_net.py, 198.18.x.y on the loopback interface, reachable from the task containers)
  and one listening socket per listener on the listener's port; its DNS name maps to that address
  in ``local_net.HOSTS`` (task containers get it as a host entry; GET /_emulator/endpoints).
  HTTPS listeners serve a certificate of the local CA (tools/local_ca.py) for the domain names of
  the listener's ACM certificates (DomainName and SubjectAlternativeNames) and the LB's DNS
  name. Each request is matched against the listener's rules as moto holds them at that moment
  (priority order, then the default action): conditions host-header (case-insensitive), path-
  pattern (case-sensitive), http-header (name and values case-insensitive), http-request-method
  (exact), query-string (case-insensitive) - with AWS's wildcards ``*`` and ``?`` - and
  source-ip (CIDRs, against the client's address). Actions: forward (one target group, or a
  ForwardConfig's weighted groups: one picked by weight), redirect (Protocol, Port, Host, Path,
  Query with the ``#{protocol}``, ``#{host}``, ``#{port}``, ``#{path}`` and ``#{query}``
  placeholders; HTTP_301 / HTTP_302; the Location carries the port, as ALB's does) and
  fixed-response. A forwarded request goes round-robin to the group's healthy targets; with
  none healthy the load balancer fails open and uses every registered target that is not
  draining; draining targets get no new requests. No target at all: 503. Connection refused,
  reset or a malformed answer: 502. No connection within 10 s, or no answer within the LB's
  ``idle_timeout.timeout_seconds``: 504 (the error pages are awselb/2.0's). The target gets the
  client's Host header unchanged, ``X-Forwarded-For`` (the client's address appended),
  ``X-Forwarded-Proto``, ``X-Forwarded-Port`` and an ``X-Amzn-Trace-Id``. Clients get HTTP/1.1
  with keep-alive (idle connections close after the idle timeout).

  Proxies start with CreateListener, follow ModifyListener and listener certificate changes
  (a listener whose port, protocol or certificates change is restarted), stop with
  DeleteListener / DeleteLoadBalancer, a reset (/moto-api/reset) and ``stop_all()`` (the
  emulator's end). Rules are read per request, so CreateRule / ModifyRule / DeleteRule /
  SetRulePriorities apply at once.

Sources (AWS documentation): "Health checks for Application Load Balancer target groups"
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
(settings, target health states, reason codes, one check for a new target, fail-open);
TargetHealth https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html;
"Troubleshoot your Application Load Balancers"
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
(HTTP 502 / 503 / 504 from the load balancer); "Deregistration delay"
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay;
"Condition types for listener rules"
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html;
RedirectActionConfig https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html;
"HTTP headers and Application Load Balancers"
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html.

Not modelled: HTTP/2 and gRPC, WebSockets, chunked streaming (request bodies are read whole,
chunked ones de-chunked; responses are sent whole with a Content-Length), stickiness, slow start,
the least-outstanding-requests algorithm, authenticate-* actions (skipped), regex conditions,
SNI certificate selection (one certificate carries every name), the listener's SSL policy,
security groups and network ACLs, access logs, instance (``i-...``) and Lambda targets (their
health stays moto's answer, and traffic for them gets 503), targets registered twice on
different ports of one IP (moto keys targets by ID), and NLBs.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import ipaddress
import os
import random
import re
import secrets
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import local_net  # beside this file (tools/ is on the emulator's path)

ELB_ENV = "BOOKING_EMULATOR_ELB"
REGISTRATION_SECONDS = 1.0  # RegisterTargets (or the group's first use) to the first check
CONNECT_TIMEOUT = 10.0  # AWS: no connection to the target within 10 s is a 504
HEALTH_CHECKER_AGENT = "ELB-HealthChecker/2.0"
_TICK = 0.2  # the scheduler's resolution, seconds

_LOCK = threading.RLock()
_PROXIES: dict[str, _Proxy] = {}  # load balancer ARN -> its proxy
_GROUPS: dict[str, _Group] = {}  # target group ARN -> its targets' health
_SCHEDULER: dict[str, Any] = {}  # "thread", "stop": the health check scheduler while it runs

_REASONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.HealthCheckDisabled": "Health checks are disabled",
}


def enabled() -> bool:
    return os.environ.get(ELB_ENV, "") == "proxy"


# --- Target health ------------------------------------------------------------------------------


@dataclass(eq=False)
class _Target:
    ip: str
    port: int
    registered: float  # monotonic time of registration (or of the group's first use)
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = _REASONS["Elb.RegistrationInProgress"]
    checks: int = 0  # checks completed since registration
    passes: int = 0  # consecutive
    failures: int = 0  # consecutive
    next_check: float = 0.0
    checking: bool = False
    drain_until: float = 0.0

    def __post_init__(self) -> None:
        self.next_check = self.registered + REGISTRATION_SECONDS

    def set(self, state: str, reason: str | None, description: str | None = None) -> None:
        self.state, self.reason = state, reason
        self.description = description if description or reason is None else _REASONS[reason]


@dataclass(eq=False)
class _Group:
    backend: Any  # moto's ELBv2Backend holding the group
    arn: str
    targets: dict[tuple[str, int], _Target] = field(default_factory=dict)
    in_use: bool = False
    turn: int = 0  # round-robin position


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _in_use(group: _Group) -> bool:
    """Whether a listener rule (a default action included) forwards to the group."""
    for _ in range(5):  # moto's dicts may change under us: read again
        try:
            return bool(group.backend._any_listener_using(group.arn))
        except RuntimeError:
            continue
    return group.in_use


def _codes_match(code: int, spec: str) -> bool:
    for part in (p.strip() for p in str(spec or "200").split(",")):
        low, _, high = part.partition("-")
        with contextlib.suppress(ValueError):
            if int(low) <= code <= int(high or low):
                return True
    return False


def _probe(ip: str, port: int, protocol: str, path: str, timeout: float,
           matcher: str) -> tuple[bool, str | None, str | None]:
    """One health check: (passed, reason, description)."""
    deadline = time.monotonic() + timeout
    sock: socket.socket | None = None
    try:
        sock = socket.create_connection((ip, port), timeout=timeout)
        if protocol == "HTTPS":
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            sock = context.wrap_socket(sock)
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        connection = http.client.HTTPConnection(ip, port, timeout=timeout)
        connection.sock = sock
        connection.putrequest("GET", path or "/", skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", f"{ip}:{port}")
        connection.putheader("User-Agent", HEALTH_CHECKER_AGENT)
        connection.putheader("Connection", "close")
        connection.endheaders()
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        response = connection.getresponse()
        status = response.status
    except TimeoutError:
        return False, "Target.Timeout", None
    except (OSError, http.client.HTTPException):
        return False, "Target.FailedHealthChecks", None
    finally:
        if sock is not None:
            sock.close()
    if _codes_match(status, matcher):
        return True, None, None
    return (False, "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{status}]")


def _record(target: _Target, passed: bool, reason: str | None, description: str | None,
            healthy_threshold: int, unhealthy_threshold: int) -> None:
    """Apply one check's outcome to the target (under _LOCK)."""
    target.checks += 1
    if passed:
        target.passes, target.failures = target.passes + 1, 0
        # A new target needs one pass; an unhealthy one HealthyThresholdCount in a row.
        if target.state == "initial" or (target.state == "unhealthy"
                                         and target.passes >= healthy_threshold):
            target.set("healthy", None)
        return
    target.passes, target.failures = 0, target.failures + 1
    if target.state == "unhealthy" or target.failures >= unhealthy_threshold:
        target.set("unhealthy", reason, description)
    elif target.state == "initial":
        target.set("initial", "Elb.InitialHealthChecking")


def _check(group: _Group, target: _Target, settings: dict[str, Any]) -> None:
    passed, reason, description = _probe(
        target.ip, settings["port"] or target.port, settings["protocol"], settings["path"],
        settings["timeout"], settings["matcher"])
    with _LOCK:
        target.checking = False
        if group.targets.get((target.ip, target.port)) is target and target.state != "draining":
            _record(target, passed, reason, description, settings["healthy"],
                    settings["unhealthy"])


def _settings(target_group: Any) -> dict[str, Any]:
    port = str(target_group.health_check_port or "traffic-port")
    return {
        "port": None if port == "traffic-port" else int(port),
        "protocol": str(target_group.health_check_protocol or "HTTP").upper(),
        "path": target_group.health_check_path or "/",
        "timeout": float(target_group.health_check_timeout_seconds or 5),
        "interval": float(target_group.health_check_interval_seconds or 30),
        "matcher": (getattr(target_group, "matcher", None) or {}).get("HttpCode", "200"),
        "healthy": int(target_group.healthy_threshold_count or 5),
        "unhealthy": int(target_group.unhealthy_threshold_count or 2),
        "enabled": bool(target_group.health_check_enabled),
    }


def _tick() -> None:
    now = time.monotonic()
    with _LOCK:
        groups = list(_GROUPS.values())
    for group in groups:
        with contextlib.suppress(Exception):  # one odd group must not stop the others' checks
            _tick_group(group, now)


def _tick_group(group: _Group, now: float) -> None:
    target_group = group.backend.target_groups.get(group.arn)
    if target_group is None:  # deleted (or its backend reset)
        with _LOCK:
            if _GROUPS.get(group.arn) is group:
                del _GROUPS[group.arn]
        return
    in_use, settings = _in_use(group), _settings(target_group)
    with _LOCK:
        if in_use and not group.in_use:  # newly used by a rule: checks start from scratch
            for key, target in list(group.targets.items()):
                if target.state != "draining":
                    group.targets[key] = _Target(target.ip, target.port, now)
        group.in_use = in_use
        for key, target in list(group.targets.items()):
            if target.state == "draining":
                if now >= target.drain_until:
                    del group.targets[key]
                continue
            if not in_use or not settings["enabled"] or target.checking:
                continue
            if now >= target.next_check:
                target.checking = True
                target.next_check = now + settings["interval"]
                threading.Thread(target=_check, args=(group, target, settings),
                                 name="elb-health-check", daemon=True).start()


def _schedule(stop: threading.Event) -> None:
    while not stop.wait(_TICK):
        with contextlib.suppress(Exception):  # one bad tick must not end the checks
            _tick()


def _ensure_scheduler() -> None:
    with _LOCK:
        thread = _SCHEDULER.get("thread")
        if thread is not None and thread.is_alive():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_schedule, args=(stop,), name="elb-health-checks",
                                  daemon=True)
        _SCHEDULER.update(thread=thread, stop=stop)
        thread.start()


def _stop_scheduler() -> None:
    with _LOCK:
        thread, stop = _SCHEDULER.pop("thread", None), _SCHEDULER.pop("stop", None)
    if stop is not None:
        stop.set()
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout=5)


def registered(backend: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> None:
    """RegisterTargets: IP targets start `initial` (a draining one is registered anew)."""
    target_group = backend.target_groups.get(target_group_arn)
    if target_group is None:
        return
    now = time.monotonic()
    with _LOCK:
        group = _GROUPS.get(target_group_arn)
        if group is None or group.backend is not backend:
            group = _GROUPS[target_group_arn] = _Group(backend, target_group_arn)
        for target in targets:
            ip = str(target["Id"])
            if not _is_ip(ip) or not (target.get("Port") or target_group.port):
                continue
            port = int(target.get("Port") or target_group.port)
            known = group.targets.get((ip, port))
            if known is None or known.state == "draining":
                group.targets[(ip, port)] = _Target(ip, port, now)
    _ensure_scheduler()


def deregistered(backend: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> None:
    """DeregisterTargets: `draining` for the group's deregistration delay, then gone."""
    target_group = backend.target_groups.get(target_group_arn)
    delay = float((target_group.attributes if target_group is not None else {}).get(
        "deregistration_delay.timeout_seconds", 300))
    now = time.monotonic()
    with _LOCK:
        group = _GROUPS.get(target_group_arn)
        if group is None:
            return
        for target in targets:
            ip = str(target["Id"])
            ports = ([int(target["Port"])] if target.get("Port") else
                     [p for (i, p) in group.targets if i == ip])
            for port in ports:
                known = group.targets.get((ip, port))
                if known is None:
                    continue
                if delay <= 0:
                    del group.targets[(ip, port)]
                    continue
                known.set("draining", "Target.DeregistrationInProgress")
                known.drain_until = now + delay


def _health(group: _Group, target: _Target, in_use: bool,
            checks_on: bool) -> tuple[str, str | None, str | None]:
    if target.state == "draining":
        return target.state, target.reason, target.description
    if not in_use:
        return "unused", "Target.NotInUse", _REASONS["Target.NotInUse"]
    if not checks_on:
        return "unavailable", "Target.HealthCheckDisabled", _REASONS["Target.HealthCheckDisabled"]
    if not group.in_use:  # just put in use: the scheduler restarts its checks within a tick
        return "initial", "Elb.RegistrationInProgress", _REASONS["Elb.RegistrationInProgress"]
    return target.state, target.reason, target.description


def target_health(target_group_arn: str, ip: str,
                  port: int) -> tuple[str, str | None, str | None]:
    """(State, Reason, Description) of a target, as DescribeTargetHealth reports them."""
    with _LOCK:
        group = _GROUPS.get(target_group_arn)
        target = group.targets.get((ip, int(port))) if group is not None else None
    if group is None or target is None:
        return "unused", "Target.NotRegistered", _REASONS["Target.NotRegistered"]
    target_group = group.backend.target_groups.get(target_group_arn)
    checks_on = bool(target_group is None or target_group.health_check_enabled)
    in_use = _in_use(group)
    with _LOCK:
        return _health(group, target, in_use, checks_on)


def target_state(target_group_arn: str, ip: str, port: int) -> tuple[str, str | None]:
    """(State, Reason) of a target: ("healthy", None), ("initial", "Elb.InitialHealthChecking"),
    ("draining", "Target.DeregistrationInProgress"), ("unused", "Target.NotRegistered"), ..."""
    state, reason, _ = target_health(target_group_arn, ip, port)
    return state, reason


def _describe(backend: Any, target_group_arn: str, asked: list[dict[str, Any]],
              answer: list[Any]) -> list[Any]:
    """DescribeTargetHealth's answer with the checked states (and the draining targets)."""
    from moto.elbv2.models import FakeHealthStatus

    with _LOCK:
        group = _GROUPS.get(target_group_arn)
    if group is None or group.backend is not backend:
        return answer
    target_group = backend.target_groups.get(target_group_arn)
    checks_on = bool(target_group is None or target_group.health_check_enabled)
    in_use = _in_use(group)
    with _LOCK:
        seen = set()
        for status in answer:
            with contextlib.suppress(TypeError, ValueError):
                key = (str(status.instance_id), int(status.port))
                target = group.targets.get(key)
                if target is not None:
                    seen.add(key)
                    status.status, status.reason, status.description = _health(
                        group, target, in_use, checks_on)
        if not asked:  # AWS lists the draining targets with the registered ones
            for key, target in group.targets.items():
                if key not in seen and target.state == "draining":
                    answer.append(FakeHealthStatus(
                        target.ip, target.port, getattr(target_group, "health_check_port", None),
                        target.state, target.reason, target.description))
    return answer


def _pick_target(target_group_arn: str) -> tuple[str, int, str] | None:
    """Round robin over the healthy targets, or over every registered one (fail open)."""
    with _LOCK:
        group = _GROUPS.get(target_group_arn)
        if group is None:
            return None
        serving = [t for t in group.targets.values() if t.state != "draining"]
        healthy = [t for t in serving if t.state == "healthy"]
        pool = healthy or serving
        if not pool:
            return None
        target = pool[group.turn % len(pool)]
        group.turn += 1
    target_group = group.backend.target_groups.get(target_group_arn)
    protocol = str(getattr(target_group, "protocol", None) or "HTTP").upper()
    return target.ip, target.port, protocol


# --- The proxies ------------------------------------------------------------------------------


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
               "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization"}
_ERROR_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
                 504: "504 Gateway Time-out"}


def _wildcard(pattern: str, value: str, *, case: bool) -> bool:
    """AWS's rule wildcards: * any run of characters, ? exactly one; nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE | re.DOTALL) is not None


@dataclass
class _Request:
    method: str
    path: str  # without the query
    query: str
    host: str  # the Host header's name, without its port
    headers: list[tuple[str, str]]
    client_ip: str


def _values(condition: dict[str, Any], config: str) -> list[Any]:
    return list((condition.get(config) or {}).get("Values") or condition.get("Values") or [])


def _condition_holds(condition: dict[str, Any], request: _Request) -> bool:
    kind = condition.get("Field")
    if kind == "host-header":
        return any(_wildcard(v, request.host, case=False)
                   for v in _values(condition, "HostHeaderConfig"))
    if kind == "path-pattern":
        return any(_wildcard(v, request.path, case=True)
                   for v in _values(condition, "PathPatternConfig"))
    if kind == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if kind == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName", "")).lower()
        sent = [value for key, value in request.headers if key.lower() == name]
        return any(_wildcard(v, s, case=False) for v in config.get("Values") or [] for s in sent)
    if kind == "query-string":
        pairs = parse_qsl(request.query, keep_blank_values=True)
        return any(
            any((pair.get("Key") is None or _wildcard(pair["Key"], key, case=False))
                and _wildcard(pair.get("Value", ""), value, case=False) for key, value in pairs)
            for pair in _values(condition, "QueryStringConfig"))
    if kind == "source-ip":
        with contextlib.suppress(ValueError):
            client = ipaddress.ip_address(request.client_ip)
            return any(client in ipaddress.ip_network(v, strict=False)
                       for v in _values(condition, "SourceIpConfig"))
        return False
    return False  # a condition we cannot evaluate never matches


def _rules(listener: Any) -> list[Any]:
    for _ in range(5):
        try:
            others = list(listener._non_default_rules.values())
            default = list(listener._default_rule.values())
            break
        except RuntimeError:  # changed while read
            continue
    else:
        others, default = [], list(listener._default_rule.values())

    def priority(rule: Any) -> int:
        with contextlib.suppress(TypeError, ValueError):
            return int(rule.priority)
        return 50001

    return sorted(others, key=priority) + default


def _action(listener: Any, request: _Request) -> dict[str, Any] | None:
    """The terminal action (forward, redirect or fixed-response) of the first matching rule."""
    for rule in _rules(listener):
        if all(_condition_holds(c, request) for c in rule.conditions or []):
            actions = sorted((a.data for a in rule.actions),
                             key=lambda data: int(data.get("Order") or 0))
            for data in actions:
                if data.get("Type") in ("forward", "redirect", "fixed-response"):
                    return data
            return None
    return None


def _forward_group(action: dict[str, Any]) -> str | None:
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if groups:
        weights = [max(0, int(g.get("Weight", 1) or 0)) for g in groups]
        if not any(weights):
            return None
        return random.choices(groups, weights=weights)[0]["TargetGroupArn"]
    return action.get("TargetGroupArn")


def _redirect_location(action: dict[str, Any], request: _Request, protocol: str,
                       port: int) -> str:
    config = action.get("RedirectConfig") or {}
    values = {"#{protocol}": protocol.upper(), "#{host}": request.host, "#{port}": str(port),
              "#{path}": request.path.lstrip("/"), "#{query}": request.query}

    def fill(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    scheme = fill(str(config.get("Protocol") or "#{protocol}")).lower()
    host = fill(str(config.get("Host") or "#{host}"))
    to_port = fill(str(config.get("Port") or "#{port}"))
    path = fill(str(config.get("Path") or "/#{path}"))
    query = fill(str(config.get("Query") if config.get("Query") is not None else "#{query}"))
    return f"{scheme}://{host}:{to_port}{path}" + (f"?{query}" if query else "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ListenerServer

    def setup(self) -> None:
        self.timeout = self.server.proxy.idle_timeout()
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # every method: GET, POST, PATCH, PROPFIND...
            return self._serve
        raise AttributeError(name)

    # - what the load balancer answers itself

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response_only(status)
        self.send_header("Server", "awselb/2.0")
        self.send_header("Date", self.date_time_string())
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int) -> None:
        title = _ERROR_TITLES[status]
        page = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n")
        self._answer(status, page.encode(), [("Content-Type", "text/html")])

    # - a request

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        server = self.server
        body = self._body()
        listener = server.proxy.listener(server.listener_arn)
        url = urlsplit(self.path)
        host_header = self.headers.get("Host") or server.proxy.dns_name
        request = _Request(self.command, url.path or "/", url.query,
                           host_header.rsplit(":", 1)[0] if not host_header.endswith("]")
                           else host_header, list(self.headers.items()), self.client_address[0])
        action = _action(listener, request) if listener is not None else None
        if action is None:
            self._error(503)
            return
        kind = action.get("Type")
        if kind == "fixed-response":
            config = action.get("FixedResponseConfig") or {}
            self._answer(int(config.get("StatusCode", 200)),
                         str(config.get("MessageBody") or "").encode(),
                         [("Content-Type", config.get("ContentType") or "text/plain")])
            return
        if kind == "redirect":
            code = 302 if (action.get("RedirectConfig") or {}).get("StatusCode") == "HTTP_302" \
                else 301
            location = _redirect_location(action, request, server.protocol, server.port)
            self._answer(code, b"", [("Location", location)])
            return
        group = _forward_group(action)
        chosen = _pick_target(group) if group else None
        if chosen is None:
            self._error(503)
            return
        self._forward(*chosen, body)

    def _forward(self, ip: str, port: int, protocol: str, body: bytes) -> None:
        server = self.server
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in _HOP_BY_HOP
                   and k.lower() not in ("content-length", "x-forwarded-for",
                                         "x-forwarded-proto", "x-forwarded-port")]
        forwarded_for = self.headers.get("X-Forwarded-For")
        client = self.client_address[0]
        headers += [
            ("X-Forwarded-For", f"{forwarded_for}, {client}" if forwarded_for else client),
            ("X-Forwarded-Proto", server.protocol.lower()),
            ("X-Forwarded-Port", str(server.port)),
        ]
        if not self.headers.get("X-Amzn-Trace-Id"):
            headers.append(("X-Amzn-Trace-Id",
                            f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"))
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        idle = server.proxy.idle_timeout()
        try:
            sock = socket.create_connection((ip, port), timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            self._error(504)
            return
        except OSError:
            self._error(502)
            return
        try:
            if protocol == "HTTPS":  # ALB does not verify its targets' certificates
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                sock = context.wrap_socket(sock)
            sock.settimeout(idle)
            upstream = http.client.HTTPConnection(ip, port, timeout=idle)
            upstream.sock = sock
            upstream.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
            for key, value in headers:
                upstream.putheader(key, value)
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            data = response.read()
        except TimeoutError:
            self._error(504)
            return
        except (OSError, http.client.HTTPException):
            self._error(502)
            return
        finally:
            sock.close()
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length") or "0")
        elif response.status >= 200 and response.status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)


class _ListenerServer(ThreadingHTTPServer):
    """One listener's socket: plain HTTP, or TLS with the handshake in the connection's thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: _Proxy, listener_arn: str, port: int, protocol: str,
                 context: ssl.SSLContext | None) -> None:
        self.proxy, self.listener_arn, self.port, self.protocol = (proxy, listener_arn, port,
                                                                   protocol)
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((proxy.address, port), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"elb-proxy-{proxy.address}:{port}", daemon=True)
        self.thread.start()

    def server_bind(self) -> None:
        # HTTPServer's own looks the address up in DNS (getfqdn): slow, and not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.port

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, address

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._open_lock:
            if open_:
                self._open.add(sock)
            else:
                self._open.discard(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away, a failed TLS handshake: nothing to report

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        with self._open_lock:
            held = list(self._open)
        for sock in held:  # keep-alive connections end with the listener
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@dataclass(eq=False)
class _Proxy:
    """One load balancer's address and its listeners' servers."""

    backend: Any
    arn: str
    dns_name: str
    address: str
    servers: dict[str, tuple[tuple[Any, ...], _ListenerServer]] = field(default_factory=dict)

    def balancer(self) -> Any:
        return self.backend.load_balancers.get(self.arn)

    def listener(self, listener_arn: str) -> Any:
        balancer = self.balancer()
        return balancer.listeners.get(listener_arn) if balancer is not None else None

    def idle_timeout(self) -> float:
        balancer = self.balancer()
        attrs = getattr(balancer, "attrs", None) or {}
        with contextlib.suppress(TypeError, ValueError):
            return float(attrs.get("idle_timeout.timeout_seconds", 60))
        return 60.0

    def stop(self) -> None:
        for _, server in self.servers.values():
            with contextlib.suppress(OSError):
                server.stop()
        self.servers.clear()


def _certificate_names(backend: Any, balancer: Any, listener: Any) -> list[str]:
    from moto.acm.models import acm_backends

    names: list[str] = []
    for arn in list(listener.certificates or []):
        parts = str(arn).split(":")
        with contextlib.suppress(Exception):  # an IAM certificate, or one deleted since
            bundle = acm_backends[parts[4]][parts[3]]._certificates.get(arn)
            if bundle is not None:
                names += [bundle.common_name, *bundle.sans]
    names.append(balancer.dns_name)
    return list(dict.fromkeys(n for n in names if n))


def _tls_context(names: list[str]) -> ssl.SSLContext:
    import local_ca

    cert, key = local_ca.issue(names)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def _release(proxy: _Proxy) -> None:
    proxy.stop()
    if local_net.HOSTS.get(proxy.dns_name) == proxy.address:
        del local_net.HOSTS[proxy.dns_name]
    local_net.release(proxy.address)


def sync(backend: Any, balancer_arn: str) -> None:
    """Make the balancer's proxy match its listeners as moto holds them now."""
    balancer = backend.load_balancers.get(balancer_arn)
    listeners = (list(balancer.listeners.values())
                 if balancer is not None and balancer.type == "application" else [])
    with _LOCK:
        proxy = _PROXIES.get(balancer_arn)
        if not listeners:
            if proxy is not None:
                del _PROXIES[balancer_arn]
                _release(proxy)
            return
        if proxy is None:
            proxy = _Proxy(backend, balancer_arn, balancer.dns_name, local_net.endpoint_address())
            _PROXIES[balancer_arn] = proxy
            local_net.HOSTS[balancer.dns_name] = proxy.address
        wanted = {}
        for listener in listeners:
            names = (_certificate_names(backend, balancer, listener)
                     if listener.protocol == "HTTPS" else [])
            wanted[listener.arn] = (int(listener.port), listener.protocol, tuple(names))
        for arn, (key, server) in list(proxy.servers.items()):
            if wanted.get(arn) != key:
                del proxy.servers[arn]
                server.stop()
        for arn, key in wanted.items():
            if arn in proxy.servers:
                continue
            port, protocol, names = key
            context = _tls_context(list(names)) if protocol == "HTTPS" else None
            try:
                server = _ListenerServer(proxy, arn, port, protocol, context)
            except OSError as error:
                raise RuntimeError(f"{ELB_ENV}=proxy: cannot listen on {proxy.address}:{port} "
                                   f"for {balancer.name}: {error}") from error
            proxy.servers[arn] = (key, server)


def address_of(balancer_arn: str) -> str | None:
    """The endpoint address of a load balancer's proxy (None: it has no listeners)."""
    with _LOCK:
        proxy = _PROXIES.get(balancer_arn)
        return proxy.address if proxy is not None else None


def _forget(backend: Any) -> None:
    with _LOCK:
        proxies = [arn for arn, p in _PROXIES.items() if p.backend is backend]
        for arn in proxies:
            _release(_PROXIES.pop(arn))
        for arn in [arn for arn, g in _GROUPS.items() if g.backend is backend]:
            del _GROUPS[arn]
        idle = not _GROUPS
    if idle:
        _stop_scheduler()


def stop_all() -> None:
    """The emulator stops: every proxy and health checker with it (idempotent)."""
    _stop_scheduler()
    with _LOCK:
        proxies = list(_PROXIES.values())
        _PROXIES.clear()
        _GROUPS.clear()
    for proxy in proxies:
        with contextlib.suppress(Exception):
            _release(proxy)


def apply() -> None:
    """Patch moto's ELBv2 backend (once per process); each call checks enabled()."""
    from moto.elbv2.models import ELBv2Backend

    original = {name: getattr(ELBv2Backend, name) for name in (
        "create_listener", "modify_listener", "delete_listener", "delete_load_balancer",
        "add_listener_certificates", "remove_listener_certificates", "register_targets",
        "deregister_targets", "describe_target_health", "delete_target_group", "reset")}

    def create_listener(self: Any, load_balancer_arn: str, *args: Any, **kwargs: Any) -> Any:
        listener = original["create_listener"](self, load_balancer_arn, *args, **kwargs)
        if enabled():
            sync(self, listener.load_balancer_arn)
        return listener

    def modify_listener(self: Any, arn: str, *args: Any, **kwargs: Any) -> Any:
        listener = original["modify_listener"](self, arn, *args, **kwargs)
        if enabled():
            sync(self, listener.load_balancer_arn)
        return listener

    def delete_listener(self: Any, listener_arn: str) -> Any:
        listener = original["delete_listener"](self, listener_arn)
        if enabled():
            sync(self, listener.load_balancer_arn)
        return listener

    def delete_load_balancer(self: Any, arn: str) -> None:
        original["delete_load_balancer"](self, arn)
        if enabled():
            sync(self, arn)

    def add_listener_certificates(self: Any, arn: str, certificates: Any) -> Any:
        result = original["add_listener_certificates"](self, arn, certificates)
        if enabled():
            sync(self, self.describe_listeners(None, [arn])[0].load_balancer_arn)
        return result

    def remove_listener_certificates(self: Any, arn: str, certificates: Any) -> None:
        original["remove_listener_certificates"](self, arn, certificates)
        if enabled():
            sync(self, self.describe_listeners(None, [arn])[0].load_balancer_arn)

    def register_targets(self: Any, target_group_arn: str, instances: list[Any]) -> None:
        original["register_targets"](self, target_group_arn, instances)
        if enabled():
            registered(self, target_group_arn, instances)

    def deregister_targets(self: Any, target_group_arn: str,
                           instances: list[dict[str, Any]]) -> None:
        original["deregister_targets"](self, target_group_arn, instances)
        if enabled():
            deregistered(self, target_group_arn, instances)

    def describe_target_health(self: Any, target_group_arn: str,
                               targets: list[dict[str, Any]]) -> list[Any]:
        answer = original["describe_target_health"](self, target_group_arn, targets)
        if enabled():
            answer = _describe(self, target_group_arn, targets, answer)
        return answer

    def delete_target_group(self: Any, target_group_arn: str) -> Any:
        group = original["delete_target_group"](self, target_group_arn)
        with _LOCK:
            if _GROUPS.get(target_group_arn) is not None \
                    and _GROUPS[target_group_arn].backend is self:
                del _GROUPS[target_group_arn]
        return group

    def reset(self: Any) -> None:
        """/moto-api/reset forgets the load balancers: their proxies and checks go too."""
        _forget(self)
        original["reset"](self)

    ELBv2Backend.create_listener = create_listener
    ELBv2Backend.modify_listener = modify_listener
    ELBv2Backend.delete_listener = delete_listener
    ELBv2Backend.delete_load_balancer = delete_load_balancer
    ELBv2Backend.add_listener_certificates = add_listener_certificates
    ELBv2Backend.remove_listener_certificates = remove_listener_certificates
    ELBv2Backend.register_targets = register_targets
    ELBv2Backend.deregister_targets = deregister_targets
    ELBv2Backend.describe_target_health = describe_target_health
    ELBv2Backend.delete_target_group = delete_target_group
    ELBv2Backend.reset = reset
    if enabled():  # the emulator's end releases the addresses even where stop_all() is not wired
        atexit.register(stop_all)
