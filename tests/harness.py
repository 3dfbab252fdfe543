"""Run ansible-playbook and ad-hoc modules against the test emulator, and read their results."""

from __future__ import annotations

import atexit
import configparser
import json
import os
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import Call, Emulator, endpoint_client

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Collections whose modules AnsibleRunner.module() runs in their own process, without the CLI.
DIRECT_COLLECTIONS = {"booking.aws", "amazon.aws", "community.aws"}
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


@dataclass
class PlaybookRun:
    args: list[str]
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)
    # The emulator's calls during the run, where a fixture recorded them.
    calls: list[Call] = field(default_factory=list)

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


# The two strategies a run can take: Mitogen's (ansible.cfg's default) and Ansible's own.
STRATEGIES = ("mitogen_linear", "linear")


def default_strategy() -> str:
    """The strategy an ansible-playbook run here takes: ANSIBLE_STRATEGY, else ansible.cfg's."""
    config = configparser.ConfigParser()
    config.read(REPO / "ansible.cfg")
    return os.environ.get("ANSIBLE_STRATEGY") or config.get("defaults", "strategy")


def other_strategy() -> str:
    """The strategy the suite does not run under by default, for the run that keeps it working."""
    return next(s for s in STRATEGIES if s != default_strategy())


def strategy_seen_at_vvv(output: str) -> str:
    """Which strategy ran a `-vvv` playbook: Ansible's own copies each module to the host as an
    AnsiballZ file and prints the commands; Mitogen calls the module in its interpreter."""
    return "linear" if "/AnsiballZ_" in output else "mitogen_linear"


MODULE_TIMEOUT = 120
MODULE_PYTHONPATH = os.pathsep.join(
    filter(None, [str(REPO / "collections"), os.environ.get("PYTHONPATH")]))


class ModuleForkServer:
    """The client side of tests/module_forkserver.py: one server per test process, started at
    its first module call; each call is a child forked from it."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": MODULE_PYTHONPATH}
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("module_forkserver.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, env=env, text=True)
        self._answer()  # {"ready": true} once warm
        # Stopped and waited for at exit, so that its CPU time counts in the suite's.
        atexit.register(self.close)

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=MODULE_TIMEOUT)

    def _answer(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], MODULE_TIMEOUT)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            self._proc.kill()
            raise RuntimeError(f"the module fork server did not answer within {MODULE_TIMEOUT} s")
        return json.loads(line)

    def run(self, module: str, stdin: str, env: dict[str, str]) -> tuple[int, str, str]:
        """Run `module` (dotted path) as __main__ in a fresh child: (exit code, stdout, stderr)."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"module": module, "args": stdin, "env": env,
                                           "cwd": str(REPO)}) + "\n")
        self._proc.stdin.flush()
        answer = self._answer()
        return answer["rc"], answer["stdout"], answer["stderr"]


_FORKSERVER: ModuleForkServer | None = None


def module_forkserver() -> ModuleForkServer:
    global _FORKSERVER
    if _FORKSERVER is None or _FORKSERVER._proc.poll() is not None:
        _FORKSERVER = ModuleForkServer()
    return _FORKSERVER


