"""Shared fixtures: an in-process AWS emulator per test session, and ways to run Ansible on it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Strict emulator mode is the suite's default (tools/moto_strict.py): every emulator the tests
# start, in process or not, fails a first run as AWS does, with holds of seconds (the `test`
# profile). BOOKING_EMULATOR_STRICT=off (or another spec) in the environment overrides it.
os.environ.setdefault("BOOKING_EMULATOR_STRICT", "test")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
# booking.aws importable as ansible_collections.booking.aws (its filters import each other).
sys.path.insert(0, str(REPO / "collections"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator import Emulator  # noqa: E402  (found through the path above)
from harness import AnsibleRunner, PlaybookRun, RemoteEmulator, emulator_process  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """moto with our patches, in this process: tests can read its calls and drive its state.

    One per pytest worker (pytest-xdist), on a free port, so workers never share resources.
    """
    emu = Emulator(port=0).start()
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(emulator: Emulator) -> Emulator:
    """The session's emulator with every resource and recorded call forgotten."""
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def ansible(emulator: Emulator) -> AnsibleRunner:
    return AnsibleRunner(emulator)


@pytest.fixture
def aws(emulator: Emulator):
    """A boto3 client factory pointed at the emulator: aws('ec2').describe_vpcs()."""
    return emulator.client


# --- The site stack: one environment converged by site.yml per pytest worker -----------------
# site.yml from empty is the suite's most expensive step (minutes), so it runs once per worker
# and the tests of that worker that read that environment or build on it share it:
# tests/test_site.py (reads, no-op, check, drift) and tests/test_teardown.py (release, teardown,
# site.yml again). Each file is its own xdist group, and both go first (pytest_collection_
# modifyitems below), so two workers take them at once, each with its own stack: the two chains
# side by side instead of one after the other (2026-12-07, alone on two cores: 830 s for both in
# one chain, of which test_teardown.py's part about 460 s after the shared first run). One more
# site.yml from empty (about 100 CPU seconds) buys it. Run on one worker (-n 0, or -p no:xdist),
# the files share one stack, test_site.py first.
#
# The stack's emulator is as hard on a first run as the suite knows how to make it: strict mode
# with holds long enough that each race is really met in a site run (the private routes come
# 11-17 s after their NAT gateways, the web ACL's association seconds after the load balancer's
# create), and slow creation of the NAT gateways, the database, the Redis group and the load
# balancer, so the first run shows whether every slow create comes before any wait.
SITE_STACK_HOLD = 25.0
SITE_STACK_SLOW = ("nat", "rds", "elasticache", "alb")
SITE_STACK_ENV = {
    "BOOKING_EMULATOR_STRICT": f"all,waf={SITE_STACK_HOLD:g},iam=6,slr=4,consistency=3",
    # nat and alb here replace strict mode's own nat hold and ALB provisioning hold.
    "BOOKING_EMULATOR_CREATE_SECONDS": ",".join(
        f"{kind}={SITE_STACK_HOLD:g}" for kind in SITE_STACK_SLOW),
}
SITE_STACK_FILES = ("test_site.py", "test_teardown.py")


@pytest.fixture(scope="session")
def site_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEmulator]:
    """The site stack's own emulator process (strict, slow creation): see above."""
    calls = tmp_path_factory.mktemp("site-stack") / "calls.jsonl"
    with emulator_process(calls, **SITE_STACK_ENV) as url:
        yield RemoteEmulator(url, calls)


@pytest.fixture(scope="session")
def site_ansible(site_emulator: RemoteEmulator) -> AnsibleRunner:
    return AnsibleRunner(site_emulator)


@pytest.fixture(scope="session")
def site_converged(site_emulator: RemoteEmulator, site_ansible: AnsibleRunner) -> PlaybookRun:
    """site.yml once, from empty, on the site stack's emulator: it must converge in one run.

    The run carries the emulator's calls made during it (`run.calls`), for the tests of order.
    """
    site_emulator.reset()
    run = site_ansible.playbook("site.yml", timeout=1500)
    assert run.rc == 0, run.explain()
    run.calls = site_emulator.calls
    return run


def pytest_itemcollected(item: pytest.Item) -> None:
    """Each test file is one xdist group (a file's module fixtures are made once). Marked as
    each test is collected: xdist reads the groups in its own pytest_collection_modifyitems
    (--dist loadgroup)."""
    if item.get_closest_marker("xdist_group"):
        return
    item.add_marker(pytest.mark.xdist_group(str(item.path.relative_to(REPO))))


# The files that take longest (minutes each, 2026-12-07), longest first, after the site stack's;
# for tests/container (its own session, this conftest too), the real data plane's release tests,
# then the execution environment's (a cold build and a site.yml from empty: 4-6 minutes).
LONG_FILES = (*SITE_STACK_FILES, "test_release.py", "test_release_failures.py", "test_restore.py",
              "test_verify.py", "test_rds_engine_version.py", "test_release_real.py",
              "test_execution_environment.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest job first: the site stack's files (the suite's longest chains), then the other
    long files, then the rest in file order. xdist (--no-loadscope-reorder) hands the groups out
    in this order, the first ones to different workers, so the long ones do not start last."""
    items.sort(key=lambda item: (LONG_FILES.index(item.path.name)
                                 if item.path.name in LONG_FILES
                                 else len(LONG_FILES)))  # stable: file order kept


# --- CPU per test, for finding where the suite's CPU goes (docs/ci.md) -----------------------
# BOOKING_TEST_CPU_LOG=<file>: each test appends {"test", "wall", "cpu"} to it, cpu being the
# user+system seconds of this worker and of the children it waited for (ansible-playbook and
# what it ran, emulator processes a fixture stopped) across its setup, call and teardown. A
# module fixture's cost lands on the test that made or ended it: sum per file. Containers are
# not our children (podman's): tests/container's tasks are not in it.
CPU_LOG = os.environ.get("BOOKING_TEST_CPU_LOG")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item):
    if not CPU_LOG:
        yield
        return
    import json
    import resource
    import time

    def cpu() -> float:
        own, children = (resource.getrusage(resource.RUSAGE_SELF),
                         resource.getrusage(resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.monotonic(), cpu()
    yield
    with open(CPU_LOG, "a") as log:
        log.write(json.dumps({"test": item.nodeid, "wall": round(time.monotonic() - wall, 2),
                              "cpu": round(cpu() - used, 2)}) + "\n")
