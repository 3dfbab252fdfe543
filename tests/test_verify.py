"""`make verify` (playbooks/verify.yml) and the account guard every playbook runs first.

- The rows' filters (collections/.../plugins/filter/verify.py), as unit tests: no AWS.
- verify.yml against the in-process emulator, on the local inventory: it passes (one table, one
  row per check, the delegation row explicitly skipped, nothing but reads); a delegation that
  public DNS answers (a fake DNS resolver in this process stands for public DNS) passes; then
  failing checks, several at once since every check runs before the play fails: wrong account,
  missing zone, an engine version RDS does not offer, a low quota (the emulator told to apply a
  new account's 6 vCPU) and a vault value AWS would refuse (never printed, even at -vvv) in one
  run; an instance class RDS does not offer and a delegation to other name servers in another;
  a release whose image is missing.
- The account guard: site.yml, deploy.yml and rollback.yml with credentials of another account
  (or the placeholder) stop after the one STS call, with one clear line; the local account
  passes.

Cost: no converge at all. verify.yml needs nothing from site.yml on the local inventory (the
dns role would create the zone; the test makes it with one boto3 call, as AWS would hold it);
each verify.yml run is about 10 CPU seconds, so the failing cases share runs (six runs of
verify.yml, and four of the guard).
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto_patches
import pytest
import release_env
from harness import BIN, REPO, local_vault_values

VERIFY = "playbooks/verify.yml"
ZONE = "booking-api.example.com"
ACCOUNT = "123456789012"
# What a read looks like in the emulator's call log (query/JSON actions, REST methods).
READS = ("Get", "List", "Describe", "GET ")


def _filters() -> Any:
    path = REPO / "collections/ansible_collections/booking/aws/plugins/filter/verify.py"
    spec = importlib.util.spec_from_file_location("booking_verify", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify = _filters()


# --- the rows, without AWS -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "value", "found"), [
    ("db_password", "eight-ch", "meets the rule"),
    ("db_password", "seven-c", "does not meet the rule"),
    ("db_password", "has@sign-in-it", "does not meet the rule"),
    ("db_password", "has a space", "does not meet the rule"),
    ("db_password", 'quote"d-password', "does not meet the rule"),
    ("db_password", "slash/ed-password", "does not meet the rule"),
    ("db_password", "x" * 129, "does not meet the rule"),
    ("redis_auth_token", "sixteen-chars-ok", "meets the rule"),
    ("redis_auth_token", "Tok3n!&#$^<>-ok-ok", "meets the rule"),
    ("redis_auth_token", "fifteen-chars-k", "does not meet the rule"),
    ("redis_auth_token", "has_underscore_token", "does not meet the rule"),
    ("redis_auth_token", "has@sign-in-the-token", "does not meet the rule"),
    ("django_secret_key", "k" * 49 + "abcd", "meets the rule"),
    ("django_secret_key", "k" * 49, "does not meet the rule"),
    ("django_secret_key", "a" * 60, "does not meet the rule"),
    ("django_secret_key", "django-insecure-" + "abcdefghij" * 5, "does not meet the rule"),
    ("twilio_sid", "AC123", "meets the rule"),
    ("twilio_token", "   ", "does not meet the rule"),
    ("twilio_phone_number", None, "missing"),
])
def test_each_vault_value_is_held_to_its_rule_and_never_shown(name, value, found):
    secrets = dict.fromkeys(verify.SECRET_RULES, "valid-enough-for-every-rule-" + "x" * 40)
    secrets[name] = value
    rows = {row["check"]: row for row in verify.verify_secret_rows(secrets)}
    row = rows[verify.SECRET_RULES[name][0]]
    assert row["found"] == found
    assert row["status"] == ("pass" if found == "meets the rule" else "fail")
    if value and value.strip():
        assert all(value not in cell for r in rows.values() for cell in r.values())


def test_the_fargate_need_is_the_plan_at_its_maximum_with_the_rollout_surge():
    plan = {"web_cpu": 1024, "web_max_count": 10, "worker_cpu": 512, "worker_max_count": 5,
            "migrate_cpu": 512, "maximum_percent": 200, "worker_spot": False}
    [on_demand] = verify.verify_fargate_needs(plan)
    assert on_demand["quota_code"] == "L-3032A538"
    assert on_demand["need"] == 10 * 1 * 2 + 5 * 0.5 + 0.5
    # Outside production the worker runs on Fargate Spot: its own quota.
    on_demand, spot = verify.verify_fargate_needs({**plan, "worker_spot": "true"})
    assert (on_demand["need"], spot["quota_code"], spot["need"]) == (20.5, "L-36FBB829", 2.5)


def test_a_quota_must_cover_the_need_plus_what_others_use():
    need = {"service_code": "vpc", "quota_code": "L-F678F1CE", "label": "VPCs per Region",
            "need": 1, "terms": "this environment's VPC", "in_use": 4}
    quota = {"service_code": "vpc", "quota_code": "L-F678F1CE", "value": 5.0, "applied": True}
    [row] = verify.verify_quota_rows([quota], [need])
    assert row["status"] == "pass"
    assert row["expected"] == ">= 5 (this environment's VPC + 4 in use by others)"
    [row] = verify.verify_quota_rows([quota], [{**need, "in_use": 5}])
    assert (row["found"], row["status"]) == ("5 (applied)", "fail")
    owned = [{"tags": {"Project": "booking-api", "Environment": "local", "Name": "x"}},
             {"tags": {"Project": "booking-api", "Environment": "prod"}}, {"tags": {}}]
    others = verify.verify_not_owned(owned, {"Project": "booking-api", "Environment": "local"})
    assert len(others) == 2


def test_the_account_row_refuses_a_placeholder_and_an_undeclared_account():
    caller = {"account": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci"}
    assert verify.verify_account_row(ACCOUNT, caller, ["000000000000"])["status"] == "pass"
    for declared in ("", "000000000000", "12345", "111122223333"):
        assert verify.verify_account_row(declared, caller, ["000000000000"])["status"] == "fail"


def test_the_table_aligns_wraps_and_counts():
    rows = [{"check": "a", "expected": "b", "found": "c " * 60, "status": "pass"},
            {"check": "d", "expected": "e", "found": "f", "status": "skipped"}]
    lines = verify.verify_table(rows)
    assert [cell.strip() for cell in lines[0].split(" | ")] == ["check", "expected", "found",
                                                                 "status"]
    assert len({line.index("|") for line in lines[2:-1]}) == 1
    assert max(len(line) for line in lines) < 170
    assert lines[-1] == "2 checks: 1 passed, 0 failed, 1 skipped"


# --- verify.yml on the emulator ------------------------------------------------------------------

class FakeResolver:
    """A DNS resolver on loopback that answers every NS question with `name_servers`."""

    def __init__(self) -> None:
        self.name_servers: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @staticmethod
    def _name(name: str) -> bytes:
        return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\x00"

    def _serve(self) -> None:
        while True:
            try:
                query, client = self.sock.recvfrom(512)
            except OSError:
                return
            ident = struct.unpack(">H", query[:2])[0]
            question = query[12:]
            answers = b"".join(
                b"\xc0\x0c" + struct.pack(">HHIH", 2, 1, 300, len(self._name(ns)))
                + self._name(ns) for ns in self.name_servers)
            rcode = 0 if self.name_servers else 3
            header = struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, len(self.name_servers),
                                 0, 0)
            self.sock.sendto(header + question + answers, client)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def resolver() -> Iterator[FakeResolver]:
    fake = FakeResolver()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def account(emulator):
    """A fresh emulator account holding what exists before site.yml on AWS: the public zone."""
    emulator.reset()
    emulator.client("route53").create_hosted_zone(Name=ZONE, CallerReference="verify-test")
    return emulator.client


def _zone_name_servers(aws) -> list[str]:
    [zone] = [z for z in aws("route53").list_hosted_zones()["HostedZones"]
              if z["Name"] == f"{ZONE}."]
    sets = aws("route53").list_resource_record_sets(HostedZoneId=zone["Id"])
    [ns] = [s for s in sets["ResourceRecordSets"] if s["Type"] == "NS"]
    return sorted(r["Value"].rstrip(".").lower() for r in ns["ResourceRecords"])


def _verify(ansible, extra_vars: dict[str, Any] | None = None) -> Any:
    return ansible.playbook(VERIFY, extra_vars=extra_vars)


def _rows(run) -> dict[str, tuple[str, str, str]]:
    """The table's rows by check: (expected, found, status), wrapped cells joined again."""
    lines = run.stdout.splitlines()
    [header] = [i for i, line in enumerate(lines) if re.match(r"^\s*check\s+\| expected", line)]
    lines = lines[header + 2:]
    rows: dict[str, list[list[str]]] = {}
    current = None
    for line in lines:
        if " | " not in line:
            break
        cells = [cell.strip() for cell in line.split("|")] + [""] * 3
        if cells[0] and (current is None or cells[3]):
            current = cells[0]
            rows[current] = [[c] for c in cells[1:4]]
        else:
            if cells[0]:  # a wrapped check name: the row's first line had its status
                current_cells = rows.pop(current)
                current = f"{current} {cells[0]}"
                rows[current] = current_cells
            for column, cell in zip(rows[current], cells[1:4], strict=False):
                if cell:
                    column.append(cell)
    return {check: tuple(" ".join(column) for column in columns)
            for check, columns in rows.items()}


