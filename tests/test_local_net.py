"""tools/local_net.py's block of /etc/hosts (on a file of the test's own): an emulator rewrites
only its own block, drops the blocks of emulators that are gone, leaves live ones alone and
removes its block when it stops; another live emulator serving a name is found. No root needed,
no emulator: well under a second."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import local_net  # tools/, above

GONE = 2**22 + 12345  # above the kernel's default pid_max: no process has it
LIVE = 1  # init: always alive


def _block(pid: int, *entries: str) -> str:
    return "\n".join([f"# booking-deploy emulator {pid}: begin", *entries,
                      f"# booking-deploy emulator {pid}: end"]) + "\n"


@pytest.fixture
def hosts(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 localhost\n" + _block(GONE, "10.1.1.1 stale.example")
                    + _block(LIVE, "10.2.2.2 live.example"))
    monkeypatch.setattr(local_net.HostsFile, "PATH", path)
    return path


def test_an_emulator_owns_one_block_and_drops_the_dead(hosts):
    published = {"api.example": "198.18.0.3"}
    names = local_net.HostsFile(lambda: published)
    names._write(published)
    text = hosts.read_text()
    assert "stale.example" not in text  # its emulator is gone
    assert "10.2.2.2 live.example" in text  # another live emulator's, untouched
    assert _block(os.getpid(), "198.18.0.3 api.example") in text
    names._write({"api.example": "198.18.0.4"})  # rewritten in place, not appended
    assert hosts.read_text().count(f"emulator {os.getpid()}: begin") == 1
    assert "198.18.0.4 api.example" in hosts.read_text()
    names.stop()
    assert f"emulator {os.getpid()}" not in hosts.read_text()
    assert hosts.read_text().startswith("127.0.0.1 localhost\n")


def test_another_live_emulator_serving_a_name_is_found(hosts):
    assert local_net.other_emulators_serving("live.example") == [LIVE]
    assert local_net.other_emulators_serving("stale.example") == []
    assert local_net.other_emulators_serving("unknown.example") == []


@pytest.mark.skipif(os.geteuid() != 0, reason="makes bridges on the host (ip link): root only")
def test_a_bridge_podman_left_on_a_subnet_is_removed_before_its_network_is_made_again():
    """A removed network's bridge kept the subnet's gateway address: podman refused to create the
    network again ("subnet ... is already used on the host") and a one-off task failed to start.
    Only a podman bridge without ports in that subnet goes."""
    import ipaddress
    import subprocess

    def ip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)

    made = {"podman97": "10.0.97.1/24", "podman98": "10.0.98.1/24", "podman99": "10.0.97.129/25"}
    try:
        for bridge, address in made.items():
            assert ip("link", "add", bridge, "type", "bridge").returncode == 0
            ip("addr", "add", address, "dev", bridge)
        assert ip("link", "add", "booking-v99", "type", "veth", "peer", "name",
                  "booking-w99").returncode == 0
        assert ip("link", "set", "booking-v99", "master", "podman99").returncode == 0  # a port

        local_net._remove_stale_bridges(ipaddress.ip_network("10.0.97.0/24"))

        left = {bridge for bridge in made if ip("link", "show", bridge).returncode == 0}
        assert left == {"podman98", "podman99"}  # another subnet; a bridge in use
    finally:
        for interface in [*made, "booking-v99"]:  # the veth's peer goes with it
            ip("link", "del", interface)


def test_no_network_is_removed_between_another_emulators_lookup_and_its_container(tmp_path):
    """remove_networks (an emulator stopping) waits for the machine lock that a task holds from
    subnet_network to its `podman create`: the network cannot go in between ("network not
    found": a task that never ran, two stacks side by side). Another process holds the lock
    here, as the other emulator would; a fake podman records what is run."""
    log = tmp_path / "podman.log"
    podman = tmp_path / "podman"
    podman.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n"
                      "[ \"$1 $2\" = 'network ls' ] && echo booking-10-0-10-0-24\nexit 0\n")
    podman.chmod(0o755)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; sys.path.insert(0, sys.argv[1]); import local_net\n"
         "with local_net.machine_lock():\n    print('held', flush=True); time.sleep(2)",
         str(Path(local_net.__file__).parent)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    local_net.remove_networks([str(podman)])
    waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited >= 1.0, f"removed while another emulator held the lock ({waited:.2f} s)"
    assert "network rm booking-10-0-10-0-24" in log.read_text()


def test_the_machine_lock_is_reentrant_within_a_thread():
    with local_net.machine_lock(), local_net.machine_lock():
        pass  # a second flock in the same thread would wait forever


def _fake_podman(tmp_path, script: str) -> list[str]:
    podman = tmp_path / "podman"
    podman.write_text("#!/bin/sh\n" + script)
    podman.chmod(0o755)
    return [str(podman)]


def test_an_error_of_network_exists_is_not_a_missing_network(tmp_path):
    """Exit 125 (an error under load) is asked again, never read as "does not exist"."""
    count = tmp_path / "count"
    flaky = _fake_podman(tmp_path, f'echo x >> {count}; [ $(wc -l < {count}) -ge 3 ] && exit 0\n'
                                   'echo "Error: lock timeout" >&2; exit 125\n')
    assert local_net._network_exists(flaky, "booking-10-0-1-0-24") is True
    absent = _fake_podman(tmp_path, "exit 1\n")
    assert local_net._network_exists(absent, "booking-10-0-1-0-24") is False
    broken = _fake_podman(tmp_path, 'echo "Error: broken" >&2; exit 125\n')
    with pytest.raises(local_net.LocalNetError, match="broken"):
        local_net._network_exists(broken, "booking-10-0-1-0-24")


def test_a_bridge_holding_the_subnet_with_dead_ports_goes_when_podman_refuses_the_subnet(
        tmp_path):
    """The network does not exist, yet podman says the subnet is in use: a removed network's
    bridge still has ports. It is removed and the network made."""
    def ip(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)

    tries = tmp_path / "tries"
    podman = _fake_podman(tmp_path, (
        '[ "$1 $2" = "network exists" ] && exit 1\n'
        f'echo x >> {tries}; [ $(wc -l < {tries}) -ge 2 ] && exit 0\n'
        'echo "Error: subnet 10.0.96.0/24 is already used on the host or by another config" >&2\n'
        'exit 125\n'))
    try:
        assert ip("link", "add", "podman96", "type", "bridge").returncode == 0
        ip("addr", "add", "10.0.96.1/24", "dev", "podman96")
        assert ip("link", "add", "booking-v96", "type", "veth", "peer", "name",
                  "booking-w96").returncode == 0
        assert ip("link", "set", "booking-v96", "master", "podman96").returncode == 0
        assert local_net.subnet_network("10.0.96.0/24", podman) == "booking-10-0-96-0-24"
        assert ip("link", "show", "podman96").returncode != 0
        assert tries.read_text().count("x") == 2
    finally:
        for interface in ("podman96", "booking-v96"):
            ip("link", "del", interface)


def test_a_network_name_gives_back_its_subnet():
    assert str(local_net._network_subnet(local_net.network_name("10.0.20.0/24"))) == "10.0.20.0/24"
