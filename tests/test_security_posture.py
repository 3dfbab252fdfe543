"""The security posture of what site.yml provisions: Prowler's FSBP and CIS checks of the services
it creates, against the site stack's converged emulator (tools/prowler_scan.py). Every FAIL or
MANUAL finding is fixed in the roles or excepted with its reason in
security/prowler-exceptions.yml; a new finding, a stale exception or a failed call the file does
not explain fails the test.

The scan itself runs in tests/test_teardown.py, on that file's released site stack (site.yml and
a release: the ECS task definitions and services too), beside the check-mode teardown, before
anything is removed. Here: the verdict's rules, without AWS.
"""

from __future__ import annotations

import pytest
from prowler_scan import (
    REPO,
    Finding,
    PolicyError,
    judge,
    load_policy,
    parse_policy,
    prowler_package,
    select_checks,
)

# --- The verdict, without AWS ------------------------------------------------------------------
POLICY = {
    "scope": {"frameworks": ["fsbp"], "services": ["s3"],
              "out_of_scope": [{"check": "s3_account_*", "reason": "the account's"}]},
    "exceptions": [
        {"check": "s3_bucket_object_lock", "resource": "arn:aws:s3:::app-*", "reason": "why not"},
        {"check": "s3_bucket_no_mfa_delete", "resource": "arn:aws:s3:::*", "reason": "root only"},
    ],
    "not_evaluable": [
        {"service": "s3control", "operation": "*", "checks": ["s3_access_point_block"],
         "reason": "host prefix"},
        {"service": "rds", "operation": "DescribeDBEngineVersions", "checks": [],
         "optional": True, "reason": "plain moto only"},
    ],
}
CHECKS = ["s3_bucket_object_lock", "s3_bucket_no_mfa_delete", "s3_access_point_block",
          "s3_bucket_versioning"]


def finding(check: str, resource: str, status: str = "FAIL") -> Finding:
    return Finding(check, status, resource, f"{check} on {resource}")


S3CONTROL_DOWN = {"service": "s3control", "operation": "ListAccessPoints",
                  "error": "EndpointConnectionError", "code": ""}


def test_an_excepted_finding_passes_a_new_one_fails_with_one_line():
    verdict = judge(CHECKS, [
        finding("s3_bucket_object_lock", "arn:aws:s3:::app-media"),
        finding("s3_bucket_no_mfa_delete", "arn:aws:s3:::app-media"),
        finding("s3_bucket_object_lock", "arn:aws:s3:::other-bucket"),
        finding("s3_bucket_versioning", "arn:aws:s3:::app-media", "PASS"),
        finding("s3_bucket_versioning", "arn:aws:s3:::app-logs", "MANUAL"),
    ], [S3CONTROL_DOWN], parse_policy(POLICY))
    assert not verdict.ok
    assert verdict.problems() == [
        "NEW FAIL s3_bucket_object_lock arn:aws:s3:::other-bucket: "
        "s3_bucket_object_lock on arn:aws:s3:::other-bucket",
        "NEW MANUAL s3_bucket_versioning arn:aws:s3:::app-logs: "
        "s3_bucket_versioning on arn:aws:s3:::app-logs",
    ]
    assert len(verdict.excepted) == 2


def test_an_exception_that_matches_nothing_is_stale():
    verdict = judge(CHECKS, [finding("s3_bucket_no_mfa_delete", "arn:aws:s3:::app-media")],
                    [S3CONTROL_DOWN], parse_policy(POLICY))
    assert [line.split(":")[0] for line in verdict.problems()] == [
        "STALE exception s3_bucket_object_lock arn"]


def test_an_exception_of_a_check_that_did_not_run_is_not_stale():
    verdict = judge(["s3_bucket_no_mfa_delete"],
                    [finding("s3_bucket_no_mfa_delete", "arn:aws:s3:::app-media")],
                    [S3CONTROL_DOWN], parse_policy(POLICY))
    assert verdict.ok, verdict.problems()


def test_a_check_the_emulator_cannot_answer_is_reported_never_passed():
    findings = [finding("s3_bucket_object_lock", "arn:aws:s3:::app-media"),
                finding("s3_bucket_no_mfa_delete", "arn:aws:s3:::app-media"),
                finding("s3_access_point_block", "arn:aws:s3:::app-media", "PASS"),
                finding("s3_access_point_block", "arn:aws:s3:::app-logs", "FAIL")]
    verdict = judge(CHECKS, findings, [S3CONTROL_DOWN], parse_policy(POLICY))
    assert verdict.ok, verdict.problems()
    assert list(verdict.not_evaluable) == ["s3_access_point_block"]
    assert len(verdict.set_aside) == 2
    assert any(line.startswith("NOT EVALUABLE on the emulator: s3_access_point_block")
               for line in verdict.summary())
    # Once the emulator answers, the entry is stale (the optional one never is).
    verdict = judge(CHECKS, findings, [], parse_policy(POLICY))
    assert verdict.problems()[-1].startswith("STALE not_evaluable s3control *")
    assert len(verdict.stale_not_evaluable) == 1


def test_a_failed_call_no_entry_explains_fails_the_scan():
    unexplained = {"service": "ecs", "operation": "DescribeTaskDefinition", "error": "ClientError",
                   "code": "500"}
    verdict = judge(CHECKS, [finding("s3_bucket_object_lock", "arn:aws:s3:::app-media"),
                             finding("s3_bucket_no_mfa_delete", "arn:aws:s3:::app-media")],
                    [S3CONTROL_DOWN, unexplained], parse_policy(POLICY))
    assert verdict.problems() == [
        "UNEXPLAINED failed call ecs DescribeTaskDefinition (ClientError 500): a check may be "
        "blind; add it to not_evaluable with its checks and reason, or fix the emulator"]


@pytest.mark.parametrize(("section", "entry"), [
    ("exceptions", {"check": "s3_bucket_object_lock", "resource": "*"}),
    ("exceptions", {"check": "s3_bucket_object_lock", "resource": "*", "reason": "  "}),
    ("not_evaluable", {"service": "ec2", "operation": "X", "checks": []}),
])
def test_every_entry_needs_its_reason(section, entry):
    with pytest.raises(PolicyError, match="reason"):
        parse_policy({**POLICY, section: [entry]})


def test_the_exceptions_file_is_valid_and_its_checks_exist():
    """Every check the file names is one of prowler's (a typo would never match: stale, or a
    not_evaluable entry that sets nothing aside)."""
    policy = load_policy()
    package = prowler_package()
    known = {path.name.removesuffix(".metadata.json")
             for path in package.glob("providers/aws/services/*/*/*.metadata.json")}
    import fnmatch

    named = ([e.check for e in policy.exceptions] + [c for c, _ in policy.out_of_scope]
             + [c for e in policy.not_evaluable for c in e.checks])
    assert [c for c in named if not fnmatch.filter(known, c)] == []
    checks, left_out = select_checks(package, policy)
    assert checks
    assert left_out
    assert (REPO / "security" / "prowler-exceptions.yml").exists()
