"""The rows of `make verify` (playbooks/verify.yml), built in Python.

The preflight role's `verify` entry point (roles/preflight/tasks/verify.yml) reads the account
with read-only calls and hands each answer to one of these filters, which turns it into rows of
one table: ``{check, expected, found, status}``, status ``pass``, ``fail`` or ``skipped``.
No filter here makes an AWS call, and none ever puts a secret value in a row. Tested without
AWS in tests/test_verify.py.

Filters:
- ``verify_account_row(declared, caller, placeholders)``: the credentials' account against the
  inventory's ``booking_aws_account_id``.
- ``verify_zone_rows(zone, name, create_zone, delegation, environment)``: the hosted zone exists
  and is public; public DNS delegates its name to it (or a ``skipped`` row saying why not).
- ``verify_rds_row(orderable, wanted)``: RDS offers the engine version on the instance class.
- ``verify_fargate_needs(plan)``: the Fargate vCPUs the plan may run at once, per quota.
- ``verify_quota_requests(needs)``: the quotas to read for those needs.
- ``verify_not_owned(resources, owner_tags)``: the resources of others (not carrying the tags).
- ``verify_quota_rows(quotas, needs)``: each quota's value against the plan's need.
- ``verify_linked_role_rows(roles)``: each service-linked role exists or the caller may create it.
- ``verify_secret_rows(secrets)``: each vault value against AWS's (or Django's) rule for it.
- ``verify_release_row(record, image)``: the current release's image is in the registry.
- ``verify_table(rows)``: the rows as the lines of one aligned table, with a summary line.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

PASS = "pass"
FAIL = "fail"
SKIPPED = "skipped"
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _row(check: str, expected: str, found: str, status: str) -> dict[str, str]:
    return {"check": check, "expected": expected, "found": found, "status": status}


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


def _dict(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"{what} must be a dict, got {value!r}")
    return value


# --- the account -------------------------------------------------------------------------------

def verify_account_row(declared: Any, caller: Mapping[str, Any],
                       placeholders: Sequence[str] = ()) -> dict[str, str]:
    """The account row: the caller's account is the one the inventory declares."""
    caller = _dict(caller, "verify_account_row: the caller")
    declared = str(declared or "")
    found = f"{caller.get('account', '?')} ({caller.get('arn', '?')})"
    if not declared:
        return _row("AWS account", "booking_aws_account_id declared by the inventory",
                    f"not declared; credentials are for {found}", FAIL)
    if declared in placeholders:
        return _row("AWS account", f"{declared} is a placeholder: set the real account ID",
                    found, FAIL)
    if not _ACCOUNT_ID.match(declared):
        return _row("AWS account", f"{declared!r} is not a 12-digit account ID", found, FAIL)
    return _row("AWS account", declared, found,
                PASS if str(caller.get("account")) == declared else FAIL)


# --- the hosted zone -----------------------------------------------------------------------------

def verify_zone_rows(zone: Mapping[str, Any], name: str, create_zone: bool, delegation: bool,
                     environment: str) -> list[dict[str, str]]:
    """The hosted zone row and the delegation row.

    `zone` is booking.aws.route53_zone_delegation_info's result; `create_zone` whether site.yml
    creates the zone (dns_create_zone); `delegation` whether public DNS was asked.
    """
    zone = _dict(zone, "verify_zone_rows: the zone")
    create_zone, delegation = boolean(create_zone), boolean(delegation)
    private = [z["id"] for z in zone.get("zones", []) if z.get("private")]
    if zone.get("exists"):
        found = f"{zone['zone_id']} (public, NS {', '.join(zone['name_servers'])})"
        zone_row = _row("hosted zone", f"public zone {name}", found, PASS)
    elif create_zone:
        zone_row = _row("hosted zone", f"public zone {name}",
                        "absent: site.yml creates it (dns_create_zone)", PASS)
    else:
        found = ("only a private zone: " + ", ".join(private)) if private else "absent"
        zone_row = _row("hosted zone", f"public zone {name}", found, FAIL)

    check = "zone delegation"
    if not delegation:
        row = _row(check, "public DNS answers the zone's NS",
                   f"skipped ({environment}): this environment's zone is not on public DNS",
                   SKIPPED)
    elif not zone.get("exists"):
        row = _row(check, "public DNS answers the zone's NS",
                   "skipped: no public zone to compare with", SKIPPED)
    else:
        expected = ", ".join(zone["name_servers"])
        answered = zone.get("public_name_servers") or []
        status = zone.get("public_status")
        found = (", ".join(answered) if answered else "no NS records") + \
            f" ({status} from {zone.get('resolver')})"
        row = _row(check, expected, found, PASS if zone.get("delegated") else FAIL)
    return [zone_row, row]


