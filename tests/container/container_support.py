"""What the container tests share: paths, the figures they measure, podman's environment.

(A module of its own, not conftest.py: tests/conftest.py is also imported as "conftest".)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "container"
RUN_DIR = REPO / ".run"
METRICS_FILE = RUN_DIR / "container-metrics.json"

# Figures measured by the tests (build times, image size, ...), printed at the end of the run
# and written to .run/container-metrics.json (conftest.py).
METRICS: dict[str, object] = {}


def container_env(**extra: str) -> dict[str, str]:
    """The environment for tools/container scripts: the project's containers.conf."""
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(TOOLS / "containers.conf")
    env.update(extra)
    return env
