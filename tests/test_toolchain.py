"""The pinned toolchain is what is installed, and requirements.yml matches the ansible bundle."""

from __future__ import annotations

import json
import re
import subprocess
from importlib.metadata import version

import yaml
from harness import BIN, REPO


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