class AnsibleRunner:
    """Runs Ansible from the repository root with the local inventory aimed at `emulator`."""

    def __init__(self, emulator: Emulator | RemoteEmulator) -> None:
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
            # The test emulators' data plane (make exports `real`, its default, for make site):
            # the local inventory smoke-tests through the load balancer only on the real one.
            "BOOKING_EMULATOR_DATA_PLANE": "scripted",
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
        """Run one module on the controller against the emulator; return its result dict.

        A collection module (booking.aws, amazon.aws, community.aws) runs the way Ansible runs it
        on the controller, minus the CLI: its own Python process, its arguments as Ansible hands
        them over (check mode and diff as `_ansible_check_mode` / `_ansible_diff`), so argument
        specs, check mode, diff and no_log are the module's own. The process is a child forked
        from a server that has imported ansible's module utils and boto3 and loaded the AWS
        models once (tests/module_forkserver.py): about 0.2 s a call (0.07 s of CPU), against
        1 s (0.5 s of CPU) for a new interpreter and 2 s for `ansible localhost -m`, over
        several hundred calls in the suite. BOOKING_TEST_MODULES_VIA=process starts a new
        interpreter per call, BOOKING_TEST_MODULES_VIA=ansible runs every call through `ansible`
        ad hoc; tests/test_toolchain.py holds the three ways to the same answers.
        """
        collection = name.rsplit(".", 1)[0]
        if (os.environ.get("BOOKING_TEST_MODULES_VIA") == "ansible"
                or collection not in DIRECT_COLLECTIONS):
            return self.module_via_ansible(name, args, check=check, diff=diff)
        return self.module_direct(name, args, check=check, diff=diff)

    def _module_env(self) -> dict[str, str]:
        return self.env(
            AWS_ENDPOINT_URL=self.emulator.url,
            AWS_ACCESS_KEY_ID="emulator",
            AWS_SECRET_ACCESS_KEY="emulator",
            AWS_REGION="us-east-1",
        )

    def module_direct(self, name: str, args: dict[str, Any], *, check: bool = False,
                      diff: bool = False) -> dict[str, Any]:
        """The module's own process: a child forked from a warm server (tests/module_forkserver.py),
        or with BOOKING_TEST_MODULES_VIA=process a new `python -m ansible_collections...`."""
        namespace, collection, module = name.split(".")
        payload = {"ANSIBLE_MODULE_ARGS": {
            **args, "_ansible_check_mode": check, "_ansible_diff": diff,
            "_ansible_module_name": name, "_ansible_verbosity": 0}}
        env = self._module_env()
        # Our collection from the repository, amazon.aws and community.aws from the ansible
        # bundle: one namespace package, as Ansible's collection loader makes it.
        env["PYTHONPATH"] = MODULE_PYTHONPATH
        dotted = f"ansible_collections.{namespace}.{collection}.plugins.modules.{module}"
        if os.environ.get("BOOKING_TEST_MODULES_VIA") == "process":
            proc = subprocess.run([sys.executable, "-m", dotted], input=json.dumps(payload),
                                  cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=MODULE_TIMEOUT, check=False)
            rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        else:
            rc, stdout, stderr = module_forkserver().run(dotted, json.dumps(payload), env)
        try:
            result = json.loads(stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"failed": True, "changed": False, "rc": rc,
                    "msg": "MODULE FAILURE", "module_stdout": stdout, "module_stderr": stderr}
        result.setdefault("changed", False)
        if rc != 0:
            result.setdefault("failed", True)
        return result

    def module_via_ansible(self, name: str, args: dict[str, Any], *, check: bool = False,
                           diff: bool = False) -> dict[str, Any]:
        """Run one module ad hoc (`ansible localhost -m`); return its result dict."""
        cmd = [str(BIN / "ansible"), "localhost", "-m", name, "-a", json.dumps(args)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env = {**self._module_env(),
               "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
               "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
               "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
               "ANSIBLE_LOCALHOST_WARNING": "0",
               "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0"}
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
        # On the real data plane it first stops its tasks as ECS does (SIGTERM, then SIGKILL
        # after each container's stopTimeout) and its servers.
        proc.wait(timeout=200)


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


class RemoteEmulator:
    """An emulator in its own process (emulator_process: settings read at start, like strict
    holds or slow creation) with the in-process Emulator's test API: url, client(), calls, reset().
    """

    def __init__(self, url: str, call_log: Path) -> None:
        self.url = url
        self.call_log = call_log

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return endpoint_client(self.url, service, region)

    @property
    def calls(self) -> list[Call]:
        """Every AWS call answered since the start (or the last reset), from the call log."""
        if not self.call_log.exists():
            return []
        return [Call(**json.loads(line)) for line in self.call_log.read_text().splitlines()]

    def reset(self) -> None:
        """Forget every emulated resource and every recorded call."""
        import urllib.request

        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        # Generous: dropping a converged stack's backends took over 10 s on CI's loaded cores.
        with urllib.request.urlopen(request, timeout=120):
            pass
        self.call_log.write_text("")