def test_the_local_inventory_passes_with_reads_only(emulator, ansible, account):
    first = len(emulator.calls)
    run = _verify(ansible)
    assert run.rc == 0, run.explain()
    rows = _rows(run)
    assert rows["AWS account"] == (ACCOUNT, f"{ACCOUNT} (arn:aws:sts::{ACCOUNT}:user/moto)",
                                   "pass")
    assert rows["hosted zone"][2] == "pass"
    assert rows["zone delegation"][1].startswith("skipped (local):")
    assert rows["zone delegation"][2] == "skipped"
    assert rows["RDS engine and class"][1].startswith("orderable: 15.")
    assert rows["quota: Fargate On-Demand vCPU (L-3032A538)"][0].startswith(">= 20.5")
    for check in ("role inputs", "quota: ALBs per Region (L-53DA6B97)",
                  "quota: Elastic IPs (L-0263D0A3)", "quota: VPCs per Region (L-F678F1CE)",
                  "service-linked role of ecs.amazonaws.com",
                  "service-linked role of config.amazonaws.com",
                  "vault_booking_db_password", "vault_booking_redis_auth_token",
                  "vault_booking_django_secret_key", "image of the current release"):
        assert rows[check][2] == "pass", (check, rows[check])
    assert rows["image of the current release"][1].startswith("no release yet")
    assert f"{len(rows)} checks: {len(rows) - 1} passed, 0 failed, 1 skipped" in run.stdout
    writes = [c for c in emulator.calls[first:] if not c.action.startswith(READS)]
    assert writes == [], "verify.yml must only read"
    for name, value in local_vault_values().items():
        assert value not in run.output, f"the value of {name} appears in the output"