# --- RDS ---------------------------------------------------------------------------------------

def verify_rds_row(orderable: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, str]:
    """RDS can create `wanted` (engine, engine_version, instance_class, storage_type, multi_az)."""
    orderable = _dict(orderable, "verify_rds_row: the orderable options")
    wanted = _dict(wanted, "verify_rds_row: the wanted instance")
    multi_az = ", Multi-AZ" if boolean(wanted.get("multi_az", False)) else ""
    expected = (f"{wanted['engine']} {wanted['engine_version']} on {wanted['instance_class']} "
                f"({wanted['storage_type']}{multi_az})")
    if orderable.get("orderable"):
        return _row("RDS engine and class", expected,
                    "orderable: " + ", ".join(orderable["versions"]), PASS)
    offered = orderable.get("class_versions") or []
    newest: dict[str, str] = {}
    for version in offered:  # oldest first: the last of each major is its newest
        newest[version.split(".")[0]] = version
    found = (f"not offered; {wanted['instance_class']} offers {', '.join(newest.values())} "
             "(newest of each major)") if offered else \
        f"not offered: no {wanted['engine']} version on {wanted['instance_class']} here"
    return _row("RDS engine and class", expected, found, FAIL)


# --- quotas ------------------------------------------------------------------------------------

FARGATE_ON_DEMAND = ("fargate", "L-3032A538", "Fargate On-Demand vCPU")
FARGATE_SPOT = ("fargate", "L-36FBB829", "Fargate Spot vCPU")


