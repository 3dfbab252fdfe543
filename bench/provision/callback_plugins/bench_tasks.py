"""Callback for the provisioning benchmarks: one JSON line per task, for timing and counting.

Enabled by bench/provision/common.py (ANSIBLE_CALLBACK_PLUGINS + ANSIBLE_CALLBACKS_ENABLED);
writes to the file named by BENCH_TASK_LOG when the play ends. Each line: the task's role,
name, action (module), start offset and duration in seconds (until the next task starts, as
ansible.posix.profile_tasks measures), and its outcome (ok, changed, skipped, failed), items
counted for loops.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: bench_tasks
    type: aggregate
    short_description: per-task timings and actions as JSON lines (benchmarks only)
    description: Writes one JSON line per task to the file in BENCH_TASK_LOG.
    requirements: [enable in configuration]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._tasks: list[dict[str, Any]] = []
        self._t0 = time.monotonic()

    def _close_last(self) -> None:
        if self._tasks and self._tasks[-1]["seconds"] is None:
            last = self._tasks[-1]
            last["seconds"] = round(time.monotonic() - self._t0 - last["start"], 4)

    def _start(self, task: Any, kind: str) -> None:
        self._close_last()
        role = task._role.get_name() if task._role else ""
        name = task.get_name()
        if role and name.startswith(f"{role} : "):
            name = name[len(role) + 3:]
        self._tasks.append({"role": role, "name": name, "action": task.action,
                            "kind": kind, "start": round(time.monotonic() - self._t0, 4),
                            "seconds": None, "ok": 0, "changed": 0, "skipped": 0,
                            "failed": 0, "items": 0})

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._start(task, "task")

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._start(task, "handler")

    def _count(self, outcome: str, result: Any = None) -> None:
        if not self._tasks:
            return
        entry = self._tasks[-1]
        if outcome == "ok" and result is not None and result._result.get("changed"):
            entry["changed"] += 1
        entry[outcome] += 1

    def v2_runner_on_ok(self, result: Any) -> None:
        self._count("ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._count("failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._count("skipped")

    def v2_runner_item_on_ok(self, result: Any) -> None:
        if self._tasks:
            self._tasks[-1]["items"] += 1

    def v2_runner_item_on_failed(self, result: Any) -> None:
        if self._tasks:
            self._tasks[-1]["items"] += 1

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close_last()
        path = os.environ.get("BENCH_TASK_LOG")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as log:
            for task in self._tasks:
                log.write(json.dumps(task) + "\n")
