"""`make security` (checkov) checks what it says it checks.

checkov passes a file it cannot read without a word: a GitHub workflow that does not validate
against its bundled workflow schema is skipped (an expression where the schema wants a boolean
was enough), and then "0 failed" means nothing was checked. A Dockerfile's `FROM ${ARG}` is read
without the ARG, so its base-image check (CKV_DOCKER_7) is skipped inline and the pin is held
here instead.
"""

from __future__ import annotations

import re
import subprocess

from harness import REPO

SECURITY_PYTHON = REPO / ".venv-security/bin/python"


def test_checkov_reads_the_workflow_it_is_asked_to_check():
    script = (
        "import sys, yaml\n"
        "from checkov.common.parsers.yaml import loader\n"
        "from checkov.github_actions.utils import is_schema_valid\n"
        "docs = yaml.load_all(open(sys.argv[1]).read(), Loader=loader.SafeLineLoaderGhaSchema)\n"
        "sys.exit(0 if all(map(is_schema_valid, docs)) else 1)\n")
    for workflow in sorted((REPO / ".github/workflows").glob("*.y*ml")):
        result = subprocess.run([str(SECURITY_PYTHON), "-c", script, str(workflow)],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, (
            f"checkov would skip {workflow.name} (it does not validate against checkov's "
            f"workflow schema): {result.stderr[-2000:]}")


def test_the_only_inline_skip_is_the_base_image_and_the_base_is_pinned_by_digest():
    text = (REPO / "Dockerfile").read_text()
    skips = re.findall(r"checkov:skip=(\w+)", text)
    assert skips == ["CKV_DOCKER_7"], skips
    [base] = re.findall(r"^ARG BASE_IMAGE=(\S+)$", text, re.MULTILINE)
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), base
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert {f for f in froms if "$" in f} == {"${BASE_IMAGE}"}, froms
