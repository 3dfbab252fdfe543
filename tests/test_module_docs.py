"""Every booking.aws module documents itself in YAML that parses, with the options it takes.

A broken DOCUMENTATION block only prints an error in ansible-lint (which still passes) and
breaks ansible-doc and the argument checks derived from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

MODULES = sorted((Path(__file__).resolve().parents[1]
                  / "collections/ansible_collections/booking/aws/plugins/modules").glob("*.py"))


def _blocks(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text())
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in {"DOCUMENTATION", "EXAMPLES", "RETURN"}}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_documentation_examples_and_return_parse(path):
    blocks = _blocks(path)
    assert set(blocks) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, path.name
    doc = yaml.safe_load(blocks["DOCUMENTATION"])
    assert doc["module"] == path.stem
    assert doc["short_description"]
    assert len(doc["short_description"]) <= 100
    assert isinstance(yaml.safe_load(blocks["EXAMPLES"]), list)
    yaml.safe_load(blocks["RETURN"])
    # The examples call this module with options the documentation declares.
    options = set(doc.get("options", {}))
    if "amazon.aws.tags" in doc.get("extends_documentation_fragment", []):
        options |= {"tags", "resource_tags", "purge_tags"}
    aliases = {a for o in doc.get("options", {}).values() for a in o.get("aliases", [])}
    for example in yaml.safe_load(blocks["EXAMPLES"]):
        args = example.get(f"booking.aws.{path.stem}")
        if isinstance(args, dict):
            assert set(args) <= options | aliases, (example["name"], set(args) - options)
