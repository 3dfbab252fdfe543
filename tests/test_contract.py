"""The environment contract: shared names held once, inventories that keep their settings.

- the contract's filters (collections/.../plugins/filter/contract.py), as unit tests;
- the registry of the app's settings against what the app reads (app/booking_api/settings.py);
- the served name: one variable moves the DNS record, the certificate, ALLOWED_HOSTS (the
  Parameter Store value) and the CSRF origins (the task definitions) together, for staging and
  production, rendered without AWS (tests/playbooks/render.yml);
- inventories as folders: each loads with the values that make it its environment, none holds
  both group_vars/X.yml and group_vars/X/, and the documented vault step keeps staging's values;
- the role list: site.yml and teardown.yml follow the contract's booking_roles.

No emulator: every run here is local (about 25 s in all, ansible-playbook start-up mostly).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import load_contract

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IDENTITY = {"account": "123456789012", "arn": "arn:aws:iam::123456789012:user/ci"}
# Values for a vault that a test inventory does not have (never real secrets).
FAKE_VAULT = {f"vault_booking_{name}": f"render-only-{name}" for name in (
    "django_secret_key", "db_password", "redis_auth_token", "twilio_sid", "twilio_token",
    "twilio_phone_number")}


contract = load_contract()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_DEPRECATION_WARNINGS": "0"})
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=180, check=False)


# --- the filters -------------------------------------------------------------------------------

def test_resource_names_spell_each_shared_name_from_the_prefix():
    names = contract.resource_names("booking-api-prod")
    assert names["cluster"] == "booking-api-prod-cluster"
    assert names["services"] == {"web": "booking-api-prod-web", "worker": "booking-api-prod-worker"}
    assert names["task_families"]["migrate"] == "booking-api-prod-migrate"
    assert names["app_log_group"] == "/ecs/booking-api-prod"
    assert names["audit_log_group"] == "/audit/booking-api-prod"
    assert names["db_instance"] == "booking-api-prod-postgres"
    assert names["web_deployment_alarms"] == ["booking-api-prod-web-5xx-rate",
                                              "booking-api-prod-web-unhealthy-hosts"]
    assert contract.redis_members("booking-api-prod", "2") == [
        "booking-api-prod-redis-001", "booking-api-prod-redis-002"]


def test_bucket_names_end_in_the_account():
    assert contract.bucket_names("booking-api-prod", IDENTITY) == {
        part: f"booking-api-prod-{part}-123456789012"
        for part in ("static", "media", "backup", "logs")}
    with pytest.raises(Exception, match="'account' and 'arn'"):
        contract.bucket_names("booking-api-prod", {"account": "1"})


@pytest.mark.parametrize("prefix", ["", "booking-api-", None, 3])
def test_resource_names_refuse_a_prefix_that_is_not_one(prefix):
    with pytest.raises(Exception, match="name prefix"):
        contract.resource_names(prefix)


def test_settings_registry_names_each_parameter_its_writer_and_variable():
    settings = contract.app_settings("/booking-api/staging/")
    assert settings["database_url"] == {
        "name": "database_url", "parameter": "/booking-api/staging/database_url",
        "env": "DATABASE_URL", "writer": "rds", "secret": True,
        "description": settings["database_url"]["description"]}
    assert settings["redis_url"]["writer"] == "elasticache"
    assert settings["allowed_hosts"]["secret"] is False
    assert {item["writer"] for item in settings.values()} == {"secrets", "rds", "elasticache"}
    with pytest.raises(Exception, match="/<app>/<env>"):
        contract.app_settings("booking-api/staging")


def test_every_setting_is_read_by_the_app_under_its_variable():
    source = (REPO / "app/booking_api/settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', source))
    for item in contract.app_settings("/booking-api/prod").values():
        assert item["env"] in read, f"the app does not read {item['env']} ({item['parameter']})"


def test_served_names_put_the_served_host_first_and_make_its_https_origin():
    served = contract.served_names("api.example.org", ["localhost", "api.example.org"])
    assert served == {"allowed_hosts": ["api.example.org", "localhost"],
                      "csrf_trusted_origins": ["https://api.example.org"]}
    for bad in ("", "https://api.example.org", "api.example.org:443"):
        with pytest.raises(Exception, match="bare host name"):
            contract.served_names(bad)


def test_task_secrets_reference_every_setting_by_arn_sorted_by_variable():
    settings = contract.app_settings("/booking-api/prod")
    secrets = contract.task_secrets(settings, IDENTITY, "eu-west-1")
    assert [s["name"] for s in secrets] == sorted(item["env"] for item in settings.values())
    arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/booking-api/prod/database_url"
    assert {"name": "DATABASE_URL", "valueFrom": arn} in secrets
    china_caller = {"account": "1", "arn": "arn:aws-cn:iam::1:root"}
    china = contract.parameter_arn("/a/b", china_caller, "cn-north-1")
    assert china == "arn:aws-cn:ssm:cn-north-1:1:parameter/a/b"
    role = contract.aws_arn(IDENTITY, "iam", "", "role/booking-api-prod-task")
    assert role == "arn:aws:iam::123456789012:role/booking-api-prod-task"
    with pytest.raises(Exception, match="'account' and 'arn'"):
        contract.aws_arn({}, "iam", "", "role/x")


def test_parameter_requests_refuse_a_forgotten_or_unknown_setting():
    settings = contract.app_settings("/booking-api/prod")
    values = {"django_secret_key": "k", "allowed_hosts": "a", "twilio_sid": "s",
              "twilio_token": "t", "twilio_phone_number": "p"}
    requests = contract.parameter_requests(settings, values, "secrets", "alias/aws/ssm", {"A": "b"})
    by_name = {r["name"].rsplit("/", 1)[1]: r for r in requests}
    assert set(by_name) == set(values)
    assert by_name["allowed_hosts"]["type"] == "String"
    assert "key_id" not in by_name["allowed_hosts"]
    assert by_name["twilio_token"]["type"] == "SecureString"
    assert by_name["twilio_token"]["tags"] == {"A": "b", "Name": "/booking-api/prod/twilio_token"}
    forgotten = {k: v for k, v in values.items() if k != "twilio_token"}
    with pytest.raises(Exception, match=r"no value for \['twilio_token'\]"):
        contract.parameter_requests(settings, forgotten, "secrets", "alias/aws/ssm", {})
    with pytest.raises(Exception, match=r"no such setting for \['db_password'\]"):
        contract.parameter_requests(settings, {**values, "db_password": "x"}, "secrets",
                                    "alias/aws/ssm", {})


# --- the served name, rendered per inventory ---------------------------------------------------

def _render(inventory: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    output = tmp_path / f"render-{Path(inventory).name}-{len(extra)}.json"
    extra_vars = {**FAKE_VAULT, "booking_aws_caller": IDENTITY, "render_output": str(output),
                  **extra}
    run = _run(str(BIN / "ansible-playbook"), "tests/playbooks/render.yml", "-i", inventory,
               "-e", json.dumps(extra_vars))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return json.loads(output.read_text())


def _served_everywhere(rendered: dict[str, Any], parameter_path: str) -> dict[str, Any]:
    """Every place the served name reaches, as rendered."""
    web = rendered["task_definitions"]["web"]["container_definitions"][0]
    environment = {item["name"]: item["value"] for item in web["environment"]}
    return {
        "dns": rendered["dns_record_name"],
        "certificate": rendered["alb_certificate_domain"],
        "allowed_hosts": rendered["secrets"]["plain_values"][f"{parameter_path}/allowed_hosts"],
        "csrf": environment["DJANGO_CSRF_TRUSTED_ORIGINS"],
        "smoke": rendered["release_smoke_test_url"],
        "smoke_api": rendered["release_smoke_test_api_url"],
    }


@pytest.mark.parametrize(("inventory", "env", "served"), [
    ("inventories/staging", "staging", "api.staging.booking-api.example.com"),
    ("inventories/production", "prod", "api.booking-api.example.com"),
])
def test_one_zone_moves_record_certificate_allowed_hosts_and_csrf_together(
        inventory, env, served, tmp_path):
    path = f"/booking-api/{env}"
    before = _served_everywhere(_render(inventory, tmp_path), path)
    assert before == {"dns": served, "certificate": served, "allowed_hosts": served,
                      "csrf": f"https://{served}", "smoke": f"https://{served}/health/",
                      "smoke_api": f"https://{served}/api/salons/"}

    moved = served.replace("booking-api.example.com", "shop.example.org")
    rendered = _render(inventory, tmp_path, booking_dns_zone="shop.example.org")
    after = _served_everywhere(rendered, path)
    assert after == {"dns": moved, "certificate": moved, "allowed_hosts": moved,
                     "csrf": f"https://{moved}", "smoke": f"https://{moved}/health/",
                     "smoke_api": f"https://{moved}/api/salons/"}


def test_task_definitions_read_every_setting_from_its_registry_parameter(tmp_path):
    rendered = _render("inventories/staging", tmp_path)
    settings = contract.app_settings("/booking-api/staging")
    for part in ("web", "worker", "migrate"):
        [container] = rendered["task_definitions"][part]["container_definitions"]
        secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
        assert secrets == {
            item["env"]: contract.parameter_arn(item["parameter"], IDENTITY, "us-east-1")
            for item in settings.values()}, part
    # The secrets role writes exactly its share of the registry; rds and elasticache the URLs.
    assert sorted(rendered["secrets"]["parameters"]) == sorted(
        item["parameter"] for item in settings.values() if item["writer"] == "secrets")


# --- inventories -------------------------------------------------------------------------------

INVENTORIES = {
    # inventory: (group, values that make it that environment)
    "inventories/local": ("local", {"booking_env": "local", "dns_create_zone": True}),
    "inventories/staging": ("staging", {"booking_env": "staging", "vpc_nat_gateway_mode": "single",
                                        "rds_multi_az": False,
                                        "vpc_flow_logs_traffic_type": "REJECT",
                                        # in production's account: no second trail (audit.yml)
                                        "booking_owns_account": False}),
    "inventories/production": ("prod", {"booking_env": "prod", "audit_config_enabled": True,
                                        "booking_owns_account": True}),
}


def _host_vars(inventory: str | Path, *extra: str) -> dict[str, Any]:
    run = _run(str(BIN / "ansible-inventory"), "-i", str(inventory), "--playbook-dir", str(REPO),
               "--list", *extra)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    [host_vars] = data["_meta"]["hostvars"].values()
    return host_vars


@pytest.mark.parametrize("inventory", sorted(INVENTORIES))
def test_each_inventory_loads_with_the_values_that_make_it_its_environment(inventory):
    group, expected = INVENTORIES[inventory]
    host_vars = _host_vars(inventory)
    assert {key: host_vars.get(key) for key in expected} == expected
    assert (REPO / inventory / "group_vars" / group / "main.yml").is_file()


def test_no_group_vars_holds_both_a_file_and_a_folder_of_one_name():
    # Ansible's vars loader (DataLoader.find_vars_files) takes the folder and ignores the file.
    for group_vars in [*REPO.glob("inventories/*/group_vars"), REPO / "group_vars"]:
        for entry in group_vars.iterdir():
            if entry.suffix in (".yml", ".yaml", ".json"):
                assert not (group_vars / entry.stem).exists(), (
                    f"{entry} next to {group_vars / entry.stem}/: the file is silently ignored")


def test_following_the_vault_instructions_for_staging_keeps_every_staging_value(tmp_path):
    # docs/configuration.md: ansible-vault create ... group_vars/staging/vault.yml
    documented = (REPO / "docs/configuration.md").read_text()
    assert "inventories/staging/group_vars/staging/vault.yml" in documented
    assert "--vault-id staging@prompt --encrypt-vault-id staging" in documented
    inventory = tmp_path / "staging"
    subprocess.run(["cp", "-r", str(REPO / "inventories/staging"), str(inventory)], check=True)
    password = tmp_path / "staging-password"
    password.write_text("test-only-staging-vault-password\n")
    vault = inventory / "group_vars/staging/vault.yml"
    vault.write_text(yaml.safe_dump(FAKE_VAULT))
    # As documented, with a password file for the prompt (`create` would open an editor).
    encrypted = _run(str(BIN / "ansible-vault"), "encrypt", "--vault-id", f"staging@{password}",
                     "--encrypt-vault-id", "staging", str(vault))
    assert encrypted.returncode == 0, encrypted.stderr
    assert vault.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;staging")

    host_vars = _host_vars(inventory, "--vault-id", f"staging@{password}")
    _, expected = INVENTORIES["inventories/staging"]
    assert {key: host_vars.get(key) for key in expected} == expected
    assert host_vars["vault_booking_twilio_token"] == FAKE_VAULT["vault_booking_twilio_token"]


# --- the role list -----------------------------------------------------------------------------

def _imports(playbook: str) -> list[tuple[str, str]]:
    """(role, entry point) of each import_role of the playbook's first play, in order."""
    [play] = yaml.safe_load((REPO / playbook).read_text())[:1]
    out = []
    for task in play["tasks"]:
        spec = task.get("ansible.builtin.import_role")
        if spec and spec["name"] != "preflight":
            out.append((spec["name"], spec.get("tasks_from", "main")))
    return out


def _booking_roles() -> list[str]:
    return yaml.safe_load((REPO / "group_vars/all/main.yml").read_text())["booking_roles"]


def test_site_runs_the_contracts_roles_in_its_order():
    order = [role for role, entry in _imports("playbooks/site.yml") if entry != "validate"]
    first_seen = list(dict.fromkeys(order))
    # ecs_service is run by the release role (between the migration and the smoke test).
    assert first_seen == [r for r in _booking_roles() if r != "ecs_service"]
    release = (REPO / "roles/release/tasks/main.yml").read_text()
    assert "name: ecs_service" in release


def test_teardown_removes_the_contracts_roles_in_reverse_order():
    order = [role for role, _ in _imports("playbooks/teardown.yml")]
    # Slow deletions start early; each role is finished (its last step) in reverse order.
    last_seen = list(reversed(dict.fromkeys(reversed(order))))
    with_absent = [r for r in reversed(_booking_roles())
                   if (REPO / "roles" / r / "tasks/absent.yml").is_file()]
    assert last_seen == with_absent
    assert "booking_roles | reverse" in (REPO / "playbooks/teardown.yml").read_text()
