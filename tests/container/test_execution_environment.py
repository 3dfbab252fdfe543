"""The AWX execution environment for real: built, then site.yml and deploy.yml run in it as AWX
runs a job - what AWX would run is tested, not only linted (tests/test_awx.py lints it).

The image is built from execution-environment.yml by tools/container/ee.py (`make ee`:
ansible-builder create, podman build; here on the local Debian trixie base, docs/ci.md), or
reused from podman's layer cache. Each job is ansible-runner in the container with AWX's private
data dir (project/, env/extravars, env/envvars, env/passwords, env/cmdline: the vault password
answers `--vault-id local@prompt` as a vault credential does), on the host's network, against an
emulator of this module's own: scripted data plane, the suite's short strict profile. What is
asserted is what AWX reads from ansible-runner (rc, status, the playbook_on_stats event) and the
emulator's state through boto3.

Cost, measured on two cores beside another test run (2026-12-07): see docs/ci.md, "AWX
execution environment".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from container_support import METRICS, REPO, TOOLS, container_env

sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools"))
import release_env as env  # tests/, above
from harness import RemoteEmulator, emulator_process

pytestmark = pytest.mark.usefixtures("podman_ready")

EE = str(TOOLS / "ee.py")
TAG = "ee1a2b3"
JOB_TIMEOUT = 1500


@pytest.fixture(scope="module")
def ee_image() -> str:
    """The EE of this tree, built (a cache hit when nothing changed since the last build)."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, EE, "build"], capture_output=True, text=True,
                          timeout=2400, env=container_env(), check=False)
    assert proc.returncode == 0, proc.stderr[-5000:]
    METRICS["EE build, this run (s)"] = round(time.monotonic() - start, 1)
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RemoteEmulator]:
    """An emulator process of this module's: scripted data plane (records, rollouts on a
    timer), the short strict profile the suite and the molecule scenarios run under."""
    calls = tmp_path_factory.mktemp("ee-emulator") / "calls.jsonl"
    scripted = {name: "" for name in ("BOOKING_EMULATOR_ECS_TASKS", "BOOKING_EMULATOR_RDS",
                                      "BOOKING_EMULATOR_ELASTICACHE", "BOOKING_EMULATOR_ELB",
                                      "BOOKING_EMULATOR_TWILIO")}
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=os.environ.get(
            "BOOKING_EMULATOR_STRICT", "test"), **scripted) as url:
        yield RemoteEmulator(url, calls)


