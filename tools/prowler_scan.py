#!/usr/bin/env python3
"""The security posture of what site.yml provisions, scanned by Prowler against the emulator.

    python tools/prowler_scan.py [--endpoint-url URL] [--region REGION]

Prowler (its own venv, `.venv-prowler`, `make prowler-setup`) runs against an AWS endpoint (the
local emulator by default: AWS_ENDPOINT_URL, dummy credentials, one region, the local
inventory's) with the checks that the AWS Foundational Security Best Practices and CIS frameworks
map to the services site.yml creates (`scope` in security/prowler-exceptions.yml). Every FAIL or
MANUAL finding must be matched by an exception of that file (check, resource pattern, reason);
anything else is a new finding. An exception that matches nothing is stale. A check whose data
the emulator cannot give (an AWS API moto lacks: the call fails with an HTTP error page, an
unparsable answer, no route) is "not evaluable on the emulator": each such failed call must be
named in `not_evaluable` with its reason and the checks it blinds, whose findings are set aside
and reported, never counted as passed. Exit 1 with one line per new finding, stale entry or
unexplained failed call; 0 otherwise.

The tool runs prowler through itself (`--run-prowler`, in prowler's interpreter) so that every
AWS call that fails after botocore's retries is recorded with its service and operation: prowler
logs most of them, without the operation, and goes on with what it has.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXCEPTIONS_FILE = REPO / "security" / "prowler-exceptions.yml"
PROWLER_VENV = REPO / ".venv-prowler"
OUTPUT_DIR = REPO / ".run" / "prowler"
# Statuses that need an exception: FAIL, and MANUAL (prowler could not decide: a human did).
FLAGGED = ("FAIL", "MANUAL")
# Error codes that mean "the emulator lacks this", not an AWS answer: botocore puts the HTTP
# status in the code when the body is not an AWS error (moto's HTML 404 and 500 pages).
EMULATOR_GAP_CODES = {"NotImplemented", "InternalFailure", "InternalError", "InternalServerError",
                      "UnknownOperationException", "InvalidAction", "Throttling",
                      "ThrottlingException", "RequestLimitExceeded"}


# --- Inside prowler's venv: run prowler, recording every AWS call that fails -----------------
def run_prowler(errors_file: str, prowler_args: list[str]) -> int:
    """Prowler's CLI with botocore's _make_api_call wrapped: a call that raises (after botocore's
    retries) is appended to `errors_file` as one JSON line, then raised to prowler as before."""
    import threading

    from botocore.client import BaseClient  # prowler's venv

    original = BaseClient._make_api_call
    lock = threading.Lock()

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            return original(self, operation_name, api_params)
        except Exception as error:  # recorded and raised again: prowler decides what it means
            response = getattr(error, "response", None) or {}
            record = {"service": self.meta.service_model.service_name,
                      "operation": operation_name,
                      "error": type(error).__name__,
                      "code": str(response.get("Error", {}).get("Code", "")),
                      "status": response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
                      "message": str(error)[:300]}
            with lock, open(errors_file, "a") as out:
                out.write(json.dumps(record) + "\n")
            raise

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    from prowler.__main__ import prowler

    sys.argv = ["prowler", *prowler_args]
    try:
        prowler()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


# --- The exceptions file -------------------------------------------------------------------
@dataclass
class Exception_:
    check: str
    resource: str
    reason: str
    used: int = 0

    def matches(self, finding: Finding) -> bool:
        return (fnmatch.fnmatchcase(finding.check, self.check)
                and fnmatch.fnmatchcase(finding.resource, self.resource))


@dataclass
class NotEvaluable:
    service: str
    operation: str
    checks: list[str]
    reason: str
    # Fails only on some emulators (plain moto, not strict mode's): never stale.
    optional: bool = False
    calls: int = 0

    def matches(self, call: dict[str, Any]) -> bool:
        return (fnmatch.fnmatchcase(str(call.get("service")), self.service)
                and fnmatch.fnmatchcase(str(call.get("operation")), self.operation))


@dataclass
class Policy:
    frameworks: list[str]
    services: list[str]
    out_of_scope: list[tuple[str, str]]  # (check pattern, reason)
    exceptions: list[Exception_]
    not_evaluable: list[NotEvaluable]


class PolicyError(ValueError):
    """The exceptions file is malformed (an entry without its reason, say)."""


def _reason(entry: dict[str, Any], where: str) -> str:
    reason = str(entry.get("reason") or "").strip()
    if not reason:
        raise PolicyError(f"{where}: every entry needs a reason ({entry})")
    return " ".join(reason.split())


def parse_policy(data: dict[str, Any]) -> Policy:
    """The exceptions file's content (YAML already loaded), validated."""
    scope = data.get("scope") or {}
    frameworks = list(scope.get("frameworks") or [])
    services = list(scope.get("services") or [])
    if not frameworks or not services:
        raise PolicyError("scope: frameworks and services are required")
    out_of_scope = []
    for n, entry in enumerate(scope.get("out_of_scope") or []):
        if not entry.get("check"):
            raise PolicyError(f"scope.out_of_scope[{n}]: check is required")
        out_of_scope.append((str(entry["check"]), _reason(entry, f"scope.out_of_scope[{n}]")))
    exceptions = []
    for n, entry in enumerate(data.get("exceptions") or []):
        if not entry.get("check") or not entry.get("resource"):
            raise PolicyError(f"exceptions[{n}]: check and resource are required ({entry})")
        exceptions.append(Exception_(str(entry["check"]), str(entry["resource"]),
                                     _reason(entry, f"exceptions[{n}] ({entry['check']})")))
    not_evaluable = []
    for n, entry in enumerate(data.get("not_evaluable") or []):
        if not entry.get("service") or not entry.get("operation"):
            raise PolicyError(f"not_evaluable[{n}]: service and operation are required")
        not_evaluable.append(NotEvaluable(
            str(entry["service"]), str(entry["operation"]), list(entry.get("checks") or []),
            _reason(entry, f"not_evaluable[{n}] ({entry['service']} {entry['operation']})"),
            bool(entry.get("optional", False))))
    return Policy(frameworks, services, out_of_scope, exceptions, not_evaluable)


