"""The secrets role with the local vault: no value in any output, even at -vvv; right values stored.

Runs tests/playbooks/secrets.yml (preflight + secrets) on the local inventory against the
in-process emulator, then reads the parameters back decrypted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = "tests/playbooks/secrets.yml"
VAULT_ID = "local@inventories/local/vault-password.txt"
PATH = "/booking-api/local"
# Every example value in the local vault starts with this; none may show up in any output.
FAKE_PREFIX = "local-only-not-a-secret-"
# ... but for the Twilio account SID and sender, which have the shape of Twilio's test credentials
# (the emulator's Twilio stub answers for those only, as Twilio does: tools/twilio_stub.py).
TWILIO_TEST_SHAPES = {"vault_booking_twilio_sid": r"AC[0-9a-f]{32}",
                      "vault_booking_twilio_phone_number": r"\+15005550006",
                      # ... and for the data migration's source URL, whose password is fake.
                      "vault_booking_migration_source_url":
                          r"postgres://legacy:local-only-not-a-secret-legacy@[a-z0-9.-]+:5432/legacy"}


class _VaultLoader(yaml.SafeLoader):
    """Reads vault.yml keeping each `!vault` value as its ciphertext."""


_VaultLoader.add_constructor("!vault", lambda loader, node: loader.construct_scalar(node))


def _vault_ciphertexts() -> dict[str, str]:
    """The local vault's variables, each with its (still encrypted) `!vault` text."""
    text = (REPO / "inventories/local/group_vars/local/vault.yml").read_text()
    return yaml.load(text, Loader=_VaultLoader)


@pytest.fixture(scope="module")
def vault_values() -> dict[str, str]:
    password = (REPO / "inventories/local/vault-password.txt").read_bytes().strip()
    vault = VaultLib([("local", VaultSecret(password))])
    raw = _vault_ciphertexts()
    values = {name: vault.decrypt(ciphertext).decode() for name, ciphertext in raw.items()}
    assert len(values) == 7
    assert all(v.startswith(FAKE_PREFIX) or re.fullmatch(TWILIO_TEST_SHAPES.get(n, "(?!)"), v)
               for n, v in values.items()), "the local vault must be fake"
    return values


def _assert_no_secret_in(run, vault_values):
    for name, value in vault_values.items():
        assert value not in run.output, f"{name}'s value appears in the output"
    assert FAKE_PREFIX not in run.output, "part of a vault value appears in the output"


def _parameters(aws):
    found = aws("ssm").get_parameters_by_path(Path=PATH, WithDecryption=True)["Parameters"]
    return {p["Name"].rsplit("/", 1)[1]: (p["Type"], p["Value"]) for p in found}


@pytest.fixture(scope="module")
def converged(emulator, ansible, vault_values):
    emulator.reset()
    run = ansible.playbook(PLAYBOOK, "-vvv", "--vault-id", VAULT_ID)
    assert run.rc == 0, run.explain()
    return run


def test_no_vault_value_appears_even_at_vvv(converged, vault_values):
    assert converged.changed > 0
    assert "<redacted>" not in converged.output  # sanity: the run printed real -vvv output
    # -vvv's per-task line, printed by either strategy (linear, mitogen_linear).
    assert "task path:" in converged.output
    _assert_no_secret_in(converged, vault_values)


def test_parameters_hold_the_decrypted_vault_values(emulator, converged, vault_values):
    stored = _parameters(emulator.client)
    # The role's share of the registry; the database password and Redis token are the rds and
    # elasticache roles' (inside the URLs they publish), not parameters of their own, and the
    # migration's source URL is the data_migration role's (playbooks/migrate-data.yml).
    expected = {name.removeprefix("vault_booking_"): ("SecureString", value)
                for name, value in vault_values.items()
                if name not in ("vault_booking_db_password", "vault_booking_redis_auth_token",
                                "vault_booking_migration_source_url")}
    expected["allowed_hosts"] = (
        "String", "api.local.booking-api.example.com,localhost,127.0.0.1")
    assert stored == expected


def test_secure_strings_use_the_aws_managed_key_and_carry_the_tags(emulator, converged):
    ssm = emulator.client("ssm")
    meta = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Path", "Values": [PATH]}])["Parameters"]
    assert len(meta) == 5
    for parameter in meta:
        if parameter["Type"] == "SecureString":
            assert parameter["KeyId"] == "alias/aws/ssm"
        tags = {t["Key"]: t["Value"] for t in ssm.list_tags_for_resource(
            ResourceType="Parameter", ResourceId=parameter["Name"])["TagList"]}
        assert tags == {"Project": "booking-api", "Environment": "local", "ManagedBy": "ansible",
                        "Name": parameter["Name"]}


def test_second_run_changes_nothing(ansible, converged, vault_values):
    run = ansible.playbook(PLAYBOOK, "--vault-id", VAULT_ID)
    assert run.rc == 0, run.explain()
    assert run.changed == 0, run.explain()
    _assert_no_secret_in(run, vault_values)


def test_check_reports_a_value_changed_behind_ansibles_back_and_a_run_repairs_it(
        emulator, ansible, converged, vault_values):
    ssm = emulator.client("ssm")
    ssm.put_parameter(Name=f"{PATH}/twilio_token", Value="tampered-value", Type="SecureString",
                      KeyId="alias/aws/ssm", Overwrite=True)

    checked = ansible.playbook(PLAYBOOK, "--check", "--diff", "-vvv", "--vault-id", VAULT_ID)
    assert checked.rc == 0, checked.explain()
    assert checked.changed == 1, checked.explain()
    _assert_no_secret_in(checked, vault_values)
    assert "tampered-value" not in checked.output
    assert _parameters(emulator.client)["twilio_token"][1] == "tampered-value", "check mode wrote"

    repaired = ansible.playbook(PLAYBOOK, "--vault-id", VAULT_ID)
    assert repaired.rc == 0, repaired.explain()
    assert repaired.changed == 1, repaired.explain()
    _assert_no_secret_in(repaired, vault_values)
    assert _parameters(emulator.client)["twilio_token"][1] == vault_values[
        "vault_booking_twilio_token"]


def test_a_missing_vault_variable_stops_the_run_before_any_aws_call(emulator, ansible, tmp_path):
    # An inventory like local's whose vault lacks vault_booking_twilio_token.
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "local").mkdir(parents=True)
    (inventory / "hosts.yml").write_text((REPO / "inventories/local/hosts.yml").read_text())
    for name in ("main.yml",):
        source = REPO / "inventories/local/group_vars/local" / name
        (inventory / "group_vars" / "local" / name).write_text(source.read_text())
    raw = _vault_ciphertexts()
    del raw["vault_booking_twilio_token"]
    (inventory / "group_vars" / "local" / "vault.yml").write_text("".join(
        f"{name}: !vault |\n" + "".join(f"  {line}\n" for line in ciphertext.splitlines())
        for name, ciphertext in raw.items()))

    calls_before = len(emulator.calls)
    run = ansible.playbook(PLAYBOOK, "--vault-id", VAULT_ID, inventory=str(inventory))
    assert run.rc != 0
    assert "vault_booking_twilio_token" in run.output, run.explain()
    assert "is undefined" in run.output, run.explain()
    assert emulator.calls[calls_before:] == [], "an AWS call was made before the refusal"