def _newest_of_each_major() -> str:
    """What the in-process emulator offers (strict mode's list when on, else the verify patch's)."""
    newest: dict[str, str] = {}
    for version in moto_patches._rds_postgres_versions():  # oldest first
        newest[version.split(".")[0]] = version
    return ", ".join(newest.values())


def test_the_delegation_passes_when_public_dns_answers_the_zones_name_servers(ansible, account,
                                                                            resolver):
    servers = _zone_name_servers(account)
    resolver.name_servers = servers
    run = _verify(ansible, {"verify_dns_delegation": True, "verify_dns_resolver": "127.0.0.1",
                            "verify_dns_resolver_port": resolver.port})
    assert run.rc == 0, run.explain()
    assert _rows(run)["zone delegation"] == (
        ", ".join(servers), f"{', '.join(servers)} (NOERROR from 127.0.0.1)", "pass")


def test_every_failing_check_has_its_row_in_one_run_and_no_vault_value_shows_at_vvv(
        ansible, account):
    """All the checks run before the play fails (a user fixes everything at once): credentials
    of another account, a missing zone, an engine version RDS does not offer, a new account's
    Fargate quota and a vault value AWS would refuse, in one run at -vvv - and that value is
    never printed."""
    bad = "not-for-rds@example"
    moto_patches.set_applied_service_quota("fargate", "L-3032A538", 6)
    try:
        run = ansible.playbook(VERIFY, "-vvv", extra_vars={
            "booking_aws_account_id": "111122223333", "vault_booking_db_password": bad,
            "booking_dns_zone": "nowhere.example.org", "dns_create_zone": False,
            "rds_engine_version": "9.6"})
    finally:
        moto_patches.set_applied_service_quota("fargate", "L-3032A538", 4000)
    assert run.rc != 0
    rows = _rows(run)
    assert rows["AWS account"][::2] == ("111122223333", "fail"), run.explain()
    assert rows["hosted zone"] == ("public zone nowhere.example.org", "absent", "fail")
    assert rows["zone delegation"][2] == "skipped"
    offered = _newest_of_each_major()
    assert "9.6" not in offered
    assert rows["RDS engine and class"][1:] == (
        f"not offered; db.t3.medium offers {offered} (newest of each major)", "fail")
    assert rows["quota: Fargate On-Demand vCPU (L-3032A538)"] == (
        ">= 20.5 (web 10 x 1 vCPU x 200% + migrate 0.5 vCPU)", "6 (applied)", "fail")
    assert rows["vault_booking_db_password"] == (
        'RDS master password: 8-128 printable ASCII, no / " @ or space',
        "does not meet the rule", "fail")
    failed = sorted(check for check, (_, _, status) in rows.items() if status == "fail")
    assert failed == sorted(["AWS account", "hosted zone", "RDS engine and class",
                             "quota: Fargate On-Demand vCPU (L-3032A538)",
                             "vault_booking_db_password"]), failed
    assert "checks failed (AWS account" in " ".join(run.output.split())
    assert bad not in run.output, "the vault value appears at -vvv"
    for name, value in local_vault_values().items():
        assert value not in run.output, f"the value of {name} appears at -vvv"