def load_policy(path: Path = EXCEPTIONS_FILE) -> Policy:
    import yaml

    return parse_policy(yaml.safe_load(path.read_text()) or {})


# --- Prowler's catalogue: which checks the frameworks map to our services ------------------
def prowler_package(venv: Path = PROWLER_VENV) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages/prowler"))
    if not found:
        raise FileNotFoundError(f"prowler is not installed in {venv} (make prowler-setup)")
    return found[-1]


def select_checks(package: Path, policy: Policy) -> tuple[list[str], list[tuple[str, str]]]:
    """(checks to run, [(check, reason)] left out of scope): the checks the frameworks map to,
    of the scope's services, minus out_of_scope."""
    service_of = {}
    for metadata in package.glob("providers/aws/services/*/*/*.metadata.json"):
        meta = json.loads(metadata.read_text())
        service_of[meta["CheckID"]] = meta["ServiceName"]
    mapped: set[str] = set()
    for framework in policy.frameworks:
        spec = json.loads((package / "compliance" / "aws" / f"{framework}.json").read_text())
        mapped.update(c for r in spec["Requirements"] for c in r.get("Checks", []))
    candidates = sorted(c for c in mapped if service_of.get(c) in policy.services)
    selected, left_out = [], []
    for check in candidates:
        reason = next((r for pattern, r in policy.out_of_scope
                       if fnmatch.fnmatchcase(check, pattern)), None)
        if reason:
            left_out.append((check, reason))
        else:
            selected.append(check)
    return selected, left_out


# --- Findings and their verdict ------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    resource: str
    detail: str
    compliance: tuple[str, ...] = ()


def read_findings(ocsf_file: Path) -> list[Finding]:
    """Prowler's JSON-OCSF output: one Detection Finding per check and resource."""
    findings = []
    for item in json.loads(ocsf_file.read_text()):
        resources = item.get("resources") or [{}]
        compliance = item.get("unmapped", {}).get("compliance") or {}
        findings.append(Finding(
            check=item["metadata"]["event_code"], status=item["status_code"],
            resource=str(resources[0].get("uid", "")), detail=item.get("status_detail", ""),
            compliance=tuple(f"{name} {', '.join(ids)}" for name, ids in sorted(compliance.items())
                             if name.startswith(("AWS-Foundational-Security", "CIS-")))))
    return findings


