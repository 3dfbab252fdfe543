"""The pinned toolchain is what is installed, and requirements.yml matches the ansible bundle."""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib.metadata import version

import yaml
from harness import BIN, REPO, module_forkserver


def _pins(path):
    pins = {}
    for line in (REPO / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, pinned = line.partition("==")
            assert sep, f"{path}: '{line}' is not pinned to an exact version"
            pins[re.sub(r"\[.*\]", "", name).lower()] = pinned
    return pins


def test_every_requirement_is_pinned_and_installed():
    for name, pinned in _pins("requirements.txt").items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def test_requirements_are_in_the_constraints_lock():
    locked = _pins("constraints.txt")
    for name, pinned in _pins("requirements.txt").items():
        assert locked.get(name) == pinned, f"constraints.txt is stale for {name}: run make lock"


def test_requirements_yml_names_the_collections_the_bundle_carries():
    listed = json.loads(subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "list", "--format", "json"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout)
    installed = {}
    for collections in listed.values():
        for name, info in collections.items():
            installed.setdefault(name, info["version"])
    wanted = yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]
    assert wanted, "requirements.yml lists no collections"
    for entry in wanted:
        assert installed.get(entry["name"]) == entry["version"], (
            f"requirements.yml pins {entry['name']} {entry['version']} but the venv has "
            f"{installed.get(entry['name'])}")


def test_our_collection_is_found_by_its_fully_qualified_name():
    doc = subprocess.run(
        [str(BIN / "ansible-doc"), "booking.aws.ec2_vpc_flow_log", "--json"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert "ec2_vpc_flow_log" in doc


def test_xdist_groups_keep_a_group_on_one_worker_in_file_order(tmp_path):
    """make test-unit runs `--dist loadgroup` and tests/conftest.py makes each file a group, the
    site stack's two files one group: each group on one worker, in file order. pytest 9.2 broke
    this silently with pytest-xdist 3.8 (xdist sets Item._nodeid, which pytest 9.2 no longer
    reads: every test was scheduled alone), so the pins are held to it here."""
    (tmp_path / "conftest.py").write_text(
        "import pytest\n"
        "def pytest_itemcollected(item):\n"
        "    group = 'pair' if item.path.name in ('test_a.py', 'test_b.py') else item.path.name\n"
        "    item.add_marker(pytest.mark.xdist_group(group))\n")
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"test_{name}.py").write_text("".join(
            f"def test_{name}{i}(worker_id):\n"
            f"    with open(f'ran-{{worker_id}}.txt', 'a') as ran:\n"
            f"        ran.write('{name}{i}\\n')\n"
            for i in range(6)))
    proc = subprocess.run(
        [str(BIN / "python"), "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q",
         "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = {path.stem: path.read_text().split() for path in tmp_path.glob("ran-*.txt")}
    assert sum(map(len, ran.values())) == 24, ran
    worker_of = {name: {w for w, tests in ran.items() if any(t[0] == name for t in tests)}
                 for name in "abcd"}
    assert all(len(w) == 1 for w in worker_of.values()), worker_of
    assert worker_of["a"] == worker_of["b"], worker_of
    pair = [t for t in ran[worker_of["a"].pop()] if t[0] in "ab"]
    assert pair == [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)], pair


def test_a_module_answers_the_same_run_directly_or_through_ansible(ansible, fresh_emulator,
                                                                  monkeypatch):
    """AnsibleRunner.module() runs collection modules in their own process, without the CLI
    (tests/harness.py): a child of the warm fork server, or a new interpreter
    (BOOKING_TEST_MODULES_VIA=process). The answers, failures and check mode are those of
    `ansible -m` either way."""
    module = "booking.aws.cloudwatch_log_group"
    args = {"name": "/toolchain/direct", "retention_days": 7, "tags": {"A": "1"}}
    steps = [
        ("check", args, {"check": True, "diff": True}),
        ("create", args, {"diff": True}),
        ("again", args, {}),
        ("bad input", {**args, "retention_days": "many"}, {}),
    ]

    def in_new_interpreter(step_args, flags):
        with monkeypatch.context() as patched:
            patched.setenv("BOOKING_TEST_MODULES_VIA", "process")
            return ansible.module_direct(module, step_args, **flags)

    for label, step_args, flags in steps:
        forked = ansible.module_direct(module, step_args, **flags)
        # The same call again in a new interpreter, then through the CLI (the first call's
        # change is done by then).
        process = in_new_interpreter(step_args, flags)
        via_cli = ansible.module_via_ansible(module, step_args, **flags)
        if label in ("check", "again", "bad input"):
            for key in ("changed", "failed", "diff", "msg"):
                assert forked.get(key) == process.get(key) == via_cli.get(key), (
                    label, key, forked, process, via_cli)
        else:
            assert forked["changed"] is True, forked
            assert process["changed"] is False, process
            assert via_cli["changed"] is False, via_cli
    assert "retention_days" in ansible.module_direct(
        module, {**args, "retention_days": "many"})["msg"]


def test_each_forked_module_call_has_its_own_stdin_output_and_exit_code():
    """The fork server's children (tests/module_forkserver.py) behave as processes: what a call
    reads, prints and exits with is its own, and a failing call leaves the server serving."""
    server = module_forkserver()
    env = {"PATH": os.environ.get("PATH", "")}
    assert server.run("json.tool", '{"b": 1}', env) == (0, '{\n    "b": 1\n}\n', "")
    rc, stdout, stderr = server.run("json.tool", "not json", env)
    assert (rc, stdout) == (1, "")
    assert "Expecting value" in stderr
    assert server.run("json.tool", "[2]", env)[:2] == (0, "[\n    2\n]\n")