def test_a_class_rds_does_not_offer_and_a_delegation_elsewhere_fail_their_rows(
        ansible, account, resolver):
    resolver.name_servers = ["ns1.registrar-parking.example"]
    run = _verify(ansible, {"rds_instance_class": "db.t1.micro", "verify_dns_delegation": True,
                            "verify_dns_resolver": "127.0.0.1",
                            "verify_dns_resolver_port": resolver.port})
    assert run.rc != 0
    rows = _rows(run)
    assert rows["RDS engine and class"][1:] == (
        "not offered: no postgres version on db.t1.micro here", "fail"), run.explain()
    assert rows["zone delegation"] == (
        ", ".join(_zone_name_servers(account)),
        "ns1.registrar-parking.example (NOERROR from 127.0.0.1)", "fail"), run.explain()


def test_the_current_releases_image_must_exist(ansible, account):
    release_env_record = {"image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/"
                                   "booking-api-local:deadbeef", "tag": "deadbeef",
                          "task_definitions": {}}
    account("ssm").put_parameter(Name=f"{release_env.RECORD}/current", Type="String",
                                 Value=json.dumps(release_env_record))
    try:
        account("ecr").create_repository(repositoryName=release_env.PREFIX)
        missing = _verify(ansible, {"release_registry": ""})
        assert missing.rc != 0
        assert _rows(missing)["image of the current release"][1:] == (
            f"{release_env_record['image']} is missing", "fail"), missing.explain()
        release_env.push(account, "deadbeef")
        present = _verify(ansible, {"release_registry": ""})
        assert present.rc == 0, present.explain()
        assert _rows(present)["image of the current release"][1].startswith(
            f"{release_env_record['image']} (sha256:")
    finally:
        account("ssm").delete_parameter(Name=f"{release_env.RECORD}/current")


# --- the account guard of every playbook ---------------------------------------------------------

def _calls(emulator) -> list[str]:
    """The calls made, each once: a call strict mode throttled is sent again by the SDK."""
    return [f"{c.service}:{c.action}" for c in emulator.calls if not c.throttled]


def _only_the_lookup(emulator) -> None:
    """amazon.aws.aws_caller_info's reads (GetCallerIdentity, and ListAccountAliases for the
    account's alias), and nothing else."""
    assert _calls(emulator) == ["sts:GetCallerIdentity", "iam:ListAccountAliases"]


@pytest.mark.parametrize(("playbook", "extra"), [
    ("site.yml", {}),
    ("playbooks/deploy.yml", {"image_tag": "aaa111", "release_registry": ""}),
], ids=["site", "deploy"])
def test_credentials_of_another_account_are_refused_before_any_change(
        fresh_emulator, ansible, playbook, extra):
    run = ansible.playbook(playbook, extra_vars={**extra,
                                                 "booking_aws_account_id": "111122223333"})
    assert run.rc != 0
    assert ("This inventory is for account 111122223333; the credentials are for account "
            f"{ACCOUNT} (arn arn:aws:sts::{ACCOUNT}:user/moto): nothing was touched."
            ) in " ".join(run.output.split()), run.explain()
    _only_the_lookup(fresh_emulator)


def test_the_placeholder_account_is_refused_until_replaced(fresh_emulator, ansible):
    run = ansible.playbook("playbooks/rollback.yml",
                           extra_vars={"booking_aws_account_id": "000000000000"})
    assert run.rc != 0
    assert "This inventory's AWS account '000000000000' is the placeholder" in run.output, \
        run.explain()
    _only_the_lookup(fresh_emulator)


def test_the_local_account_passes_with_one_lookup_whatever_the_tags(fresh_emulator, ansible):
    run = ansible.playbook("site.yml", "--tags", "ecr")
    assert run.rc == 0, run.explain()
    assert "Refuse credentials of another account" in run.stdout
    assert _calls(fresh_emulator).count("sts:GetCallerIdentity") == 1
    assert fresh_emulator.client("ecr").describe_repositories()["repositories"]


def _inventory_account(inventory: str) -> str:
    out = subprocess.run([str(BIN / "ansible-inventory"), "-i", inventory, "--list",
                          "--playbook-dir", str(REPO)], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    [host] = json.loads(out)["_meta"]["hostvars"].values()
    return host["booking_aws_account_id"]


def test_every_inventory_declares_its_account():
    assert _inventory_account("inventories/local") == ACCOUNT
    for inventory in ("inventories/staging", "inventories/production"):
        assert _inventory_account(inventory) == "000000000000"
        text = (REPO / inventory).joinpath("group_vars").rglob("main.yml")
        assert any("REPLACE" in Path(p).read_text() for p in text)
