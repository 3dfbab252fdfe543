"""Strategy ``mitogen_linear``: Mitogen for Ansible's linear strategy, found through ansible.cfg.

ansible.cfg points ``strategy_plugins`` here (a path relative to the repository), so
``ANSIBLE_STRATEGY=mitogen_linear`` works without naming the virtualenv's site-packages.

This is a proxy, as ansible_mitogen's own ``plugins/strategy/mitogen_linear.py`` is: Ansible's
PluginLoader loads this file under a made-up module name, so the real implementation is imported
under its canonical name (``ansible_mitogen.plugins.strategy.mitogen_linear``) and its class
re-exported; mitogen's types then exist once in memory. Its ``sys.path`` fallback (the
site-packages directory four levels above that file) does not apply to a file in this
repository: ansible_mitogen must be importable by the Python that runs Ansible, which
``pip install -r requirements.txt`` (the ``mitogen`` package) and the execution environment see to.
Switch back to Ansible's own strategy with ``ANSIBLE_STRATEGY=linear``.

One addition: the installed collections' directories are listed once per run, here, instead of
once per module task. Mitogen's planner lists them (``_load_collections``: every collection's
MANIFEST.json read, 94 collections with the ``ansible`` package) to hand the module's process its
import paths, and keeps what it planned in a module global; but Ansible runs each task in a
freshly forked worker, so the list was made again for every module task: 0.09 s of controller
time each, about 9 s of a no-op ``site.yml`` (py-spy, docs/benchmarks.md). Listed here, in the
process that forks the workers, every worker inherits it. The list cannot change during a run
(the collection paths are read once, when Ansible starts).

And one more: the objects of this process are frozen (``gc.freeze()``) while each worker is forked,
and thawed in this process right after, so a worker's garbage collections skip everything it
inherited: they neither spend time on those objects nor write to their pages (every page a
collection touches is copied for the worker). A no-op ``site.yml``: about 6 % less CPU, fewer page
faults (2026-12-07, docs/benchmarks.md). This process collects as before.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleError

try:
    import ansible_mitogen.planner as _planner
    from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule
except ImportError as exc:
    raise AnsibleError(
        "strategy mitogen_linear needs the 'mitogen' package in the Python that runs Ansible "
        "(pip install -r requirements.txt -c constraints.txt); or run with "
        f"ANSIBLE_STRATEGY=linear: {exc}") from exc

from ansible.collections.list import list_collection_dirs
from ansible.executor.process.worker import WorkerProcess


def _collection_dirs_once() -> None:
    """Replace the planner's per-task listing with this run's list, made now."""
    listing = getattr(_planner, "_load_collections", None)
    if listing is None or getattr(listing, "booking_listed_once", False):
        return  # a mitogen without it (nothing to fix), or already done in this process
    dirs = frozenset(path.decode("utf-8") for path in list_collection_dirs())

    def _load_collections(invocation: Any) -> None:
        invocation._extra_sys_paths.update(dirs)

    _load_collections.booking_listed_once = True  # type: ignore[attr-defined]
    _planner._load_collections = _load_collections


def frozen_while_forking(start: Callable[[Any], None]) -> Callable[[Any], None]:
    """``WorkerProcess.start`` made to fork with this process's objects frozen, then thaw them."""

    def start_frozen(worker: Any) -> None:
        gc.freeze()
        try:
            start(worker)
        finally:
            gc.unfreeze()

    start_frozen.booking_frozen_while_forking = True  # type: ignore[attr-defined]
    return start_frozen


_collection_dirs_once()
if not getattr(WorkerProcess.start, "booking_frozen_while_forking", False):
    WorkerProcess.start = frozen_while_forking(WorkerProcess.start)  # type: ignore[method-assign]

__all__ = ["StrategyModule"]