def read_failed_calls(errors_file: Path) -> list[dict[str, Any]]:
    """The failed AWS calls that mean the emulator lacks an API: an HTTP error page or no
    parsable answer, not an AWS error code (NoSuchBucketPolicy and the like are answers)."""
    if not errors_file.exists():
        return []
    calls = []
    for line in errors_file.read_text().splitlines():
        call = json.loads(line)
        code = call["code"]
        if not code or code.isdigit() or code in EMULATOR_GAP_CODES:
            calls.append(call)
    return calls


@dataclass
class Verdict:
    checks: list[str]
    findings: list[Finding]
    new: list[Finding] = field(default_factory=list)
    excepted: list[tuple[Finding, Exception_]] = field(default_factory=list)
    set_aside: list[Finding] = field(default_factory=list)
    stale: list[Exception_] = field(default_factory=list)
    stale_not_evaluable: list[NotEvaluable] = field(default_factory=list)
    unexplained_calls: list[dict[str, Any]] = field(default_factory=list)
    not_evaluable: dict[str, list[NotEvaluable]] = field(default_factory=dict)
    no_finding: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.new or self.stale or self.stale_not_evaluable or self.unexplained_calls)

    def problems(self) -> list[str]:
        """One line per reason the scan fails."""
        lines = [f"NEW {f.status} {f.check} {f.resource}: {f.detail}" for f in self.new]
        lines += [f"STALE exception {e.check} {e.resource}: matches no finding any more "
                  f"(remove it from {EXCEPTIONS_FILE.relative_to(REPO)})" for e in self.stale]
        lines += [f"STALE not_evaluable {n.service} {n.operation}: the emulator answers it now "
                  "(remove the entry; its checks are evaluated again)"
                  for n in self.stale_not_evaluable]
        lines += [f"UNEXPLAINED failed call {c['service']} {c['operation']} ({c['error']} "
                  f"{c['code']}): a check may be blind; add it to not_evaluable with its checks "
                  "and reason, or fix the emulator" for c in self.unexplained_calls]
        return lines

    def summary(self) -> list[str]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.status] = counts.get(f.status, 0) + 1
        lines = [f"prowler: {len(self.checks)} checks, {len(self.findings)} findings "
                 + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                 + f"; {len(self.excepted)} excepted, {len(self.new)} new"]
        for check, entries in sorted(self.not_evaluable.items()):
            reasons = "; ".join(sorted({f"{e.service} {e.operation}: {e.reason}" for e in entries}))
            lines.append(f"NOT EVALUABLE on the emulator: {check} ({reasons})")
        if self.no_finding:
            lines.append(f"no resource to evaluate ({len(self.no_finding)} checks): "
                         + " ".join(self.no_finding))
        return lines


def judge(checks: Sequence[str], findings: Iterable[Finding],
          failed_calls: Iterable[dict[str, Any]], policy: Policy) -> Verdict:
    """Findings and failed calls against the exceptions file: what is new, excepted, stale."""
    findings = list(findings)
    verdict = Verdict(list(checks), findings)
    for entry in policy.not_evaluable:
        entry.calls = 0
    for entry in policy.exceptions:
        entry.used = 0
    for call in failed_calls:
        entries = [e for e in policy.not_evaluable if e.matches(call)]
        if not entries and call not in verdict.unexplained_calls:
            verdict.unexplained_calls.append(call)
        for entry in entries:
            entry.calls += 1
    verdict.stale_not_evaluable = [e for e in policy.not_evaluable
                                   if not e.calls and not e.optional]
    for entry in policy.not_evaluable:
        for check in entry.checks:
            if entry.calls and check in checks:
                verdict.not_evaluable.setdefault(check, []).append(entry)
    for finding in findings:
        if finding.check in verdict.not_evaluable:
            verdict.set_aside.append(finding)
            continue
        if finding.status not in FLAGGED:
            continue
        entry = next((e for e in policy.exceptions if e.matches(finding)), None)
        if entry is None:
            verdict.new.append(finding)
        else:
            entry.used += 1
            verdict.excepted.append((finding, entry))
    # An exception of a check that did not run (set aside, or not selected) is not stale:
    # its check was not evaluated, so nothing says it stopped failing.
    evaluated = set(checks) - set(verdict.not_evaluable)
    verdict.stale = [e for e in policy.exceptions if not e.used
                     and any(fnmatch.fnmatchcase(c, e.check) for c in evaluated)]
    seen = {f.check for f in findings}
    verdict.no_finding = [c for c in checks if c not in seen and c not in verdict.not_evaluable]
    return verdict


