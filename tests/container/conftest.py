"""The container tests: podman on the project's own image store, measured figures reported.

Not collected by `make test-unit` (pyproject's norecursedirs lists tests/container);
`make test-container` runs this folder explicitly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from container_support import METRICS, METRICS_FILE, REPO, RUN_DIR, TOOLS, container_env

sys.path.insert(0, str(REPO / "tools"))
import ecs_podman  # tools/, above
import elasticache_redis
import elb_proxy
import rds_postgres
from emulator import Emulator


def pytest_terminal_summary(terminalreporter):
    if not METRICS:
        return
    terminalreporter.section("container metrics")
    for key, value in METRICS.items():
        terminalreporter.write_line(f"{key}: {value}")
    RUN_DIR.mkdir(exist_ok=True)
    METRICS_FILE.write_text(json.dumps(METRICS, indent=2) + "\n")
    terminalreporter.write_line(f"(also in {METRICS_FILE.relative_to(REPO)})")


@pytest.fixture(scope="session")
def podman_ready() -> None:
    """podman is installed (tools/container/setup.sh installs it if it can), else skip."""
    if shutil.which("podman") is None:
        setup = subprocess.run(
            [str(TOOLS / "setup.sh")], capture_output=True, text=True, check=False
        )
        if shutil.which("podman") is None:
            pytest.skip(
                "podman is not installed and cannot be installed here "
                f"(tools/container/setup.sh: {setup.stderr.strip()[-300:]})"
            )


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """The loopback registry: reused if running, else started here and stopped afterwards."""
    script = str(TOOLS / "registry.sh")
    running = subprocess.run([script, "status"], check=False).returncode == 0
    if not running:
        subprocess.run([script, "up"], check=True)
    yield subprocess.run([script, "url"], capture_output=True, text=True,
                         check=True).stdout.strip()
    if not running:
        subprocess.run([script, "down"], check=False)


@pytest.fixture(scope="module")
def registry_image(registry: str) -> str:
    """The app image in the loopback registry, named as a task definition names it."""
    build = subprocess.run([str(TOOLS / "build.sh")], capture_output=True, text=True,
                           timeout=900, env=container_env(IMAGE_BUILDER="podman"), check=False)
    assert build.returncode == 0, build.stderr[-3000:]
    local = build.stdout.strip().splitlines()[-1]
    remote = f"{registry}/booking-ecs-task-test:probe"
    for args in (["tag", local, remote], ["push", "--quiet", "--tls-verify=false", remote]):
        done = ecs_podman.podman(*args)
        assert done.returncode == 0, done.stderr
    return remote


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """An in-process emulator on the real data plane: ECS tasks run as containers, DB instances
    are PostgreSQL servers, replication groups Redis servers, load balancers proxies. One per
    test module."""
    switches = {ecs_podman.TASKS_ENV: "podman", rds_postgres.RDS_ENV: "postgres",
                elasticache_redis.ELASTICACHE_ENV: "redis", elb_proxy.ELB_ENV: "proxy"}
    before = {name: os.environ.get(name) for name in switches}
    os.environ.update(switches)
    emu = Emulator(port=0).start()
    yield emu
    emu.stop()
    for name, value in before.items():
        if value is None:
            os.environ.pop(name)
        else:
            os.environ[name] = value
