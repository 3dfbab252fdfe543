"""Bad input fails early, with one clear message, before any AWS call."""

from __future__ import annotations

import json
import subprocess

import pytest
from harness import BIN, REPO


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"booking_env": "qa"}, "Unknown environment 'qa'"),
        ({"vpc_app_port": "eight thousand"}, "vpc_app_port"),
        ({"vpc_nat_gateway_mode": "sometimes"}, "vpc_nat_gateway_mode"),
        ({"vpc_subnets": {"public": ["10.0.1.0/24"]}}, "private"),
        ({"vpc_tags": ["Project", "booking-api"]}, "vpc_tags"),
        # ecs_service (run by the release role, at the very end) is checked up front too.
        ({"ecs_service_web_cpu": "a lot"}, "ecs_service_web_cpu"),
        ({"ecs_service_exec_enabled": True, "ecs_service_readonly_root_filesystem": True},
         "ECS Exec agent cannot start on a read-only root"),
        # The release answers the web's test-traffic pause after the worker's rollout wait.
        ({"ecs_service_deployment_strategy": "canary",
          "ecs_service_test_traffic_pause_minutes": 30},
         "must be longer than ecs_service_rollout_timeout (1800 s)"),
    ],
    ids=["unknown-environment", "wrong-type", "bad-choice", "missing-suboption", "tags-not-dict",
         "late-role-wrong-type", "exec-on-read-only-root", "pause-shorter-than-rollout"],
)
def test_bad_input_fails_before_any_aws_call(fresh_emulator, ansible, extra_vars, message):
    run = ansible.playbook("site.yml", extra_vars=extra_vars)
    assert run.rc != 0, run.explain()
    assert message in run.output, run.explain()
    assert fresh_emulator.calls == [], "an AWS call was made before the input was refused"
    assert "preflight" in run.output, "the refusal should come from the preflight, up front"


def test_subnet_count_must_match_the_azs(fresh_emulator, ansible):
    subnets = {"public": ["10.0.1.0/24"], "private": ["10.0.10.0/24"],
               "database": ["10.0.100.0/24"]}
    run = ansible.playbook("site.yml", extra_vars={"vpc_subnets": subnets})
    assert run.rc != 0
    assert "give one subnet per AZ" in run.output, run.explain()
    assert fresh_emulator.calls == []


def _inventory_vars(inventory: str) -> dict:
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", inventory, "--list",
         "--playbook-dir", str(REPO)],
        cwd=REPO, capture_output=True, text=True, check=True).stdout
    hostvars = json.loads(out)["_meta"]["hostvars"]
    [host] = hostvars.values()
    return host


@pytest.mark.parametrize(("inventory", "env_name"),
                         [("inventories/staging", "staging"), ("inventories/production", "prod")])
def test_real_aws_inventories_have_no_endpoint_override(inventory, env_name):
    # --playbook-dir adds group_vars/all, as a real run would.
    host = _inventory_vars(inventory)
    assert host["booking_env"] == env_name
    assert host.get("booking_aws_environment_extra", {}) == {}
    assert "AWS_ENDPOINT_URL" not in json.dumps(host)


def test_local_inventory_points_every_call_at_the_emulator():
    host = _inventory_vars("inventories/local")
    assert host["booking_env"] == "local"
    assert "AWS_ENDPOINT_URL" in host["booking_aws_environment_extra"]


def test_roles_hold_nothing_emulator_specific():
    needles = ("127.0.0.1", "localhost", "moto", "emulator", "endpoint_url", "AWS_ENDPOINT_URL")
    offenders = [
        f"{path.relative_to(REPO)}: {needle}"
        for path in (REPO / "roles").rglob("*")
        # What runs: tasks, defaults, vars, templates, specs (READMEs may explain testing).
        if path.is_file() and "molecule" not in path.parts and path.name != "README.md"
        for needle in needles
        if needle in path.read_text(errors="replace")
    ]
    assert offenders == []
