"""The container tests: podman on the project's own image store, measured figures reported.

Not collected by `make test-unit` (pyproject's norecursedirs lists tests/container);
`make test-container` runs this folder explicitly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from container_support import METRICS, METRICS_FILE, REPO, RUN_DIR, TOOLS


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
