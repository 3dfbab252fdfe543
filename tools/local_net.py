"""Addresses and networks of the emulator's real data plane (issue 17).

On AWS every task has its own elastic network interface in a VPC subnet (awsvpc), and every
RDS instance, ElastiCache group and load balancer its own address behind its DNS name. Locally:

* **Endpoint addresses** (``endpoint_address``): each real server behind an emulated endpoint
  (a DB instance's PostgreSQL, a replication group's Redis, a load balancer's proxy) listens on
  an address of its own in 198.18.0.0/16 (RFC 2544's range for test networks: nothing on a
  machine uses it), added to the loopback interface. An address on ``lo`` is local to the host
  (the playbooks and tests reach it) and, unlike 127.0.0.0/8, reachable from the containers'
  bridges too. Each server keeps the endpoint's own port (5432, 6379, 443): no clash with the
  machine's own PostgreSQL or Redis on 127.0.0.1. An address in use is one on ``lo``; a file
  lock makes the choice safe between emulators running side by side (the test suite's).
* **Task networks** (``subnet_network``): one podman bridge network per VPC subnet CIDR, its
  gateway the subnet's first address (the VPC router's, as AWS reserves it), so a task's
  container gets the very private IP that DescribeTasks reports for its ENI.

* **Names on the machine** (``HostsFile``): while an emulator runs real servers, a block of
  ``/etc/hosts`` it owns (marked with its PID) maps every endpoint name, and every Route 53 record
  that aliases one (the API's served name, an alias A record to the load balancer), to its
  address: ``curl https://<served name>/`` and the release's smoke test reach the local load
  balancer by the name they would use on AWS. The block goes when the emulator stops.

Both need root (``ip addr``, podman's bridges, /etc/hosts): the machine this project runs on is
root; a clear error otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ENDPOINT_RANGE = ipaddress.ip_network("198.18.0.0/16")
_LOCK_FILE = Path(os.environ.get("TMPDIR", "/tmp")) / "booking-emulator-net.lock"
_OWNED: set[str] = set()  # the endpoint addresses this process added
# Endpoint DNS name -> its address, for every real server this emulator runs (a DB instance's,
# a replication group's, a load balancer's): task containers get them as host entries, so the
# app connects by the endpoint's name as on AWS; GET /_emulator/endpoints returns them.
HOSTS: dict[str, str] = {}


class LocalNetError(RuntimeError):
    """The machine cannot give the data plane an address or a network."""


_HELD = threading.local()  # how deep this thread is in machine_lock()


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """The machine's lock on addresses and task networks, shared by every emulator on it.

    Re-entrant within a thread (a flock on a second descriptor of the same file would wait for
    the first); other threads and processes wait.
    """
    depth = getattr(_HELD, "depth", 0)
    if depth:
        _HELD.depth = depth + 1
        try:
            yield
        finally:
            _HELD.depth = depth
        return
    with _LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _HELD.depth = 1
        try:
            yield
        finally:
            _HELD.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)


def _addresses_on_loopback() -> set[str]:
    shown = _ip("-4", "-o", "addr", "show", "dev", "lo")
    return {line.split()[3].split("/")[0] for line in shown.stdout.splitlines()
            if len(line.split()) > 3}


def endpoint_address() -> str:
    """A new endpoint address of this emulator's, on the loopback interface."""
    if os.geteuid() != 0:
        raise LocalNetError("the real data plane gives each endpoint an address on the loopback "
                            "interface (ip addr add): run it as root")
    with machine_lock():
        taken = _addresses_on_loopback()
        for host in ENDPOINT_RANGE.hosts():
            address = str(host)
            if address.endswith(".0") or address.endswith(".255") or address in taken:
                continue
            added = _ip("addr", "add", f"{address}/32", "dev", "lo")
            if added.returncode != 0:
                raise LocalNetError(f"ip addr add {address}/32 dev lo: {added.stderr.strip()}")
            _OWNED.add(address)
            return address
    raise LocalNetError(f"no free address left in {ENDPOINT_RANGE}")