def awx_job(image: str, emulator: RemoteEmulator, data_dir: Path, playbook: str,
            extra_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    """One job in the EE (tools/container/ee.py run): its summary, and its output."""
    ident = data_dir.name
    proc = subprocess.run(
        [sys.executable, EE, "run", playbook, "--image", image, "--data-dir", str(data_dir),
         "--ident", ident, "--emulator-url", emulator.url, "--data-plane", "scripted",
         "--extra-vars", json.dumps(extra_vars or {}), "--quiet",
         "--timeout", str(JOB_TIMEOUT)],
        capture_output=True, text=True, timeout=JOB_TIMEOUT + 120, env=container_env(),
        check=False)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    console = data_dir / "console.log"
    summary["output"] = console.read_text() if console.is_file() else ""
    METRICS[f"EE job {playbook}: wall (s)"] = summary["wall_s"]
    METRICS[f"EE job {playbook}: CPU in the container (s)"] = summary["cpu_s"]
    return summary


def explain(job: dict[str, Any]) -> str:
    return (f"{job['playbook']}: rc={job['rc']} status={job['status']} stats={job['stats']}\n"
            f"{job['output'][-6000:]}")


@pytest.fixture(scope="module")
def site(ee_image: str, emulator: RemoteEmulator,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """site.yml from empty, once."""
    emulator.reset()
    return awx_job(ee_image, emulator, tmp_path_factory.mktemp("ee-jobs") / "site", "site.yml")


@pytest.fixture(scope="module")
def deploy(site: dict[str, Any], ee_image: str, emulator: RemoteEmulator,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """deploy.yml of a tag in the emulator's ECR (put there as CI's push would), once."""
    assert site["rc"] == 0, explain(site)
    env.push(emulator.client, TAG)
    return awx_job(ee_image, emulator, tmp_path_factory.mktemp("ee-jobs") / "deploy",
                   "playbooks/deploy.yml", {"release_registry": "", "image_tag": TAG})


def test_the_ee_carries_the_pinned_toolchain(ee_image: str) -> None:
    """The collections are the versions the repository pins, the Python packages those of
    execution-environment/requirements.txt, and aiobotocore is left out (the definition's
    exclude: it would not resolve beside botocore 1.44)."""
    script = ("ansible-galaxy collection list --format json 2>/dev/null; echo; python3 -c '"
              "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
              "(\"ansible-core\", \"ansible-runner\", \"boto3\", \"botocore\", \"mitogen\")}))'; "
              "python3 -c 'import aiobotocore' 2>/dev/null && echo aiobotocore || true")
    proc = subprocess.run([str(TOOLS / "podman.sh"), "run", "--rm", ee_image, "bash", "-c",
                           script], capture_output=True, text=True, timeout=300,
                          env=container_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    collections_json, versions_json, *rest = [line for line in proc.stdout.splitlines()
                                              if line.strip()]
    installed = {name: info["version"] for path in json.loads(collections_json).values()
                 for name, info in path.items()}
    pinned = {c["name"]: c["version"] for c in yaml.safe_load(
        (REPO / "requirements.yml").read_text())["collections"]}
    for name, version in pinned.items():
        assert installed.get(name) == version, (name, installed)
    assert "booking.aws" in installed
    assert "ansible.posix" in installed
    versions = json.loads(versions_json)
    definition = (REPO / "execution-environment.yml").read_text()
    assert f"ansible-core=={versions['ansible-core']}" in definition
    assert f"ansible-runner=={versions['ansible-runner']}" in definition
    requirements = (REPO / "execution-environment/requirements.txt").read_text()
    for package in ("boto3", "botocore", "mitogen"):
        assert f"{package}=={versions[package]}" in requirements, (package, versions)
    assert rest == [], "aiobotocore is in the EE"


def test_site_converges_from_empty_in_the_ee(site: dict[str, Any],
                                             emulator: RemoteEmulator) -> None:
    assert site["rc"] == 0, explain(site)
    assert site["status"] == "successful", explain(site)
    assert site["stats"]["failures"] == 0, explain(site)
    assert site["stats"]["dark"] == 0, explain(site)
    assert site["stats"]["changed"] > 0, explain(site)
    # The vault credential's prompt was asked and answered (the local vault's secrets are
    # needed by the secrets role).
    assert "Vault password (local):" in site["output"]
    vpcs = emulator.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": [f"{env.PREFIX}-vpc"]}])["Vpcs"]
    assert len(vpcs) == 1
    assert emulator.client("ecs").describe_clusters(clusters=[env.CLUSTER])["clusters"][0][
        "status"] == "ACTIVE"
    # No release yet: the services come with the first deploy.yml.
    assert env.record(emulator.client) == {}


def test_deploy_releases_the_tag_in_the_ee(deploy: dict[str, Any],
                                           emulator: RemoteEmulator) -> None:
    assert deploy["rc"] == 0, explain(deploy)
    assert deploy["status"] == "successful", explain(deploy)
    assert deploy["stats"]["failures"] == 0, explain(deploy)
    assert deploy["stats"]["changed"] > 0, explain(deploy)
    aws = emulator.client
    current = env.record(aws)
    assert current["tag"] == TAG
    image = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{env.PREFIX}:{TAG}"
    assert current["image"] == image
    running = env.running(aws)
    assert running == {name: current["task_definitions"][name] for name in env.SERVICES}
    for name, arn in running.items():
        assert env.image_of(aws, arn) == image, name
        service = env.service(aws, name)
        assert service["status"] == "ACTIVE", name
        assert service["desiredCount"] >= 1, name