def verify_fargate_needs(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The vCPUs the services may run at once, per Fargate quota.

    Web at its maximum count, surging to maximumPercent during a rollout; the worker at its
    maximum count (on the Spot quota when it runs on Fargate Spot); one migration task.
    """
    plan = _dict(plan, "verify_fargate_needs: the plan")
    try:
        web = int(plan["web_max_count"]) * int(plan["web_cpu"]) / 1024
        surge = int(plan["maximum_percent"]) / 100
        worker = int(plan["worker_max_count"]) * int(plan["worker_cpu"]) / 1024
        migrate = int(plan["migrate_cpu"]) / 1024
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"verify_fargate_needs: bad plan {plan!r}: {exc}") from exc
    web_terms = (f"web {plan['web_max_count']} x {_number(int(plan['web_cpu']) / 1024)} vCPU x "
                 f"{plan['maximum_percent']}%")
    worker_terms = (f"worker {plan['worker_max_count']} x "
                    f"{_number(int(plan['worker_cpu']) / 1024)} vCPU")
    migrate_terms = f"migrate {_number(migrate)} vCPU"
    service, code, label = FARGATE_ON_DEMAND
    if boolean(plan.get("worker_spot", False)):
        spot_service, spot_code, spot_label = FARGATE_SPOT
        return [
            {"service_code": service, "quota_code": code, "label": label,
             "need": web * surge + migrate, "terms": f"{web_terms} + {migrate_terms}"},
            {"service_code": spot_service, "quota_code": spot_code, "label": spot_label,
             "need": worker, "terms": worker_terms},
        ]
    return [{"service_code": service, "quota_code": code, "label": label,
             "need": web * surge + worker + migrate,
             "terms": f"{web_terms} + {worker_terms} + {migrate_terms}"}]


def verify_quota_requests(needs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """What booking.aws.service_quota_info takes to read the quotas of `needs`, once each."""
    requests: list[dict[str, str]] = []
    for need in needs:
        request = {"service_code": need["service_code"], "quota_code": need["quota_code"]}
        if request not in requests:
            requests.append(request)
    return requests


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    tags = resource.get("tags") or resource.get("Tags") or {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t.get("Key")): str(t.get("Value")) for t in tags}


def verify_not_owned(resources: Sequence[Mapping[str, Any]],
                     owner_tags: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resources that do not carry all of `owner_tags` (another environment's, the default
    VPC...): what other resources of the account take of a quota."""
    owner = {str(k): str(v) for k, v in _dict(owner_tags, "verify_not_owned: the tags").items()}
    return [r for r in resources if not owner.items() <= _tags(r).items()]


def verify_quota_rows(quotas: Sequence[Mapping[str, Any]],
                      needs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row per need: the quota's value covers the plan's need plus what others use.

    `quotas` is booking.aws.service_quota_info's `quotas`; each need names its quota
    (service_code, quota_code), a label, the need, its terms and optionally `in_use` (what
    other resources of the account already take).
    """
    by_code = {(q["service_code"], q["quota_code"]): q for q in quotas}
    rows = []
    for need in needs:
        quota = by_code.get((need["service_code"], need["quota_code"]))
        in_use = int(need.get("in_use", 0) or 0)
        total = float(need["need"]) + in_use
        expected = f">= {_number(total)} ({need['terms']}" + \
            (f" + {in_use} in use by others)" if in_use else ")")
        check = f"quota: {need['label']} ({need['quota_code']})"
        if quota is None or quota.get("value") is None:
            rows.append(_row(check, expected, "not readable", FAIL))
            continue
        source = "applied" if quota.get("applied") else "AWS default"
        found = f"{_number(quota['value'])} ({source})"
        rows.append(_row(check, expected, found,
                         PASS if float(quota["value"]) >= total else FAIL))
    return rows


# --- service-linked roles ----------------------------------------------------------------------

def verify_linked_role_rows(roles: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row per service: its service-linked role exists, or the caller may create it."""
    rows = []
    for role in roles:
        check = f"service-linked role of {role['service']}"
        expected = "present, or the caller may create it"
        if role.get("exists"):
            rows.append(_row(check, expected, f"present ({role['role_name']})", PASS))
        elif role.get("can_create") is True:
            rows.append(_row(check, expected, f"absent; the caller may create it "
                                              f"({role['reason']}): site.yml will", PASS))
        elif role.get("can_create") is False:
            rows.append(_row(check, expected, f"absent, and the caller may not create it "
                                              f"({role['reason']})", FAIL))
        else:
            rows.append(_row(check, expected, f"absent: will be created by site.yml (permission "
                                              f"not simulated: {role['reason']})", PASS))
    return rows


# --- the vault ---------------------------------------------------------------------------------

# RDS: "Can include any printable ASCII character except '/', '"', '@', or a space" (8-128 for
# PostgreSQL). ElastiCache AUTH: 16-128 characters, and of the non-alphanumerics only ! & # $ ^
# < > - (ElastiCache User Guide, "Authenticating with the Valkey and Redis OSS AUTH command");
# the API reference's looser "no / \" @" lets through tokens CreateReplicationGroup then
# refuses with "Invalid AuthToken provided". Django: its deploy check (security.W009) wants 50
# or more characters, 5 or more distinct, and no "django-insecure-" prefix.
_RDS_PASSWORD = re.compile(r"[\x21\x23-\x2e\x30-\x3f\x41-\x7e]{8,128}")
_REDIS_TOKEN = re.compile(r"[A-Za-z0-9!&#$^<>-]{16,128}")

SECRET_RULES: dict[str, tuple[str, str, Any]] = {
    "db_password": (
        "vault_booking_db_password",
        "RDS master password: 8-128 printable ASCII, no / \" @ or space",
        lambda v: _RDS_PASSWORD.fullmatch(v) is not None),
    "redis_auth_token": (
        "vault_booking_redis_auth_token",
        "ElastiCache AUTH token: 16-128 letters, digits or ! & # $ ^ < > -",
        lambda v: _REDIS_TOKEN.fullmatch(v) is not None),
    "django_secret_key": (
        "vault_booking_django_secret_key",
        "Django secret key: >= 50 characters, >= 5 distinct, not django-insecure-",
        lambda v: len(v) >= 50 and len(set(v)) >= 5 and not v.startswith("django-insecure-")),
    "twilio_sid": ("vault_booking_twilio_sid", "Twilio account SID: not empty",
                   lambda v: bool(v.strip())),
    "twilio_token": ("vault_booking_twilio_token", "Twilio auth token: not empty",
                     lambda v: bool(v.strip())),
    "twilio_phone_number": ("vault_booking_twilio_phone_number",
                            "Twilio sender number: not empty", lambda v: bool(v.strip())),
}


def verify_secret_rows(secrets: Mapping[str, Any]) -> list[dict[str, str]]:
    """One row per vault value: present and valid for its rule. Never holds a value.

    `secrets` maps each name of SECRET_RULES to its value, or to None when the vault lacks it.
    """
    secrets = _dict(secrets, "verify_secret_rows: the secrets")
    rows = []
    for name, (variable, rule, valid) in SECRET_RULES.items():
        value = secrets.get(name)
        if value is None:
            found, status = "missing", FAIL
        elif not isinstance(value, str):
            found, status = "not a string", FAIL
        elif valid(value):
            found, status = "meets the rule", PASS
        else:
            found, status = "does not meet the rule", FAIL
        rows.append(_row(variable, rule, found, status))
    return rows


# --- the release -------------------------------------------------------------------------------

def verify_release_row(record: Mapping[str, Any], image: Mapping[str, Any] | None,
                       path: str = "") -> dict[str, str]:
    """The current release's image exists (`record`: release_record's result; `image`:
    container_image_info's result, None when there is no release)."""
    record = _dict(record, "verify_release_row: the release record")
    current = record.get("current") or {}
    check = "image of the current release"
    expected = f"the image recorded in {path}/current is in the registry"
    if not current.get("tag"):
        return _row(check, expected, "no release yet (the first deploy.yml makes one)", PASS)
    if image and image.get("exists"):
        return _row(check, expected, f"{image['image']} ({image.get('digest') or 'no digest'})",
                    PASS)
    reference = (image or {}).get("image") or current.get("image") or current["tag"]
    return _row(check, expected, f"{reference} is missing", FAIL)


# --- the table ---------------------------------------------------------------------------------

COLUMNS = ("check", "expected", "found", "status")
# Widths the check, expected and found cells wrap at, so that the table fits a terminal.
WIDTHS = {"check": 40, "expected": 46, "found": 58, "status": 7}


def verify_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The rows as aligned lines (header, rule, then each row, its long cells wrapped onto more
    lines) and a summary line."""
    header = {column: column for column in COLUMNS}
    # Words longer than a column (image references, ARNs) are kept whole: copyable.
    cells = [{c: textwrap.wrap(str(row.get(c, "")), WIDTHS[c], break_on_hyphens=False,
                               break_long_words=False) or [""]
              for c in COLUMNS} for row in [header, *rows]]
    widths = {c: max(len(line) for row in cells for line in row[c]) for c in COLUMNS}
    lines = []
    for index, row in enumerate(cells):
        for n in range(max(len(row[c]) for c in COLUMNS)):
            parts = [(row[c][n] if n < len(row[c]) else "").ljust(widths[c]) for c in COLUMNS]
            lines.append(" | ".join(parts).rstrip())
        if index == 0:
            lines.append("-+-".join("-" * widths[c] for c in COLUMNS))
    counts = {status: sum(1 for row in rows if row.get("status") == status)
              for status in (PASS, FAIL, SKIPPED)}
    lines.append(f"{len(rows)} checks: {counts[PASS]} passed, {counts[FAIL]} failed, "
                 f"{counts[SKIPPED]} skipped")
    return lines


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "verify_account_row": verify_account_row,
            "verify_zone_rows": verify_zone_rows,
            "verify_rds_row": verify_rds_row,
            "verify_fargate_needs": verify_fargate_needs,
            "verify_quota_requests": verify_quota_requests,
            "verify_not_owned": verify_not_owned,
            "verify_quota_rows": verify_quota_rows,
            "verify_linked_role_rows": verify_linked_role_rows,
            "verify_secret_rows": verify_secret_rows,
            "verify_release_row": verify_release_row,
            "verify_table": verify_table,
        }
