"""renovate.json covers every pin of the repository (docs/dependencies.md).

Read as Renovate reads it, without Renovate (an npm package of hundreds of MB): each manifest
git tracks is matched by an enabled manager's file patterns (the config's own, else the
manager's default from Renovate's docs, copied below), each regex manager finds the pin it is
for in today's file, and the packages that must move together are in one group. A new
requirements file, a reworded `ARG BASE_IMAGE` line or a new collection makes it fail.
Pure Python, well under a second.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = json.loads((REPO / "renovate.json").read_text())

# Renovate's default managerFilePatterns (docs.renovatebot.com/modules/manager/<name>/), for
# the managers this repository relies on without overriding their patterns.
DEFAULT_PATTERNS = {
    "github-actions": [
        r"/(^|/)(workflow-templates|\.(?:github|gitea|forgejo)/(?:workflows|actions))/.+\.ya?ml$/",
        r"/(^|/)action\.ya?ml$/"],
    "ansible-galaxy": [r"/(^|/)(galaxy|requirements)(\.ansible)?\.ya?ml$/"],
    "pip_requirements": [r"/(^|/)[\w-]*requirements([-.]\w+)?\.(txt|pip)$/"],
    "dockerfile": [r"/(^|/|\.)([Dd]ocker|[Cc]ontainer)file$/",
                   r"/(^|/)([Dd]ocker|[Cc]ontainer)file[^/]*$/"],
}
# Tracked files that pin something, by name.
MANIFEST = re.compile(r"(^|/)(([\w-]*requirements[\w.-]*|constraints[\w-]*)\.(txt|ya?ml)"
                      r"|Dockerfile|execution-environment\.yml|\.github/workflows/.+\.ya?ml)$")
# Pins no Renovate manager reads, each with its reason.
NOT_COVERED = {
    # bindep's system packages come from CentOS Stream's repositories at build time, unpinned.
    "execution-environment/bindep.txt",
}


def _regex(pattern: str) -> re.Pattern[str]:
    """A Renovate pattern ("/.../" is a regex, JavaScript syntax) as a Python regex."""
    assert pattern.startswith("/"), pattern
    assert pattern.endswith("/"), pattern
    return re.compile(pattern[1:-1].replace("(?<", "(?P<"))


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    return [path for path in listed if MANIFEST.search(path)]


def _managers_for(path: str) -> list[str]:
    found = []
    for manager, defaults in DEFAULT_PATTERNS.items():
        settings = CONFIG.get(manager, {})
        if settings.get("enabled", True) and any(
                _regex(p).search(path) for p in settings.get("managerFilePatterns", defaults)):
            found.append(manager)
    for custom in CONFIG.get("customManagers", []):
        if any(_regex(p).search(path) for p in custom["managerFilePatterns"]):
            found.append("custom.regex")
    return found


def test_every_tracked_manifest_has_a_manager():
    manifests = _tracked()
    assert {"requirements.txt", "constraints.txt", "app/requirements.txt", "Dockerfile",
            "requirements.yml", ".github/workflows/ci.yml"} <= set(manifests), manifests
    uncovered = [p for p in manifests if p not in NOT_COVERED and not _managers_for(p)]
    assert uncovered == [], f"no Renovate manager reads {uncovered}"


def _custom_matches(path: str) -> list[dict[str, str]]:
    text = (REPO / path).read_text()
    found = []
    for custom in CONFIG["customManagers"]:
        if any(_regex(p).search(path) for p in custom["managerFilePatterns"]):
            for match_string in custom["matchStrings"]:
                found += [m.groupdict() for m in _regex(f"/{match_string}/").finditer(text)]
    return found


def test_the_regex_managers_find_todays_pins():
    # The Dockerfile's every FROM is ${BASE_IMAGE}: the ARG is the one pin, and the only one.
    [base] = _custom_matches("Dockerfile")
    assert (base["depName"], base["currentValue"]) == ("python", "3.11-slim")
    # Pinned by digest, which Renovate then keeps current (make pin-base-image by hand).
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", base["currentDigest"] or ""), base
    found = {m["depName"]: m["currentValue"] for m in _custom_matches("execution-environment.yml")}
    spec = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    image, tag = spec["images"]["base_image"]["name"].rsplit(":", 1)
    core = spec["dependencies"]["ansible_core"]["package_pip"].split("==")
    runner = spec["dependencies"]["ansible_runner"]["package_pip"].split("==")
    assert found == {image: tag, core[0]: core[1], runner[0]: runner[1]}


def test_what_moves_together_is_one_group():
    groups: dict[str, set[str]] = {}
    for rule in CONFIG["packageRules"]:
        if "groupName" in rule and "matchPackageNames" in rule:
            groups.setdefault(rule["groupName"], set()).update(rule["matchPackageNames"])
    collections = {c["name"] for c in
                   yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]}
    # The ansible package carries ansible-core and these collections (tests/test_toolchain.py).
    assert collections | {"ansible", "ansible-core", "mitogen"} <= groups["ansible bundle"]
    assert {"boto3", "botocore"} <= groups["AWS SDK"]


def _pins(path: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / path).read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==")
            pins[name.split("[")[0].strip().lower()] = version.strip()
    return pins


def test_the_execution_environment_pins_what_the_toolchain_pins():
    """AWX runs what `make test` tested: one pin moved without the other fails here."""
    toolchain = _pins("constraints.txt")
    ee_python = _pins("execution-environment/requirements.txt")
    assert ee_python, "execution-environment/requirements.txt pins nothing"
    assert {name: toolchain.get(name) for name in ee_python} == ee_python
    spec = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    core = spec["dependencies"]["ansible_core"]["package_pip"].split("==")[1]
    assert core == toolchain["ansible-core"]
    collections = {c["name"]: c["version"] for c in
                   yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]}
    ee_collections = {c["name"]: c.get("version") for c in yaml.safe_load(
        (REPO / "execution-environment/requirements.yml").read_text())["collections"]}
    assert {name: ee_collections.get(name) for name in collections} == collections
