"""Run ansible-playbook and ad-hoc modules against the test emulator, and read their results."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import Emulator

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


@dataclass
class PlaybookRun:
    args: list[str]
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def totals(self) -> dict[str, int]:
        """The recap's counters summed over hosts (ok, changed, failed, ...)."""
        totals: dict[str, int] = {}
        for counts in self.recap.values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return totals

    @property
    def changed(self) -> int:
        return self.totals().get("changed", 0)

    def explain(self) -> str:
        command = " ".join(self.args)
        return f"$ {command}\nrc={self.rc}\n{self.stdout[-6000:]}\n{self.stderr[-3000:]}"


def parse_recap(stdout: str) -> dict[str, dict[str, int]]:
    _, _, tail = stdout.rpartition("PLAY RECAP")
    recap: dict[str, dict[str, int]] = {}
    for match in _RECAP_LINE.finditer(tail):
        counts = dict(item.split("=") for item in match.group("counts").split())
        recap[match.group("host")] = {k: int(v) for k, v in counts.items()}
    return recap


class AnsibleRunner:
    """Runs Ansible from the repository root with the local inventory aimed at `emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        # A developer's own AWS settings must never leak into a test run.
        for key in [k for k in env if k.startswith("AWS_")]:
            del env[key]
        env.update({
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "BOOKING_EMULATOR_URL": self.emulator.url,
            # No image builds in these tests (tests/container covers the image): site.yml
            # releases only what a test pushed and names.
            "BOOKING_RELEASE_BUILD": "false",
        })
        env.update(extra)
        return env

    def playbook(self, playbook: str, *args: str, inventory: str = "inventories/local",
                 extra_vars: dict[str, Any] | None = None, timeout: int = 600,
                 env: dict[str, str] | None = None) -> PlaybookRun:
        cmd = [str(BIN / "ansible-playbook"), playbook, "-i", inventory, *args]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc = subprocess.run(cmd, cwd=REPO, env=self.env(**(env or {})), capture_output=True,
                              text=True, timeout=timeout, check=False)
        return PlaybookRun(cmd, proc.returncode, proc.stdout, proc.stderr,
                           parse_recap(proc.stdout))

    def module(self, name: str, args: dict[str, Any], *, check: bool = False,
               diff: bool = False) -> dict[str, Any]:
        """Run one module ad hoc on the controller; return its result dict."""
        cmd = [str(BIN / "ansible"), "localhost", "-m", name, "-a", json.dumps(args)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env = self.env(
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            AWS_ENDPOINT_URL=self.emulator.url,
            AWS_ACCESS_KEY_ID="emulator",
            AWS_SECRET_ACCESS_KEY="emulator",
            AWS_REGION="us-east-1",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCALHOST_WARNING="0",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        )
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        try:
            report = json.loads(proc.stdout)
            return report["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"no module result from {cmd}:\n{proc.stdout}\n{proc.stderr}") \
                from exc


def load_contract() -> Any:
    """booking.aws's contract filters (plugins/filter/contract.py), importable as Python."""
    if str(REPO / "collections") not in sys.path:
        sys.path.insert(0, str(REPO / "collections"))
    from ansible_collections.booking.aws.plugins.filter import contract

    return contract


def local_vault_values() -> dict[str, str]:
    """The local example vault's values, decrypted (they are fake: tests look for leaks)."""
    import yaml
    from ansible.parsing.vault import VaultLib, VaultSecret

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))
    raw = yaml.load((REPO / "inventories/local/group_vars/local/vault.yml").read_text(),
                    Loader=_Loader)
    password = (REPO / "inventories/local/vault-password.txt").read_bytes().strip()
    vault = VaultLib([("local", VaultSecret(password))])
    return {name: vault.decrypt(text).decode() for name, text in raw.items()}


@contextmanager
def emulator_process(call_log: Path, **env: str) -> Iterator[str]:
    """A separate emulator process (for settings read at start, like slow creation): its URL."""
    import socket
    import time

    from emulator import is_answering

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tools" / "emulator.py"), "serve", "--port", str(port),
         "--call-log", str(call_log)],
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if is_answering(port, timeout=0.5):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the emulator process did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def create_fargate_cluster(aws: Any, **create: Any) -> dict[str, Any]:
    """ecs.create_cluster(**create) as in an account that has used ECS before.

    On AWS a cluster with FARGATE capacity providers needs ECS's service-linked role, and a role
    created moments ago cannot be assumed yet ("Unable to assume the service linked role"); the
    strict emulator, the suite's default, does the same. Tests of other things than that first run
    make the role (or find it) and retry the create until ECS can assume it, as a re-run would.
    """
    import time

    from botocore.exceptions import ClientError

    try:
        aws("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    except ClientError as error:
        if "has been taken" not in error.response["Error"].get("Message", ""):
            raise
    deadline = time.monotonic() + 60
    while True:
        try:
            return aws("ecs").create_cluster(**create)["cluster"]
        except ClientError as error:
            young = "Unable to assume the service linked role" in error.response["Error"].get(
                "Message", "")
            if not young or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
