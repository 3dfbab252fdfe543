"""bench/RESULTS.md: one section per benchmark, each rewritten by its own command.

A section sits between ``<!-- bench:NAME:begin -->`` and ``<!-- bench:NAME:end -->``;
``write_section`` replaces that block (or appends it) and leaves every other byte alone.
``machine`` describes where the figures come from, for the top of a section.
"""

from __future__ import annotations

import fcntl
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by its benchmark's command (see bench/README.md) and rewritten,\n"
    "whole, by the next run of that command; edit the scripts, not this file.\n"
)


def write_section(name: str, markdown: str, path: Path = RESULTS) -> None:
    """Put ``markdown`` between the markers of section ``name`` in ``path``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*(:[a-z0-9_.-]+)*", name):
        raise ValueError(f"section name {name!r}: lower-case words joined by ':' only")
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    # Two benchmarks finishing together must not lose each other's section.
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = path.read_text() if path.exists() else HEADER
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    """One Markdown line: date, cores, CPU model, load average (1/5/15 min) now."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}; {os.cpu_count()} cores, {cpu_model()}, {platform.system()} "
        f"{platform.release()}; load average at start {load_average()}"
    )
