"""Shared by the provisioning benchmarks: own emulator processes, timed playbook runs, counts."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
PYTHON = BIN / "python" if (BIN / "python").exists() else Path(sys.executable)
STATE = REPO / ".run" / "bench" / "provision"
PORTS = range(5460, 5480)  # this benchmark's share of the machine's ports
AWS_PREFIXES = ("amazon.aws.", "community.aws.", "booking.aws.")

sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools"))

from harness import parse_recap  # noqa: E402  (found through the path above)
from results import load_average, machine, write_section  # noqa: E402,F401

_RECAP_KEYS = ("ok", "changed", "skipped", "failed")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port(taken: set[int] | None = None) -> int:
    for port in PORTS:
        if taken and port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def operation(call: dict[str, Any]) -> tuple[str, str]:
    """(service, operation); REST paths with their names and ids folded (GET /{bucket})."""
    service, action = call["service"], call["action"]
    if " " in action:
        method, path = action.split(" ", 1)
        parts = [p for p in path.split("/") if p]
        if service == "s3":
            parts = ["{bucket}" for _ in parts[:1]] + ["{key}" for _ in parts[1:2]]
        else:
            parts = [p if _DATE.match(p) or not re.search(r"\d", p) else "{id}" for p in parts]
        action = f"{method} /{'/'.join(parts)}"
    return service, action


class EmulatorProcess:
    """tools/emulator.py in its own process on a port of ours, with its own call log."""

    def __init__(self, name: str, port: int, **env: str) -> None:
        STATE.mkdir(parents=True, exist_ok=True)
        self.name, self.port, self.env = name, port, env
        self.pidfile = STATE / f"{name}.pid"
        self.logfile = STATE / f"{name}.log"
        self.call_log = STATE / f"{name}-calls.jsonl"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> None:
        subprocess.run([str(PYTHON), str(REPO / "tools" / "emulator.py"), *args,
                        "--port", str(self.port), "--pidfile", str(self.pidfile),
                        "--logfile", str(self.logfile), "--call-log", str(self.call_log)],
                       env={**os.environ, **self.env}, check=True, stdout=subprocess.DEVNULL)

    def __enter__(self) -> EmulatorProcess:
        self.call_log.unlink(missing_ok=True)
        self.call_log.touch()
        self._cli("up")
        return self

    def __exit__(self, *_: object) -> None:
        self._cli("down")

    def reset(self) -> None:
        self._cli("reset")

    def mark(self) -> int:
        """A position in the call log: calls after it belong to what runs next."""
        with self.call_log.open() as log:
            return sum(1 for _ in log)

    def calls_since(self, mark: int) -> list[dict[str, Any]]:
        with self.call_log.open() as log:
            return [json.loads(line) for i, line in enumerate(log) if i >= mark]


@dataclass
class Run:
    """One timed ansible-playbook run: wall time, recap, per-task records, API calls."""

    label: str
    rc: int
    wall: float
    recap: dict[str, int]
    tasks: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    load: tuple[float, float] = (0.0, 0.0)
    log: Path = field(default_factory=Path)

    @property
    def task_count(self) -> int:
        """Tasks as the recap counts them: ok + skipped + failed (host-task results)."""
        return self.recap.get("ok", 0) + self.recap.get("skipped", 0) + self.recap.get("failed", 0)

    @property
    def changed(self) -> int:
        return self.recap.get("changed", 0)

    def operations(self) -> Counter[tuple[str, str]]:
        return Counter(operation(c) for c in self.calls)

    def row(self) -> str:
        return (f"{self.wall:.1f} s, {self.task_count} tasks, changed {self.changed}, "
                f"{len(self.calls)} API calls")


def ansible_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).resolve().parent / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_tasks",
        "BOOKING_EMULATOR_URL": url,
        "BOOKING_RELEASE_BUILD": "false",  # the image build is excluded
    })
    env.update(extra)
    return env


def run_playbook(emulator: EmulatorProcess, label: str, playbook: str, *args: str,
                 env: dict[str, str] | None = None, timeout: int = 900) -> Run:
    task_log = STATE / f"{label}.tasks.jsonl"
    out_log = STATE / f"{label}.log"
    task_log.unlink(missing_ok=True)
    cmd = [str(BIN / "ansible-playbook"), playbook, "-i", "inventories/local", *args]
    mark = emulator.mark()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with out_log.open("w") as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                              env=ansible_env(emulator.url, BENCH_TASK_LOG=str(task_log),
                                              **(env or {})), check=False)
    wall = time.monotonic() - started
    text = out_log.read_text()
    totals: dict[str, int] = {}
    for counts in parse_recap(text).values():
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    tasks = ([json.loads(line) for line in task_log.read_text().splitlines()]
             if task_log.exists() else [])
    run = Run(label, proc.returncode, wall, totals, tasks, emulator.calls_since(mark),
              (load_before, os.getloadavg()[0]), out_log)
    print(f"  {label}: rc={run.rc} {run.row()} (load {load_before:.2f} -> "
          f"{run.load[1]:.2f})", flush=True)
    if run.rc != 0:
        print(text[-4000:], file=sys.stderr)
    return run


def is_aws_task(task: dict[str, Any]) -> bool:
    return str(task["action"]).startswith(AWS_PREFIXES)


def load_range(runs: list[Run]) -> str:
    values = [v for r in runs for v in r.load]
    return f"{min(values):.2f}-{max(values):.2f}" if values else "n/a"
