"""One botocore data loader per process and data path, shared by every botocore session in it;
and botocore's built-in event handlers registered once per process, copied into each session.

Why: every AWS module run makes a new boto3 session, and a new botocore session makes a new data
loader, which reads and JSON-decodes the service model, endpoint rules, partitions and defaults
again. Under Mitogen (ansible.cfg's strategy) the module runs of a host share one Python process,
and that decoding was most of an AWS module run: 0.30 s of a loop item against 0.12 s with a
shared loader (py-spy and side-by-side runs, docs/benchmarks.md). The files are the installed
botocore's own: the same for every session of a process with the same data path.

How: botocore.session makes its loader with the module-level ``create_loader(data_path)``; when
botocore.session is first imported, this replaces it with one that hands out one loader per data
path. A loader caches what it loads, so every session after the first finds the models decoded.
Nothing else is shared: credentials, region, configuration, the handlers registered on a session
and clients stay per session. boto3 appends its own data directory to the loader's search paths
at every session: the shared loader keeps each path once.

The handlers: a new botocore session registers botocore's ~400 built-in event handlers one by
one, each through the event aliaser (about 11 ms of a session's 15, measured 2026-12-07; an AWS
module run makes one session per client). The table is botocore's constant
``handlers.BUILTIN_HANDLERS``: here the first session of a process registers it as botocore does,
that emitter is kept unused as a template, and every session made without its own ``event_hooks``
starts from a copy of it - the copy botocore itself makes of a session's emitter for each client.
Handlers registered later on one session stay in that session.

Installed into the toolchain venv by ``make setup`` (this directory is a package whose .pth file
imports this module when Python starts); a process that never imports botocore pays nothing.
``BOOKING_SHARED_BOTOCORE_LOADER=off`` in the environment leaves botocore as it is.
"""

from __future__ import annotations

import copy
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

TARGET = "botocore.session"
SWITCH = "BOOKING_SHARED_BOTOCORE_LOADER"


class PathsOnce(list):
    """A search path list that ignores a path it already holds."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


def shared(create_loader: Callable[[str | None], Any]) -> Callable[[str | None], Any]:
    """``create_loader`` made to return one loader per search path string."""
    loaders: dict[str | None, Any] = {}

    def create_shared_loader(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loader = create_loader(search_path_string)
            loader._search_paths = PathsOnce(loader._search_paths)
            loaders[search_path_string] = loader
        return loaders[search_path_string]

    create_shared_loader.__wrapped__ = create_loader  # type: ignore[attr-defined]
    return create_shared_loader


def handlers_from_template(init: Callable[..., None]) -> Callable[..., None]:
    """``Session.__init__`` made to start each session's emitter from a copy of a template that
    holds the built-in handlers, instead of registering them again."""
    template: list[Any] = []  # the first default session's emitter, filled on first use

    def init_from_template(self: Any, session_vars: Any = None, event_hooks: Any = None,
                           include_builtin_handlers: bool = True, profile: Any = None) -> None:
        if event_hooks is None and include_builtin_handlers:
            if not template:
                first = type(self).__new__(type(self))
                init(first)
                template.append(first._original_handler)
            event_hooks = copy.copy(template[0])
            event_hooks._lookup_cache = {}  # the copy shares the template's; start its own
            include_builtin_handlers = False
        init(self, session_vars, event_hooks, include_builtin_handlers, profile)

    init_from_template.__wrapped__ = init  # type: ignore[attr-defined]
    return init_from_template


def patch(session_module: ModuleType) -> None:
    """Make ``session_module`` (botocore.session) share one loader per data path and copy the
    built-in handlers from a template; idempotent."""
    if not hasattr(session_module.create_loader, "__wrapped__"):
        session_module.create_loader = shared(session_module.create_loader)
    session_class = session_module.Session
    if not hasattr(session_class.__init__, "__wrapped__"):
        session_class.__init__ = handlers_from_template(session_class.__init__)


class PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches botocore.session right after its first import."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)  # once; the finders after this one find the real module
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Called by the .pth file at interpreter start."""
    if os.environ.get(SWITCH, "on") == "off":
        return
    if TARGET in sys.modules:
        patch(sys.modules[TARGET])
    elif not any(isinstance(finder, PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, PatchOnImport())
