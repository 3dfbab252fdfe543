"""The two per-run caches that make a module task cheap under Mitogen (docs/benchmarks.md):

- tools/shared-botocore-loader: one botocore data loader per process and data path, and
  botocore's built-in event handlers registered once per process and copied into each session,
  installed into the venv by `make setup` and active from interpreter start (its .pth file);
- plugins/strategy/mitogen_linear.py: the installed collections listed once per run, in the
  process that forks Ansible's workers, instead of once per module task;
- and one cost kept out: our filter plugins import nothing of boto3 (Ansible loads a collection's
  filter plugins afresh in each forked worker that templates one of them).

Each check runs in a new interpreter of the toolchain venv, as a module run or ansible-playbook
starts one, so the .pth file's start-up hook is what is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from harness import REPO

SWITCH = "BOOKING_SHARED_BOTOCORE_LOADER"


def _python(code: str, **env: str) -> dict:
    """Run `code` in a new venv interpreter; it prints one JSON document."""
    environ = {k: v for k, v in os.environ.items() if k != SWITCH} | env
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


SESSIONS = """
    import json, boto3
    sessions = [boto3.session.Session(region_name="eu-west-1") for _ in range(3)]
    loaders = [s._session.get_component("data_loader") for s in sessions]
    clients = [s.client("ec2") for s in sessions]  # each session still makes its own client
    print(json.dumps({
        "distinct_loaders": len({id(loader) for loader in loaders}),
        "distinct_clients": len({id(client) for client in clients}),
        "regions": [c.meta.region_name for c in clients],
        "search_paths": loaders[0].search_paths,
    }))
"""


def test_sessions_of_a_process_share_one_loader_and_nothing_else():
    seen = _python(SESSIONS)
    assert seen["distinct_loaders"] == 1
    assert seen["distinct_clients"] == 3
    assert seen["regions"] == ["eu-west-1"] * 3
    # boto3 appends its data directory at every session: the shared loader holds it once.
    boto3_data = [p for p in seen["search_paths"] if p.endswith(os.path.join("boto3", "data"))]
    assert len(boto3_data) == 1, seen["search_paths"]


def test_switched_off_every_session_has_its_own_loader():
    seen = _python(SESSIONS, **{SWITCH: "off"})
    assert seen["distinct_loaders"] == 3


def test_a_session_with_another_data_path_gets_its_own_loader(tmp_path):
    seen = _python(f"""
        import json, botocore.session
        plain, other, again = (botocore.session.Session() for _ in range(3))
        other.set_config_variable("data_path", {str(tmp_path)!r})
        loaders = [s.get_component("data_loader") for s in (plain, other, again)]
        print(json.dumps({{
            "plain_is_again": loaders[0] is loaders[2],
            "plain_is_other": loaders[0] is loaders[1],
            "other_paths": loaders[1].search_paths,
        }}))
    """)
    assert seen["plain_is_again"]
    assert not seen["plain_is_other"]
    assert str(tmp_path) in seen["other_paths"]


def test_a_process_that_never_imports_botocore_does_not_load_it():
    seen = _python("""
        import json, sys
        print(json.dumps({"loaded": sorted(m for m in sys.modules if m.startswith("botocore"))}))
    """)
    assert seen["loaded"] == []


HANDLERS = """
    import json
    import botocore.session
    from botocore import handlers
    Session = botocore.session.Session
    registered = []
    register_builtin = Session._register_builtin_handlers
    def counting(self, events):
        registered.append(1)
        register_builtin(self, events)
    Session._register_builtin_handlers = counting
    def table(session):
        emitter = session._events._emitter
        return [[id(h) for h in emitter._handlers.prefix_search(spec[0])]
                for spec in handlers.BUILTIN_HANDLERS]
    first, second, third = (Session() for _ in range(3))
    by_botocore = Session.__new__(Session)
    getattr(Session.__init__, "__wrapped__", Session.__init__)(by_botocore)  # botocore's own
    registered_by_sessions = len(registered) - 1  # the last one is botocore's own, just above
    mine = lambda **kwargs: None
    first.register("before-call.ecs.ListTasks", mine)
    own_hooks = botocore.hooks.HierarchicalEmitter()
    given = Session(event_hooks=own_hooks)
    emitted = {name: [r[1] for r in session.get_component("event_emitter").emit(
                   "choose-service-name", service_name="runtime.sagemaker")]
               for name, session in (("second", second), ("botocore", by_botocore))}
    print(json.dumps({
        "same_table": table(second) == table(by_botocore) and table(third) == table(by_botocore),
        "entries": sum(len(entry) for entry in table(by_botocore)),
        "registrations": registered_by_sessions,
        "mine_in_first": id(mine) in [id(h) for h in
                                      first._events._emitter._handlers.prefix_search(
                                          "before-call.ecs.ListTasks")],
        "mine_in_second": id(mine) in [id(h) for h in
                                       second._events._emitter._handlers.prefix_search(
                                           "before-call.ecs.ListTasks")],
        "given_kept": given._original_handler is own_hooks,
        "emitted": emitted,
    }))