def release(address: str) -> None:
    """Give an endpoint address back (its server has stopped)."""
    if address in _OWNED:
        _ip("addr", "del", f"{address}/32", "dev", "lo")
        _OWNED.discard(address)


def release_all() -> None:
    for address in list(_OWNED):
        release(address)


def network_name(cidr: str) -> str:
    """The podman network of a subnet: booking-10-0-1-0-24 for 10.0.1.0/24."""
    return "booking-" + cidr.replace(".", "-").replace("/", "-")


def _network_subnet(name: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The subnet of network_name()'s name: booking-10-0-1-0-24 -> 10.0.1.0/24."""
    parts = name.removeprefix("booking-").split("-")
    return ipaddress.ip_network(".".join(parts[:-1]) + "/" + parts[-1])


def subnet_network(cidr: str, podman: list[str]) -> str:
    """The podman bridge network for a VPC subnet, created on first use; its name.

    Call it and create the container on the network under ``machine_lock()``: another emulator
    stopping removes every task network no container uses (``remove_networks``), so in between
    the network could go and the container fail to create ("network not found"; two stacks side
    by side, as the container tests run them)."""
    name = network_name(cidr)
    subnet = ipaddress.ip_network(cidr)
    with machine_lock():
        if _network_exists(podman, name):
            return name
        _remove_stale_bridges(subnet)
        created = _create_network(podman, name, subnet)
        if created.returncode != 0 and "already used" in created.stderr:
            # A bridge of a removed network that still has ports (veths of containers that were
            # killed, not torn down: their network namespaces are gone with them). The subnet's
            # network does not exist (podman said so, under the lock), so nothing live uses it.
            _remove_stale_bridges(subnet, even_with_ports=True)
            created = _create_network(podman, name, subnet)
    if created.returncode != 0:
        raise LocalNetError(f"podman network create {name}: {created.stderr.strip()}")
    return name


def _network_exists(podman: list[str], name: str) -> bool:
    """podman network exists: 0 it does, 1 it does not, anything else an error (under load, a
    lock timeout), which must not read as "does not exist": creating it would then fail with
    "subnet already used" while the network serves another stack's tasks (CI, 2026-12-07)."""
    for attempt in range(5):
        checked = subprocess.run([*podman, "network", "exists", name], capture_output=True,
                                 text=True, timeout=60, check=False)
        if checked.returncode in (0, 1):
            return checked.returncode == 0
        time.sleep(0.2 * (attempt + 1))
    raise LocalNetError(f"podman network exists {name}: exit {checked.returncode}: "
                        f"{checked.stderr.strip()}")


def _create_network(podman: list[str], name: str,
                    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
                    ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*podman, "network", "create", "--subnet", str(subnet), "--gateway",
         str(subnet.network_address + 1), "--disable-dns", name],
        capture_output=True, text=True, timeout=60, check=False)


def _remove_stale_bridges(subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
                          even_with_ports: bool = False) -> None:
    """Bridges podman left on the host with an address in `subnet` and no port: a removed
    network's (seen after a run of two stacks side by side, 2026-12-07). podman then refuses to
    create the subnet's network again ("subnet ... is already used on the host"), and a task
    would fail to start. No podman network holds the subnet (the caller checked), so a podman
    bridge that still does is left over."""
    shown = _ip("-4", "-o", "addr", "show")
    for line in shown.stdout.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[1].startswith("podman"):
            continue
        interface, address = fields[1], fields[3]
        ports = Path("/sys/class/net") / interface / "brif"
        if (ipaddress.ip_interface(address).ip in subnet and ports.is_dir()
                and (even_with_ports or not any(ports.iterdir()))):
            _ip("link", "del", interface)


