"""playbooks/teardown.yml on the emulator: site -> release -> teardown leaves nothing tagged with
the environment behind but what it says it keeps, a re-run changes nothing, and site.yml builds
the environment again afterwards. Production is refused without confirmation.

The environment is the site stack (tests/conftest.py): under xdist this file's own, converged
here on its worker while tests/test_site.py runs on another (on one worker, converged by that
file just before), on an emulator that is strict with long holds and creates slowly, so the
final site.yml meets a first run's races again (but ECS's service-linked role, which the teardown
keeps). The steps run in file order and leave the environment converged again. Before the
teardown, Prowler's posture scan reads the released environment, beside the check-mode teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import release_env
from prowler_scan import Scan, scan

ENV = "local"
PREFIX = release_env.PREFIX
TAG_FILTER = [{"Key": "Environment", "Values": [ENV]}]


def _tagged(aws) -> list[str]:
    """Every resource the Resource Groups Tagging API finds with the environment's tag."""
    pages = aws("resourcegroupstaggingapi").get_paginator("get_resources").paginate(
        TagFilters=TAG_FILTER)
    return sorted(r["ResourceARN"] for page in pages for r in page["ResourceTagMappingList"])


def _leftovers(aws) -> dict[str, list[str]]:
    """What the environment owns, service by service: the tagging API misses some types
    (IAM roles, ECS, RDS, ECR, ElastiCache, SSM, Route 53, ACM on the emulator), so each is
    also asked directly. INACTIVE ECS clusters and services are AWS's record of deleted ones."""
    ecs, rds = aws("ecs"), aws("rds")
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    # AWS's record of deleted resources, still tagged for a while: NAT gateways in state
    # "deleted" (about an hour), INACTIVE ECS clusters and services.
    deleted = {f":natgateway/{n['NatGatewayId']}" for n in aws("ec2").describe_nat_gateways()[
        "NatGateways"] if n["State"] == "deleted"}
    deleted |= {c["clusterArn"] for c in clusters if c["status"] == "INACTIVE"}
    for cluster in clusters:
        arns = ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"]
        deleted |= {s["serviceArn"] for s in (ecs.describe_services(
            cluster=cluster["clusterArn"], services=arns)["services"] if arns else [])
            if s["status"] == "INACTIVE"}
    found = {
        # Snapshots are backups, kept on purpose: _kept_snapshots() looks at them.
        "tagged": [arn for arn in _tagged(aws) if ":snapshot:" not in arn
                   and not any(arn.endswith(gone) for gone in deleted)],
        "iam_roles": [r["RoleName"] for r in aws("iam").list_roles()["Roles"]
                      if r["RoleName"].startswith(PREFIX)],
        "ecs_clusters": [c["clusterName"] for c in clusters if c["status"] != "INACTIVE"],
        "task_definitions": ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
        + ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"],
        "scalable_targets": [t["ResourceId"] for t in aws("application-autoscaling")
                             .describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]],
        "load_balancers": [lb["LoadBalancerName"] for lb in
                           aws("elbv2").describe_load_balancers()["LoadBalancers"]],
        "target_groups": [t["TargetGroupName"] for t in
                          aws("elbv2").describe_target_groups()["TargetGroups"]],
        "web_acls": [a["Name"] for a in aws("wafv2").list_web_acls(Scope="REGIONAL")["WebACLs"]],
        "certificates": [c["DomainName"] for c in
                         aws("acm").list_certificates()["CertificateSummaryList"]],
        "hosted_zones": [z["Name"] for z in aws("route53").list_hosted_zones()["HostedZones"]],
        "alarms": [a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboards": [d["DashboardName"] for d in
                       aws("cloudwatch").list_dashboards()["DashboardEntries"]],
        "topics": [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]],
        "log_groups": [g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]],
        "db_instances": [d["DBInstanceIdentifier"] for d in
                         rds.describe_db_instances()["DBInstances"]],
        "db_subnet_groups": [g["DBSubnetGroupName"] for g in
                             rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "cache_groups": [g["ReplicationGroupId"] for g in aws("elasticache")
                         .describe_replication_groups()["ReplicationGroups"]],
        "cache_subnet_groups": [g["CacheSubnetGroupName"] for g in aws("elasticache")
                                .describe_cache_subnet_groups()["CacheSubnetGroups"]
                                if g["CacheSubnetGroupName"] != "default"],
        "parameters": [p["Name"] for p in aws("ssm").describe_parameters()["Parameters"]],
        "buckets": [b["Name"] for b in aws("s3").list_buckets()["Buckets"]],
        "repositories": [r["repositoryName"] for r in
                         aws("ecr").describe_repositories()["repositories"]],
        "vpcs": [v["VpcId"] for v in aws("ec2").describe_vpcs()["Vpcs"] if not v["IsDefault"]],
        "elastic_ips": [a["AllocationId"] for a in aws("ec2").describe_addresses()["Addresses"]],
        "trails": [t["Name"] for t in aws("cloudtrail").describe_trails()["trailList"]],
        "detectors": aws("guardduty").list_detectors()["DetectorIds"],
        "config_recorders": [r["name"] for r in aws("config")
                             .describe_configuration_recorders()["ConfigurationRecorders"]],
    }
    return {area: items for area, items in found.items() if items}


