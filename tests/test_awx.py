"""AWX as code: the job templates' surveys ask for what the playbooks take, and the execution
environment definition builds a valid context."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = yaml.safe_load((REPO / "awx/job_templates.yml").read_text())["awx_job_templates"]
RELEASE_SPECS = yaml.safe_load(
    (REPO / "roles/release/meta/argument_specs.yml").read_text())["argument_specs"]
RELEASE_VARS = (REPO / "group_vars/all/release.yml").read_text()
# The release role entry point behind each playbook.
ENTRY_POINTS = {"playbooks/deploy.yml": "main", "playbooks/rollback.yml": "rollback"}
TEARDOWN = yaml.safe_load((REPO / "playbooks/teardown.yml").read_text())[0]
MIGRATE_DATA = yaml.safe_load((REPO / "playbooks/migrate-data.yml").read_text())[0]
RESTORE = yaml.safe_load((REPO / "playbooks/restore.yml").read_text())[0]


def _accepted(playbook: str) -> set[str]:
    """Extra variables the playbook reads: its role's inputs, plus the short names
    group_vars/all/release.yml maps onto them (image_tag, revision); for the teardown, the
    switches its play declares and validates."""
    if playbook == "playbooks/teardown.yml":
        return {name for name in TEARDOWN["vars"] if name.startswith("teardown_")}
    if playbook == "playbooks/migrate-data.yml":
        spec = "ansible.builtin.validate_argument_spec"
        [check] = [t for t in MIGRATE_DATA["tasks"] if spec in t]
        return set(check[spec]["argument_spec"])
    if playbook == "playbooks/restore.yml":
        spec = "ansible.builtin.validate_argument_spec"
        [check] = [t for t in RESTORE["tasks"] if spec in t]
        return set(check[spec]["argument_spec"])
    options = set(RELEASE_SPECS[ENTRY_POINTS[playbook]]["options"])
    short = set(re.findall(r"\{\{\s*([a-z_]+)\s*\|", RELEASE_VARS))
    return options | (short - options)


def test_every_template_runs_an_existing_playbook():
    assert {t["name"] for t in TEMPLATES} == {"site", "deploy", "rollback", "teardown",
                                                "migrate-data", "restore", "dr-drill",
                                                "backup-check"}
    for template in TEMPLATES:
        assert (REPO / template["playbook"]).is_file(), template["playbook"]


def test_the_drill_runs_quarterly_and_the_backup_check_every_five_minutes():
    """The plan's quarterly drill; the backup alarms treat 15 minutes without the check's
    figures as breaching, so it must run well within that."""
    schedules = {t["name"]: t["schedule"]["rrule"] for t in TEMPLATES if "schedule" in t}
    assert set(schedules) == {"dr-drill", "backup-check"}
    assert "FREQ=MONTHLY;INTERVAL=3" in schedules["dr-drill"]
    assert "FREQ=MINUTELY;INTERVAL=5" in schedules["backup-check"]
    for rrule in schedules.values():
        assert re.fullmatch(r"DTSTART:\d{8}T\d{6}Z RRULE:FREQ=[A-Z]+;INTERVAL=\d+(;BYDAY=\w+)?",
                            rrule), rrule
    configure = (REPO / "awx/configure.yml").read_text()
    assert "awx.awx.schedule:" in configure
    assert "selectattr('schedule', 'defined')" in configure


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t["survey"]],
                         ids=lambda t: t["name"])
def test_survey_variables_are_inputs_of_the_playbook(template):
    accepted = _accepted(template["playbook"])
    for question in template["survey"]:
        assert question["variable"] in accepted, (template["name"], question["variable"])
        assert question["type"] in {"text", "textarea", "integer", "multiplechoice"}


def test_survey_types_match_the_argument_specs():
    rollback = next(t for t in TEMPLATES if t["name"] == "rollback")
    types = {q["variable"]: q["type"] for q in rollback["survey"]}
    options = RELEASE_SPECS["rollback"]["options"]
    assert options["release_rollback_revision"]["type"] == "int"
    assert types["revision"] == "integer"
    assert options["release_rollback_migrations"]["type"] == "list"
    assert types["release_rollback_migrations"] == "text"  # comma-separated; the role splits it
    deploy = next(t for t in TEMPLATES if t["name"] == "deploy")
    assert deploy["survey"] == [q for q in deploy["survey"] if q["required"]]


def test_teardown_survey_matches_the_playbook_switches():
    teardown = next(t for t in TEMPLATES if t["name"] == "teardown")
    questions = {q["variable"]: q for q in teardown["survey"]}
    [check] = [t for t in TEARDOWN["tasks"] if "ansible.builtin.validate_argument_spec" in t]
    spec = check["ansible.builtin.validate_argument_spec"]["argument_spec"]
    assert set(questions) == set(spec)
    for name, option in spec.items():
        if option["type"] == "bool":
            # AWX hands a multiple choice over as a string; the bool check converts it.
            assert set(questions[name]["choices"]) == {"true", "false"}, name
            assert questions[name]["default"] == str(TEARDOWN["vars"][name]).lower(), name
    assert questions["teardown_confirm"]["required"] is True


def test_workflow_rolls_back_to_the_recorded_release():
    configure = yaml.safe_load((REPO / "awx/configure.yml").read_text())
    [workflow] = [t for t in configure[0]["tasks"] if "awx.awx.workflow_job_template" in t]
    nodes = {n["identifier"]: n for n in workflow["awx.awx.workflow_job_template"][
        "workflow_nodes"]}
    assert nodes["deploy"]["related"]["failure_nodes"] == [{"identifier": "rollback"}]
    assert nodes["rollback"]["extra_data"] == {"release_rollback_target": "current"}
    assert "current" in RELEASE_SPECS["rollback"]["options"]["release_rollback_target"]["choices"]


def test_execution_environment_context_is_created(tmp_path):
    builder = Path(sys.executable).parent / "ansible-builder"
    # --output-filename: without it ansible-builder names the file after the runtime it finds, a
    # Dockerfile where docker is installed and podman not yet (before `make container-setup`).
    proc = subprocess.run([str(builder), "create", "-f", "execution-environment.yml",
                           "-c", str(tmp_path), "--output-filename", "Containerfile"], cwd=REPO,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert (tmp_path / "_build/booking_aws/galaxy.yml").is_file()
    # The shared botocore loader travels too, and the final image installs it.
    assert (tmp_path / "_build/shared-botocore-loader/booking_shared_botocore_loader.pth").is_file()
    assert "pip install --no-cache-dir /tmp/shared-botocore-loader" in containerfile
    # The EE's collections are the versions the repository pins.
    pinned = {c["name"]: c["version"] for c in yaml.safe_load(
        (REPO / "requirements.yml").read_text())["collections"]}
    built = {c["name"]: c.get("version") for c in yaml.safe_load(
        (tmp_path / "_build/requirements.yml").read_text())["collections"]}
    for name, version in pinned.items():
        assert built[name] == version, name
    # amazon.aws asks for aiobotocore, which cannot resolve beside the pinned botocore: the
    # definition leaves it out (tests/container/test_execution_environment.py builds the EE).
    excluded = (tmp_path / "_build/exclude-requirements.txt").read_text().split()
    assert "aiobotocore" in excluded