def remove_networks(podman: list[str]) -> None:
    """Remove the subnets' networks that no container uses any more (the emulator stops).

    Under the machine lock, so never between another emulator's ``subnet_network`` and the
    container it creates on that network."""
    with machine_lock():
        listed = subprocess.run([*podman, "network", "ls", "--format", "{{.Name}}"],
                                capture_output=True, text=True, timeout=60, check=False)
        for name in listed.stdout.split():
            if name.startswith("booking-") and name[8:9].isdigit():
                # Refused while another emulator's containers are on it: that one removes it
                # later.
                removed = subprocess.run([*podman, "network", "rm", name], capture_output=True,
                                         timeout=60, check=False)
                if removed.returncode == 0:  # and the bridge, if podman left it behind
                    _remove_stale_bridges(_network_subnet(name))


class HostsFile:
    """This emulator's block of /etc/hosts: every name of `names()` at its address."""

    PATH = Path(os.environ.get("BOOKING_EMULATOR_HOSTS_FILE", "/etc/hosts"))

    def __init__(self, names: Callable[[], dict[str, str]], interval: float = 1.0) -> None:
        self._names, self._interval = names, interval
        self._begin = f"# booking-deploy emulator {os.getpid()}: begin"
        self._end = f"# booking-deploy emulator {os.getpid()}: end"
        self._published: dict[str, str] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="hosts-file", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                wanted = self._names()
            except RuntimeError:  # a model changed while it was read: next time
                continue
            if wanted != self._published:
                self._write(wanted)

    def _write(self, entries: dict[str, str]) -> None:
        with machine_lock():
            try:
                lines = self.PATH.read_text().splitlines()
            except FileNotFoundError:
                lines = []
            kept, inside = [], False
            for line in lines:
                owner = _block_owner(line, "begin")
                if line == self._begin or (owner is not None and not _alive(owner)):
                    inside = True  # ours, or a killed emulator's: rewritten or dropped
                elif inside and _block_owner(line, "end") is not None:
                    inside = False
                elif not inside:
                    kept.append(line)
            if entries:
                kept += [self._begin, *(f"{address} {name}" for name, address in
                                        sorted(entries.items())), self._end]
            try:
                # In place: /etc/hosts may be a bind mount that a rename would not reach.
                with self.PATH.open("r+" if self.PATH.exists() else "w") as hosts:
                    hosts.seek(0)
                    hosts.write("\n".join(kept) + "\n")
                    hosts.truncate()
            except PermissionError:
                return  # not root: names resolve only inside the task containers
        self._published = dict(entries)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._published:
            self._write({})


def _block_owner(line: str, edge: str) -> int | None:
    """The PID in a block marker line of /etc/hosts ("# booking-deploy emulator <pid>: begin")."""
    prefix, suffix = "# booking-deploy emulator ", f": {edge}"
    if line.startswith(prefix) and line.endswith(suffix):
        pid = line[len(prefix):-len(suffix)]
        return int(pid) if pid.isdigit() else None
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def other_emulators_serving(name: str) -> list[int]:
    """PIDs of other live emulators whose /etc/hosts block maps `name`."""
    owners, owner = [], None
    try:
        lines = HostsFile.PATH.read_text().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        begin = _block_owner(line, "begin")
        if begin is not None:
            owner = begin
        elif _block_owner(line, "end") is not None:
            owner = None
        elif (owner is not None and owner != os.getpid() and name in line.split()[1:]
              and _alive(owner)):
            owners.append(owner)
    return owners


def aliases_of(hosts: dict[str, str]) -> dict[str, str]:
    """Route 53 records (alias A/AAAA, CNAME) of every emulated zone whose target is one of
    `hosts`' names: the name at the target's address."""
    from moto.route53.models import route53_backends

    found: dict[str, str] = {}
    backends: list[Any] = [backend for account in list(route53_backends.values())
                           for backend in list(dict.values(account))]
    for backend in backends:
        for zone in list(backend.zones.values()):
            for record in list(zone.rrsets):
                alias = getattr(record, "alias_target", None) or {}
                target = alias.get("DNSName") or (
                    str(record.records[0]) if record.type == "CNAME" and record.records else "")
                target = target.rstrip(".").lower().removeprefix("dualstack.")
                if target in hosts:
                    found[record.name.rstrip(".").lower()] = hosts[target]
    return found