# --- The scan ------------------------------------------------------------------------------
def inventory_region(inventory: Path = REPO / "inventories" / "local") -> str:
    """booking_region of the inventory (its group_vars, else group_vars/all)."""
    import yaml

    for path in [*sorted(inventory.glob("group_vars/*/main.yml")),
                 REPO / "group_vars" / "all" / "main.yml"]:
        data = yaml.safe_load(path.read_text()) or {}
        if "booking_region" in data:
            return str(data["booking_region"])
    return "us-east-1"


@dataclass
class Scan:
    verdict: Verdict
    left_out: list[tuple[str, str]]
    output_dir: Path
    wall: float
    cpu: float
    returncode: int


def scan(endpoint_url: str, region: str | None = None, *, policy_file: Path = EXCEPTIONS_FILE,
         venv: Path = PROWLER_VENV, output_dir: Path = OUTPUT_DIR, timeout: int = 1200) -> Scan:
    """Run prowler against `endpoint_url` and judge its findings."""
    policy = load_policy(policy_file)
    checks, left_out = select_checks(prowler_package(venv), policy)
    region = region or inventory_region()
    output_dir.mkdir(parents=True, exist_ok=True)
    for old in [*output_dir.glob("scan*"), output_dir / "failed-calls.jsonl"]:
        old.unlink(missing_ok=True)
    errors_file = output_dir / "failed-calls.jsonl"
    # Only the emulator's settings: a developer's own AWS profile must never be scanned.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": endpoint_url, "AWS_ACCESS_KEY_ID": "emulator",
                "AWS_SECRET_ACCESS_KEY": "emulator", "AWS_DEFAULT_REGION": region,
                "AWS_REGION": region, "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"})
    command = [str(venv / "bin" / "python"), str(Path(__file__).resolve()), "--run-prowler",
               str(errors_file), "--", "aws", "--region", region, "--check", *checks,
               "--output-formats", "json-ocsf", "--output-directory", str(output_dir),
               "--output-filename", "scan", "--no-banner", "--no-color",
               "--ignore-exit-code-3", "--log-level", "ERROR",
               "--log-file", str(output_dir / "scan.log")]
    before = os.times()
    started = time.monotonic()
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    wall = time.monotonic() - started
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    (output_dir / "scan.out").write_text(proc.stdout + proc.stderr)
    ocsf = output_dir / "scan.ocsf.json"
    if proc.returncode != 0 or not ocsf.exists():
        raise RuntimeError(f"prowler failed (exit {proc.returncode}): "
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    verdict = judge(checks, read_findings(ocsf), read_failed_calls(errors_file), policy)
    return Scan(verdict, left_out, output_dir, wall, cpu, proc.returncode)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--run-prowler"]:
        errors_file, separator, *prowler_args = argv[1:]
        assert separator == "--", "usage: --run-prowler ERRORS_FILE -- <prowler arguments>"
        return run_prowler(errors_file, prowler_args)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", default=os.environ.get(
        "BOOKING_EMULATOR_URL", "http://127.0.0.1:5000"),
        help="the AWS endpoint (default BOOKING_EMULATOR_URL, else the emulator on :5000)")
    parser.add_argument("--region", help="default: the local inventory's booking_region")
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS_FILE)
    parser.add_argument("--venv", type=Path, default=PROWLER_VENV)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    parser.add_argument("--list-checks", action="store_true",
                        help="print the checks the scan runs and those out of scope, then exit")
    args = parser.parse_args(argv)
    if args.list_checks:
        checks, left_out = select_checks(prowler_package(args.venv), load_policy(args.exceptions))
        print("\n".join(checks))
        for check, reason in left_out:
            print(f"# out of scope: {check}: {reason}")
        return 0
    result = scan(args.endpoint_url, args.region, policy_file=args.exceptions, venv=args.venv,
                  output_dir=args.output_dir)
    for line in result.verdict.summary():
        print(line)
    print(f"{len(result.left_out)} checks of these services out of scope (account baseline); "
          f"scan {result.wall:.0f} s wall, {result.cpu:.0f} CPU s; "
          f"report {result.output_dir / 'scan.ocsf.json'}")
    problems = result.verdict.problems()
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