"""


def test_sessions_start_from_botocores_builtin_handlers_registered_once():
    seen = _python(HANDLERS)
    assert seen["entries"] > 300  # botocore's table, as its own __init__ registers it
    assert seen["same_table"]
    assert seen["registrations"] == 1  # the template's; the three sessions copied it
    assert seen["emitted"]["second"] == seen["emitted"]["botocore"] == ["sagemaker-runtime"]


def test_handlers_registered_on_a_session_stay_in_it():
    seen = _python(HANDLERS)
    assert seen["mine_in_first"]
    assert not seen["mine_in_second"]
    assert seen["given_kept"]  # a session given its own event_hooks is left as botocore made it


def test_switched_off_every_session_registers_the_handlers():
    seen = _python(HANDLERS, **{SWITCH: "off"})
    assert seen["same_table"]
    assert seen["registrations"] == 3


def test_our_filter_plugins_do_not_import_boto3():
    """A worker that templates any ``booking.aws`` filter loads the collection's filter files
    (they are not loaded in the process that forks the workers, so nothing is inherited). When
    monitoring.py took two metric names from a boto3-importing module_utils, every such task paid
    for importing boto3 and botocore: 57 -> 38 CPU s for a no-op site.yml (2026-12-07)."""
    seen = _python("""
        import json, pathlib, sys
        from importlib import import_module
        from ansible.plugins.loader import init_plugin_loader
        init_plugin_loader([str(pathlib.Path("collections").resolve())])
        filters = sorted(p.stem for p in
                         pathlib.Path("collections/ansible_collections/booking/aws/plugins/filter")
                         .glob("*.py") if p.stem != "__init__")
        for name in filters:
            import_module(f"ansible_collections.booking.aws.plugins.filter.{name}")
        print(json.dumps({"filters": filters,
                          "loaded": sorted(m for m in sys.modules
                                           if m.split(".")[0] in ("boto3", "botocore"))}))
    """)
    assert {"monitoring", "contract"} <= set(seen["filters"])
    assert seen["loaded"] == []


@pytest.mark.parametrize("first", ["boto3", "botocore.session"])
def test_the_hook_is_in_place_whichever_import_comes_first(first):
    seen = _python(f"""
        import json, importlib
        importlib.import_module({first!r})
        import botocore.session
        wrapped = [botocore.session.create_loader, botocore.session.Session.__init__]
        print(json.dumps({{"wrapped": [hasattr(f, "__wrapped__") for f in wrapped]}}))
    """)
    assert seen["wrapped"] == [True, True]


STRATEGY = """
    import importlib.util, json
    import ansible.constants as C
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader(C.COLLECTIONS_PATHS)
    import ansible.collections.list as listing
    import ansible_mitogen.planner as planner
    expected = sorted(p.decode() for p in listing.list_collection_dirs())
    spec = importlib.util.spec_from_file_location(
        "booking_strategy", "plugins/strategy/mitogen_linear.py")
    strategy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(strategy)
    strategy._collection_dirs_once()  # a second call keeps the first list

    calls = []
    listing.list_collection_dirs = lambda *a, **k: calls.append(a) or iter(())
    class Invocation:
        def __init__(self):
            self._extra_sys_paths = set()
    seen = []
    for _ in range(3):  # three module tasks, as three forked workers would plan them
        invocation = Invocation()
        planner._load_collections(invocation)
        seen.append(sorted(invocation._extra_sys_paths))
    print(json.dumps({"expected": expected, "seen": seen, "listed_again": len(calls)}))
"""


def test_the_strategy_lists_the_collections_once_and_hands_each_task_the_same_paths():
    seen = _python(STRATEGY)
    for collection in ("booking/aws", "amazon/aws", "community/aws"):
        assert any(p.endswith(collection) for p in seen["expected"]), collection
    assert seen["seen"] == [seen["expected"]] * 3
    assert seen["listed_again"] == 0


FORK = """
    import gc, importlib.util, json, multiprocessing
    import ansible.constants as C
    from ansible.executor.process.worker import WorkerProcess
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader(C.COLLECTIONS_PATHS)
    for name in ("booking_strategy", "booking_strategy_again"):  # loaded twice: wrapped once
        spec = importlib.util.spec_from_file_location(name, "plugins/strategy/mitogen_linear.py")
        strategy = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(strategy)
    inherited = [object() for _ in range(1000)]  # this process's objects, as the playbook's are
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)
    def worker():
        writer.send(gc.get_freeze_count())
    process = multiprocessing.get_context("fork").Process(target=worker)
    strategy.frozen_while_forking(type(process).start)(process)
    process.join()
    print(json.dumps({
        "in_the_worker": reader.recv(),
        "here_after": gc.get_freeze_count(),
        "wrapped_once": WorkerProcess.start.booking_frozen_while_forking
                        and WorkerProcess.start.__closure__[0].cell_contents.__name__ == "start",
        "exit": process.exitcode,
    }))
"""


def test_workers_are_forked_with_the_controllers_objects_frozen_and_it_collects_as_before():
    seen = _python(FORK)
    assert seen["exit"] == 0
    assert seen["in_the_worker"] > 1000  # everything alive at the fork, the list above included
    assert seen["here_after"] == 0
    assert seen["wrapped_once"]