def _kept_snapshots(aws) -> list[dict]:
    return [s for s in aws("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]


def _teardown(ansible, *args, **extra):
    return ansible.playbook("playbooks/teardown.yml", *args, extra_vars=extra or None,
                            timeout=1200)


@pytest.fixture(scope="module")
def released(site_converged, site_emulator, site_ansible):
    """A whole environment with a release running: the site stack, then deploy.yml of an ECR
    tag."""
    release_env.push(site_emulator.client, "aaa111")
    deploy = site_ansible.playbook("playbooks/deploy.yml", extra_vars={
        "image_tag": "aaa111", "release_registry": ""})
    assert deploy.rc == 0, deploy.explain()
    return site_emulator.client


@pytest.fixture(scope="module")
def posture_scan(released, site_emulator, tmp_path_factory) -> Iterator[Future[Scan]]:
    """Prowler's scan of the released environment (tools/prowler_scan.py), started in the
    background when the check-mode teardown starts: both only read, so they run side by side,
    and the scan's test, next in file order, waits for it before anything is removed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(scan, site_emulator.url, output_dir=tmp_path_factory.mktemp("prowler"))


@pytest.mark.parametrize("confirm", [None, "staging", "PROD"])
def test_production_is_refused_without_its_name_before_any_aws_call(fresh_emulator, ansible,
                                                                     confirm):
    extra = {"booking_env": "prod"} | ({"teardown_confirm": confirm} if confirm else {})
    run = ansible.playbook("playbooks/teardown.yml", extra_vars=extra)
    assert run.rc != 0, run.explain()
    assert "Refusing to tear down 'prod'" in run.output, run.explain()
    assert "teardown_confirm=prod" in run.output, run.explain()
    assert fresh_emulator.calls == [], "an AWS call was made before the refusal"


def test_check_mode_reports_the_removal_and_removes_nothing(site_ansible, released,
                                                            posture_scan):
    before = _leftovers(released)
    checked = _teardown(site_ansible, "--check", "--diff")
    assert checked.rc == 0, checked.explain()
    assert checked.changed > 0, checked.explain()
    assert _leftovers(released) == before


def test_the_released_environment_has_no_new_posture_finding(posture_scan):
    """Security posture (issue 20): Prowler's FSBP and CIS checks of what site.yml and a release
    provision. Every FAIL or MANUAL finding is excepted with its reason in
    security/prowler-exceptions.yml; a new finding, a stale exception or a failed call the file
    does not explain fails (tests/test_security_posture.py: the verdict's rules)."""
    result = posture_scan.result(timeout=1200)
    verdict = result.verdict
    report = "\n".join(verdict.summary() + verdict.problems())
    assert verdict.ok, f"{report}\n(prowler's output: {result.output_dir})"
    # The scan saw the environment: findings on what site.yml and the release made.
    resources = {f.resource for f in verdict.findings}
    assert any(":db:booking-api-local-postgres" in r for r in resources), report
    assert any("booking-api-local-alb" in r for r in resources), report
    assert any(":task-definition/booking-api-local-web" in r for r in resources), report
    assert verdict.excepted, report


def test_teardown_keeps_the_backups_and_a_final_snapshot(site_ansible, released):
    run = _teardown(site_ansible)
    assert run.rc == 0, run.explain()
    assert run.changed > 0
    left = _leftovers(released)
    [backup] = left.pop("buckets")
    assert backup.startswith(f"{PREFIX}-backup-")
    # The tagging API lists buckets (not every type: see _leftovers).
    assert left.pop("tagged", []) == [f"arn:aws:s3:::{backup}"]
    assert left == {}, "left behind: " + repr(left)
    snapshots = _kept_snapshots(released)
    final = [s for s in snapshots if "-final-" in s["DBSnapshotIdentifier"]]
    assert len(final) == 1, snapshots
    tags = {t["Key"]: t["Value"] for t in released("rds").list_tags_for_resource(
        ResourceName=final[0]["DBSnapshotArn"])["TagList"]}
    assert tags.get("Environment") == ENV
    # The playbook says what survives.
    assert backup in run.stdout
    assert final[0]["DBSnapshotIdentifier"] in run.stdout


def test_backups_go_when_told_and_a_rerun_changes_nothing(site_ansible, released):
    # As an AWX survey hands it over: the string "false".
    told = _teardown(site_ansible, teardown_keep_backups="false")
    assert told.rc == 0, told.explain()
    assert _leftovers(released) == {}, _leftovers(released)

    # The re-run and the check, side by side: on what is left both only read (each asserts
    # changed=0), and this file ends the suite's longest chain.
    with ThreadPoolExecutor(max_workers=2) as pool:
        again_run = pool.submit(_teardown, site_ansible, teardown_keep_backups=False)
        checked_run = pool.submit(_teardown, site_ansible, "--check", "--diff")
        again, checked = again_run.result(), checked_run.result()
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.explain()
    assert checked.rc == 0, checked.explain()
    assert checked.changed == 0, checked.explain()
    # Snapshots are backups: the final one is still there, now the only trace.
    assert len(_kept_snapshots(released)) == 1


def test_site_builds_the_environment_again(site_ansible, released):
    run = site_ansible.playbook("site.yml", timeout=1500)
    assert run.rc == 0, run.explain()
    assert run.changed > 0
    left = _leftovers(released)
    assert f"{PREFIX}-cluster" in left["ecs_clusters"]
    assert f"{PREFIX}-postgres" in left["db_instances"]
    assert f"{PREFIX}-alb" in left["load_balancers"]
