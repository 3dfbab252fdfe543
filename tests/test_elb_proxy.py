"""Application Load Balancers as real proxies (tools/elb_proxy.py, BOOKING_EMULATOR_ELB=proxy).

Against an emulator process of its own with the switch on, and tiny HTTP servers of the test's
own as targets (each on an endpoint address of its own, 198.18.x.y, all on port 8000, as ECS
tasks' private IPs are): target health follows real health checks (initial, healthy after one
passing check, unhealthy for a 500 or a stopped target, draining for the deregistration delay,
unused when no rule uses the group), and the load balancer's HTTP and HTTPS listeners redirect,
forward round-robin with the X-Forwarded headers, route by host header, answer fixed
responses, fail open, and answer 502, 503 and 504 as ALB does. The tests run in file order:
the health checks run in the background while the earlier tests wait. Cost: about 20 s of wall
time (one emulator process; the slowest wait is two failed checks, 5 s apart, of a stopped
target).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import ssl
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import boto3
import local_ca
import local_net
import pytest
from harness import emulator_process

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="endpoint addresses go on the loopback interface (root)")

DOMAIN, API_DOMAIN = "www.example.test", "api.example.test"
INTERVAL = 5  # HealthCheckIntervalSeconds (AWS's minimum)
DELAY = 2  # the draining group's deregistration delay


class _TargetServer:
    """One target: answers /health with `health` and anything else with who it is and what it
    got (JSON); `/slow` takes 8 s. `stop_after_check`: stops itself after its first health
    check (a task that dies once healthy)."""

    def __init__(self, name: str, health: int = 200, stop_after_check: bool = False) -> None:
        self.name, self.health, self.checks = name, health, []
        self.address = local_net.endpoint_address()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self) -> None:
                if self.path == "/health":
                    target.checks.append(dict(self.headers))
                    self._send(target.health, b"ok")
                    if stop_after_check:
                        threading.Thread(target=target.stop, daemon=True).start()
                    return
                if self.path.startswith("/slow"):
                    time.sleep(8)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self._send(200, json.dumps({
                    "server": target.name, "method": self.command, "path": self.path,
                    "headers": dict(self.headers), "body": body.decode()}).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _reply

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def server_bind(self) -> None:  # no DNS lookup of the address (HTTPServer's)
                socketserver.TCPServer.server_bind(self)

        self.server = Server((self.address, 8000), Handler)
        self.running = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()


def _client(url: str, service: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    calls = tmp_path_factory.mktemp("elb-proxy") / "calls.jsonl"
    servers: list[_TargetServer] = []
    spare: list[str] = []
    with emulator_process(calls, BOOKING_EMULATOR_ELB="proxy",
                          BOOKING_EMULATOR_STRICT="off") as url:
        try:
            yield _build(url, servers, spare)
        finally:
            for server in servers:
                server.stop()
            for address in [s.address for s in servers] + spare:
                local_net.release(address)


def _build(url: str, servers: list[_TargetServer], spare: list[str]) -> SimpleNamespace:
    ec2, elb = _client(url, "ec2"), _client(url, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    certificate = _client(url, "acm").request_certificate(
        DomainName=DOMAIN, SubjectAlternativeNames=[API_DOMAIN],
        ValidationMethod="DNS")["CertificateArn"]
    balancer = elb.create_load_balancer(Name="booking-proxy", Subnets=subnets,
                                        SecurityGroups=[group])["LoadBalancers"][0]

    def target_group(name: str, matcher: str = "200") -> str:
        return elb.create_target_group(
            Name=name, Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/health", HealthCheckIntervalSeconds=INTERVAL,
            HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
            Matcher={"HttpCode": matcher})["TargetGroups"][0]["TargetGroupArn"]

    groups = SimpleNamespace(**{name: target_group(name.replace("_", "-"), matcher) for name,
                                matcher in (("app", "200"), ("api", "200,302"),
                                            ("failing", "200-299"), ("stopped", "200"),
                                            ("draining", "200"), ("dead", "200"),
                                            ("empty", "200"), ("unused", "200"))})
    elb.modify_target_group_attributes(TargetGroupArn=groups.draining, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(DELAY)}])

    http_listener = elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
            "Query": "#{query}", "StatusCode": "HTTP_301"}}])["Listeners"][0]["ListenerArn"]
    https_listener = elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTPS", Port=443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups.app}],
    )["Listeners"][0]["ListenerArn"]

    def rule(priority: int, condition: dict, action: dict) -> None:
        elb.create_rule(ListenerArn=https_listener, Priority=priority, Conditions=[condition],
                        Actions=[action])

    def path(pattern: str) -> dict:
        return {"Field": "path-pattern", "PathPatternConfig": {"Values": [pattern]}}

    rule(10, {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.*.test"]}},
         {"Type": "forward", "TargetGroupArn": groups.api})
    rule(20, path("/fixed*"), {"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "short and stout"}})
    for priority, name in enumerate(("failing", "stopped", "draining", "dead", "empty"), 3):
        rule(priority * 10, path(f"/{name}/*"),
             {"Type": "forward", "TargetGroupArn": getattr(groups, name)})
    rule(80, path("/weighted/?"), {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": groups.app, "Weight": 0},
        {"TargetGroupArn": groups.api, "Weight": 5}]}})

    def serve(name: str, **kwargs) -> _TargetServer:
        servers.append(_TargetServer(name, **kwargs))
        return servers[-1]

    targets = SimpleNamespace(a1=serve("a1"), a2=serve("a2"), b1=serve("b1"),
                              c1=serve("c1", health=500), d1=serve("d1", stop_after_check=True),
                              e1=serve("e1"))
    dead = local_net.endpoint_address()  # nothing listens there
    spare.append(dead)
    with urllib.request.urlopen(f"{url}/_emulator/endpoints", timeout=10) as response:
        address = json.loads(response.read())[balancer["DNSName"]]

    for arn, members in ((groups.app, [targets.a1, targets.a2]), (groups.api, [targets.b1]),
                         (groups.failing, [targets.c1]), (groups.stopped, [targets.d1]),
                         (groups.draining, [targets.e1]), (groups.unused, [targets.a1])):
        elb.register_targets(TargetGroupArn=arn,
                             Targets=[{"Id": t.address, "Port": 8000} for t in members])
    elb.register_targets(TargetGroupArn=groups.dead, Targets=[{"Id": dead, "Port": 8000}])
    return SimpleNamespace(url=url, elb=elb, groups=groups, targets=targets, address=address,
                           balancer=balancer, http_listener=http_listener,
                           registered=time.monotonic())


def _health(world, group: str) -> dict[str, tuple]:
    described = world.elb.describe_target_health(TargetGroupArn=getattr(world.groups, group))
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"),
                                d["TargetHealth"].get("Description"))
            for d in described["TargetHealthDescriptions"]}


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def _https(world, path: str, host: str = DOMAIN, method: str = "GET", body: bytes | None = None,
           connection: http.client.HTTPConnection | None = None):
    """One request to the HTTPS listener, the server's certificate checked against the local CA
    for the ACM certificate's domain: (status, headers, body, the client's address)."""
    if connection is None:
        context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
        sock = socket.create_connection((world.address, 443), timeout=15)
        connection = http.client.HTTPConnection(world.address, 443, timeout=15)
        connection.sock = context.wrap_socket(sock, server_hostname=DOMAIN)
    connection.request(method, path, body=body, headers={"Host": host})
    response = connection.getresponse()
    return (response.status, dict(response.getheaders()), response.read(),
            connection.sock.getsockname()[0])


def _json(answer) -> dict:
    status, _, body, _ = answer
    assert status == 200, (status, body)
    return json.loads(body)


# --- Target health ------------------------------------------------------------------------------

def test_a_new_target_is_initial_then_healthy_after_one_check(world):
    a1, a2 = world.targets.a1.address, world.targets.a2.address
    first = _health(world, "app")
    assert first[a1] == ("initial", "Elb.RegistrationInProgress",
                         "Target registration is in progress"), first
    # AWS: a newly registered target is healthy once it passes ONE check (HealthyThresholdCount
    # is for an unhealthy target coming back), so well within one interval.
    _wait(lambda: {s[0] for s in _health(world, "app").values()} == {"healthy"}, INTERVAL,
          "both app targets healthy")
    assert time.monotonic() - world.registered < INTERVAL
    assert _health(world, "app")[a2] == ("healthy", None, None)
    check = world.targets.a1.checks[0]
    assert check["User-Agent"] == "ELB-HealthChecker/2.0"
    assert check["Host"] == f"{a1}:8000"
    # A group no listener rule uses is not checked: its targets are unused.
    assert _health(world, "unused")[a1] == (
        "unused", "Target.NotInUse",
        "Target group is not configured to receive traffic from the load balancer")


def test_a_target_answering_500_is_unhealthy(world):
    c1 = world.targets.c1.address
    seen = set()

    def unhealthy():
        state = _health(world, "failing")[c1]
        seen.add(state[:2])
        return state[0] == "unhealthy" and state

    state = _wait(unhealthy, 2 * INTERVAL + 3, "the 500 target unhealthy")
    assert state == ("unhealthy", "Target.ResponseCodeMismatch",
                     "Health checks failed with these codes: [500]")
    # One failed check is not enough (UnhealthyThresholdCount 2): initial in between.
    assert ("initial", "Elb.InitialHealthChecking") in seen, seen


def test_a_deregistered_target_drains_then_goes(world):
    e1 = world.targets.e1.address
    _wait(lambda: _health(world, "draining")[e1][0] == "healthy", INTERVAL, "e1 healthy")
    assert _json(_https(world, "/draining/x"))["server"] == "e1"
    world.elb.deregister_targets(TargetGroupArn=world.groups.draining,
                                 Targets=[{"Id": e1, "Port": 8000}])
    started = time.monotonic()
    assert _health(world, "draining") == {e1: (
        "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")}
    assert _https(world, "/draining/x")[0] == 503  # no new requests to a draining target
    _wait(lambda: _health(world, "draining") == {}, DELAY + 2, "e1 gone after draining")
    assert time.monotonic() - started >= DELAY - 0.3


def test_a_stopped_target_is_unhealthy(world):
    d1 = world.targets.d1
    assert len(d1.checks) == 1  # it passed its first check,
    assert not d1.running  # then stopped
    state = _wait(lambda: (s := _health(world, "stopped")[d1.address])[0] == "unhealthy" and s,
                  3 * INTERVAL, "the stopped target unhealthy")
    # Connection refused: AWS's reason for an error while connecting.
    assert state == ("unhealthy", "Target.FailedHealthChecks", "Health checks failed")


# --- The proxy ----------------------------------------------------------------------------------

def test_the_http_listener_redirects_to_https(world):
    connection = http.client.HTTPConnection(world.address, 80, timeout=10)
    connection.request("GET", "/bookings/7?from=mail&x=1", headers={"Host": DOMAIN})
    response = connection.getresponse()
    response.read()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{DOMAIN}:443/bookings/7?from=mail&x=1"
    assert response.getheader("Server") == "awselb/2.0"


def test_https_forwards_round_robin_with_the_forwarded_headers(world):
    context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
    connection = http.client.HTTPConnection(world.address, 443, timeout=15)
    connection.sock = context.wrap_socket(socket.create_connection((world.address, 443)),
                                          server_hostname=DOMAIN)
    answers = [_https(world, f"/page/{i}?q={i}", connection=connection) for i in range(4)]
    assert [_json(a)["server"] for a in answers] in (["a1", "a2"] * 2, ["a2", "a1"] * 2)
    got = _json(answers[0])
    assert got["path"] == "/page/0?q=0"
    headers = got["headers"]
    assert headers["Host"] == DOMAIN
    assert headers["X-Forwarded-For"] == answers[0][3]  # the client's address
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Forwarded-Port"] == "443"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    posted = _json(_https(world, "/form", method="POST", body=b"name=ada"))
    assert (posted["method"], posted["body"]) == ("POST", "name=ada")


def test_a_host_header_rule_and_a_weighted_forward_route_to_another_group(world):
    assert _json(_https(world, "/anything", host=API_DOMAIN))["server"] == "b1"
    assert _json(_https(world, "/anything", host=f"{API_DOMAIN}:443"))["server"] == "b1"
    # ForwardConfig: weight 0 for the app group, 5 for the api group.
    assert {_json(_https(world, "/weighted/1"))["server"] for _ in range(3)} == {"b1"}
    # `?` is one character: /weighted/12 is not the rule's, so the default action (app) answers.
    assert _json(_https(world, "/weighted/12"))["server"] in ("a1", "a2")


def test_a_fixed_response(world):
    status, headers, body, _ = _https(world, "/fixed/teapot")
    assert (status, body) == (418, b"short and stout")
    assert headers["Content-Type"] == "text/plain"


def test_no_healthy_target_fails_open(world):
    assert _health(world, "failing")[world.targets.c1.address][0] == "unhealthy"
    assert _json(_https(world, "/failing/page"))["server"] == "c1"


def test_no_target_is_a_503_and_a_dead_one_a_502(world):
    status, headers, body, _ = _https(world, "/empty/page")
    assert status == 503
    assert b"503 Service Temporarily Unavailable" in body
    assert headers["Server"] == "awselb/2.0"
    assert _https(world, "/dead/page")[0] == 502  # fail open to a target that refuses


def test_a_slow_target_is_a_504_after_the_idle_timeout(world):
    arn = world.balancer["LoadBalancerArn"]
    world.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    try:
        started = time.monotonic()
        assert _https(world, "/slow")[0] == 504
        # The target takes 8 s: an answer well before it is the timeout, however loaded the host.
        assert 0.9 < time.monotonic() - started < 7
    finally:
        world.elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "60"}])


def test_proxies_follow_the_listeners_and_the_load_balancer(world):
    def refused(port: int) -> bool:
        try:
            socket.create_connection((world.address, port), timeout=2).close()
        except OSError:
            return True
        return False

    world.elb.modify_listener(ListenerArn=world.http_listener, Port=8080)
    assert refused(80)
    connection = http.client.HTTPConnection(world.address, 8080, timeout=10)
    connection.request("GET", "/x", headers={"Host": DOMAIN})
    assert connection.getresponse().getheader("Location") == f"https://{DOMAIN}:443/x"

    world.elb.delete_load_balancer(LoadBalancerArn=world.balancer["LoadBalancerArn"])
    with urllib.request.urlopen(f"{world.url}/_emulator/endpoints", timeout=10) as response:
        assert world.balancer["DNSName"] not in json.loads(response.read())
    # Its endpoint address left the loopback interface: nothing listens there any more.
    assert world.address not in local_net._addresses_on_loopback()
    # Its groups are no longer used by any listener rule.
    assert _health(world, "app")[world.targets.a1.address][:2] == ("unused", "Target.NotInUse")
