"""tools/moto_strict.py: with BOOKING_EMULATOR_STRICT the emulator fails first runs as AWS does.

Strict settings are read when the patches are applied, so each group runs against its own emulator
process (harness.emulator_process), the "off" test too; the session's in-process emulator runs
with the suite's default (the `test` profile). Each behaviour: the call fails as on AWS while the
condition holds, and succeeds once it no longer does.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import moto_strict
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import RemoteEmulator, emulator_process

DELAY = 1.5  # every strict delay in these tests, in seconds
STRICT_SPEC = f"slr={DELAY},iam={DELAY},waf={DELAY},nat={DELAY},consistency={DELAY},rds_versions"
ACCOUNT = "123456789012"  # moto's default account

Aws = Callable[..., Any]


def _factory(url: str) -> Aws:
    def client(service: str, **config: Any) -> Any:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="emulator", aws_secret_access_key="emulator",
                            config=Config(**config) if config else None)
    return client


def _post(url: str, payload: dict | None = None) -> tuple[int, Any]:
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body or b"null")
    except ValueError:
        return status, body.decode(errors="replace")


def _error(call: Callable[[], Any]) -> tuple[str, str, int]:
    """(code, message, HTTP status) of the ClientError `call` raises."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return (error["Error"]["Code"], error["Error"].get("Message", ""),
            error["ResponseMetadata"]["HTTPStatusCode"])


def _wait_out(since: float, seconds: float = DELAY) -> None:
    """Sleep until `seconds` (plus a margin) have passed since the monotonic time `since`."""
    time.sleep(max(0.0, since + seconds + 0.2 - time.monotonic()))


@pytest.fixture(scope="module")
def strict_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("strict") / "calls.jsonl"
    with emulator_process(log, BOOKING_EMULATOR_STRICT=STRICT_SPEC) as url:
        yield url


@pytest.fixture
def aws_strict(strict_url: str) -> Aws:
    """A client factory for the strict emulator (tests use names of their own)."""
    return _factory(strict_url)


@pytest.fixture
def fresh_strict(strict_url: str) -> Aws:
    """The same, every resource forgotten first: no service-linked role, no recorder."""
    assert _post(f"{strict_url}/moto-api/reset")[0] == 200
    return _factory(strict_url)


def _network(aws: Aws, cidr: str = "10.40") -> tuple[str, list[str]]:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    return vpc, subnets


TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": "cloudtrail.amazonaws.com"}}]}


# --- slr ---------------------------------------------------------------------------------------

def test_a_fargate_cluster_fails_until_ecs_has_its_service_linked_role(fresh_strict: Aws) -> None:
    ecs, iam = fresh_strict("ecs"), fresh_strict("iam")
    path = "/aws-service-role/ecs.amazonaws.com/"
    assert iam.list_roles(PathPrefix=path)["Roles"] == []

    def create() -> Any:
        return ecs.create_cluster(clusterName="fargate", capacityProviders=["FARGATE",
                                                                            "FARGATE_SPOT"])

    code, message, status = _error(create)
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == ("Unable to assume the service linked role. Please verify that the ECS "
                       "service linked role exists.")
    assert ecs.list_clusters()["clusterArns"] == []
    # As on AWS, the failed call made the role; it is not usable at once.
    role = iam.list_roles(PathPrefix=path)["Roles"][0]
    born = time.monotonic()
    assert role["RoleName"] == "AWSServiceRoleForECS"
    assert _error(create)[0] == "InvalidParameterException"
    _wait_out(born)
    assert create()["cluster"]["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    # A cluster without the Fargate providers never needed it.
    assert ecs.create_cluster(clusterName="plain")["cluster"]["status"] == "ACTIVE"


def test_create_service_linked_role_names_roles_as_aws_and_refuses_a_second(
        fresh_strict: Aws) -> None:
    iam, ecs = fresh_strict("iam"), fresh_strict("ecs")
    role = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    born = time.monotonic()
    assert (role["RoleName"], role["Path"]) == ("AWSServiceRoleForECS",
                                                "/aws-service-role/ecs.amazonaws.com/")
    config = iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]
    assert config["Arn"] == (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
                             "AWSServiceRoleForConfig")
    code, message, _ = _error(lambda: iam.create_service_linked_role(
        AWSServiceName="ecs.amazonaws.com"))
    assert (code, message) == ("InvalidInput", "Service role name AWSServiceRoleForECS has been "
                                               "taken in this account, please try a different "
                                               "suffix.")
    _wait_out(born)
    assert ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE"])["cluster"]


# --- slr + iam: AWS Config --------------------------------------------------------------------

def test_the_config_recorder_needs_its_role_to_exist_and_to_have_propagated(
        fresh_strict: Aws) -> None:
    config, iam = fresh_strict("config"), fresh_strict("iam")
    slr_arn = (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/"
               "AWSServiceRoleForConfig")

    def put() -> Any:
        return config.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": slr_arn,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False}})

    assert _error(put)[::2] == ("InvalidRoleException", 400)  # no such role
    iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
    born = time.monotonic()
    assert _error(put)[0] == "InvalidRoleException"  # created a moment ago
    _wait_out(born)
    put()
    assert config.describe_configuration_recorders()["ConfigurationRecorders"][0][
        "roleARN"] == slr_arn

    # consistency: a config rule read back by name right after its creation is not there yet.
    config.put_config_rule(ConfigRule={"ConfigRuleName": "rule", "Source": {
        "Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}})
    created = time.monotonic()
    code, _, _ = _error(lambda: config.describe_config_rules(ConfigRuleNames=["rule"]))
    assert code == "NoSuchConfigRuleException"
    assert config.describe_config_rules()["ConfigRules"] == []
    _wait_out(created)
    assert config.describe_config_rules(ConfigRuleNames=["rule"])["ConfigRules"][0][
        "ConfigRuleName"] == "rule"


# --- iam: CloudTrail --------------------------------------------------------------------------

def test_cloudtrail_refuses_a_logs_role_iam_has_not_propagated(aws_strict: Aws) -> None:
    iam, trail, s3 = aws_strict("iam"), aws_strict("cloudtrail"), aws_strict("s3")
    logs, ecs, ec2 = aws_strict("logs"), aws_strict("ecs"), aws_strict("ec2")
    s3.create_bucket(Bucket="trail-bucket")
    logs.create_log_group(logGroupName="audit")
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:audit:*"
    role_arn = iam.create_role(RoleName="trail-logs",
                               AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    born = time.monotonic()

    def create() -> Any:
        return trail.create_trail(Name="trail", S3BucketName="trail-bucket",
                                  CloudWatchLogsLogGroupArn=group_arn,
                                  CloudWatchLogsRoleArn=role_arn)

    code, message, status = _error(create)
    assert (code, message, status) == (
        "InvalidCloudWatchLogsRoleArnException",
        "Access denied. Verify in IAM that the role has adequate trust relationships.", 400)
    # AWS checks no role when a task definition or a flow log names it: neither do we.
    ecs.register_task_definition(family="f", executionRoleArn=role_arn, containerDefinitions=[
        {"name": "c", "image": "i", "memory": 128}])
    vpc, _ = _network(aws_strict)
    assert ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                LogGroupName="audit", DeliverLogsPermissionArn=role_arn)[
        "FlowLogIds"]
    _wait_out(born)
    iam.put_role_policy(RoleName="trail-logs", PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                "Resource": group_arn}]}))
    changed = time.monotonic()
    code, message, _ = _error(create)
    assert (code, message) == (
        "InvalidCloudWatchLogsLogGroupArnException",
        "Access denied. Verify in IAM that the role has adequate permissions.")
    _wait_out(changed)
    assert create()["CloudWatchLogsRoleArn"] == role_arn

    # UpdateTrail is held to the same rule; an unchanged policy put again changes nothing.
    other = iam.create_role(RoleName="other-logs",
                            AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    assert _error(lambda: trail.update_trail(
        Name="trail", CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=other))[0] == (
        "InvalidCloudWatchLogsRoleArnException")
    iam.put_role_policy(RoleName="trail-logs", PolicyName="write", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                "Resource": group_arn}]}))
    trail.update_trail(Name="trail", CloudWatchLogsLogGroupArn=group_arn,
                       CloudWatchLogsRoleArn=role_arn)


# --- waf ---------------------------------------------------------------------------------------

def test_waf_association_waits_for_an_active_alb_and_a_propagated_web_acl(
        aws_strict: Aws) -> None:
    elbv2, waf = aws_strict("elbv2"), aws_strict("wafv2")
    _, subnets = _network(aws_strict, "10.41")
    alb = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    alb_born = time.monotonic()

    def web_acl(name: str) -> str:
        return waf.create_web_acl(
            Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
            VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                              "MetricName": name})["Summary"]["ARN"]

    def associate(acl: str, resource: str = alb["LoadBalancerArn"]) -> Any:
        return waf.associate_web_acl(WebACLArn=acl, ResourceArn=resource)

    first = web_acl("first")
    code, message, status = _error(lambda: associate(first))
    assert (code, status) == ("WAFUnavailableEntityException", 400)
    assert message == ("AWS WAF couldn\u2019t retrieve the resource that you requested. Retry "
                       "your request.")
    missing = alb["LoadBalancerArn"].replace("/web/", "/gone/")
    assert _error(lambda: associate(first, missing))[0] == "WAFNonexistentItemException"
    _wait_out(alb_born)
    assert elbv2.describe_load_balancers(Names=["web"])["LoadBalancers"][0]["State"][
        "Code"] == "active"
    second = web_acl("second")
    acl_born = time.monotonic()
    assert _error(lambda: associate(second))[0] == "WAFNonexistentItemException"
    _wait_out(acl_born)
    associate(second)
    assert waf.get_web_acl_for_resource(ResourceArn=alb["LoadBalancerArn"])["WebACL"][
        "Name"] == "second"


# --- nat ---------------------------------------------------------------------------------------

def test_a_route_to_a_pending_nat_gateway_fails(aws_strict: Aws) -> None:
    ec2 = aws_strict("ec2")
    vpc, subnets = _network(aws_strict, "10.42")
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=ec2.allocate_address(
        Domain="vpc")["AllocationId"])["NatGateway"]["NatGatewayId"]
    born = time.monotonic()
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]

    def route(gateway: str) -> Any:
        return ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                                NatGatewayId=gateway)

    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "pending"
    code, message, status = _error(lambda: route(nat))
    assert (code, message, status) == ("InvalidNatGatewayID.NotFound",
                                       f"The natGateway ID '{nat}' does not exist", 400)
    assert _error(lambda: route("nat-0123456789abcdef0"))[0] == "InvalidNatGatewayID.NotFound"
    _wait_out(born)
    assert route(nat)["Return"] is True
    # ReplaceRoute to a second, pending NAT gateway fails the same way.
    other = ec2.create_nat_gateway(SubnetId=subnets[1], AllocationId=ec2.allocate_address(
        Domain="vpc")["AllocationId"])["NatGateway"]["NatGatewayId"]
    assert _error(lambda: ec2.replace_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=other))[0] == (
        "InvalidNatGatewayID.NotFound")


# --- consistency -------------------------------------------------------------------------------

def test_a_new_flow_log_and_a_new_task_are_missing_from_their_describe_for_a_while(
        aws_strict: Aws) -> None:
    ec2, ecs = aws_strict("ec2"), aws_strict("ecs")
    vpc, subnets = _network(aws_strict, "10.43")
    flow_log = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogGroupName="flows",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flows")["FlowLogIds"][0]
    by_filter = [{"Name": "resource-id", "Values": [vpc]}]
    assert ec2.describe_flow_logs(FlowLogIds=[flow_log])["FlowLogs"] == []
    assert ec2.describe_flow_logs(Filters=by_filter)["FlowLogs"] == []
    ecs.create_cluster(clusterName="jobs")
    ecs.register_task_definition(family="migrate", networkMode="awsvpc",
                                 requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                                 containerDefinitions=[{"name": "c", "image": "i"}])
    group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
    task = ecs.run_task(cluster="jobs", taskDefinition="migrate", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {
                            "subnets": subnets, "securityGroups": [group]}})["tasks"][0]["taskArn"]
    born = time.monotonic()
    described = ecs.describe_tasks(cluster="jobs", tasks=[task])
    assert described["tasks"] == []
    assert described["failures"] == [{"arn": task, "reason": "MISSING"}]
    _wait_out(born)
    assert ec2.describe_flow_logs(Filters=by_filter)["FlowLogs"][0]["FlowLogId"] == flow_log
    described = ecs.describe_tasks(cluster="jobs", tasks=[task])
    assert ([t["taskArn"] for t in described["tasks"]], described["failures"]) == ([task], [])


# --- rds_versions -----------------------------------------------------------------------------

def test_rds_offers_some_postgres_versions_and_upgrades_minors_by_force(
        aws_strict: Aws, strict_url: str) -> None:
    rds = aws_strict("rds")
    offered = rds.describe_db_engine_versions(Engine="postgres")["DBEngineVersions"]
    versions = [v["EngineVersion"] for v in offered]
    assert {"15.10", "15.12", "15.13"} <= set(versions)
    fifteen_twelve = next(v for v in offered if v["EngineVersion"] == "15.12")
    assert fifteen_twelve["DBParameterGroupFamily"] == "postgres15"
    assert {"15.13", "15.14"} <= {t["EngineVersion"] for t in fifteen_twelve[
        "ValidUpgradeTarget"] if not t["IsMajorVersionUpgrade"]}
    assert [v["EngineVersion"] for v in rds.describe_db_engine_versions(
        Engine="postgres", EngineVersion="15", DefaultOnly=True)["DBEngineVersions"]] == ["15.13"]

    def create(name: str, version: str | None) -> Any:
        extra = {"EngineVersion": version} if version else {}
        return rds.create_db_instance(
            DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
            MasterUsername="booking", MasterUserPassword="password123", AllocatedStorage=20,
            **extra)["DBInstance"]

    code, message, status = _error(lambda: create("old", "15.2"))
    assert (code, message, status) == ("InvalidParameterCombination",
                                       "Cannot find version 15.2 for postgres", 400)
    assert create("pinned", "15.12")["EngineVersion"] == "15.12"
    assert create("major", "15")["EngineVersion"] == "15.13"
    assert _error(lambda: rds.modify_db_instance(
        DBInstanceIdentifier="pinned", EngineVersion="15.99", ApplyImmediately=True))[1] == (
        "Cannot find upgrade path from 15.12 to 15.99.")

    # AWS's forced minor upgrade; then the pinned 15.12 reads as a downgrade.
    status, answer = _post(f"{strict_url}/_emulator/rds/force-minor-upgrade",
                           {"DBInstanceIdentifier": "pinned", "EngineVersion": "15.13"})
    assert (status, answer["PreviousEngineVersion"]) == (200, "15.12")
    assert rds.describe_db_instances(DBInstanceIdentifier="pinned")["DBInstances"][0][
        "EngineVersion"] == "15.13"
    code, message, _ = _error(lambda: rds.modify_db_instance(
        DBInstanceIdentifier="pinned", EngineVersion="15.12", ApplyImmediately=True))
    assert (code, message) == ("InvalidParameterCombination",
                               "Cannot upgrade postgres from 15.13 to 15.12")
    assert _error(lambda: rds.modify_db_instance(
        DBInstanceIdentifier="pinned", EngineVersion="16.9", ApplyImmediately=True))[1] == (
        "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.")
    assert rds.modify_db_instance(DBInstanceIdentifier="pinned", EngineVersion="16.9",
                                  AllowMajorVersionUpgrade=True, ApplyImmediately=True)[
        "DBInstance"]["EngineVersion"] == "16.9"

    # Retiring the old minor: it can no longer be created; the hook refuses a downgrade.
    status, _ = _post(f"{strict_url}/_emulator/rds/force-minor-upgrade",
                      {"DBInstanceIdentifier": "major", "EngineVersion": "15.14",
                       "RetirePrevious": True})
    assert status == 200
    assert _error(lambda: create("again", "15.13"))[1] == "Cannot find version 15.13 for postgres"
    status, answer = _post(f"{strict_url}/_emulator/rds/force-minor-upgrade",
                           {"DBInstanceIdentifier": "major", "EngineVersion": "15.12"})
    assert status == 400
    assert "not a minor upgrade" in answer["error"]


def test_the_strict_emulator_reports_its_settings(strict_url: str) -> None:
    with urllib.request.urlopen(f"{strict_url}/_emulator/strict", timeout=5) as response:
        settings = json.loads(response.read())
    assert settings == {"slr": DELAY, "iam": DELAY, "waf": DELAY, "nat": DELAY,
                        "consistency": DELAY, "throttle": None, "rds_versions": True,
                        "seed": moto_strict.DEFAULT_SEED}


def test_emulator_up_refuses_a_running_emulator_in_another_mode(
        strict_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import emulator

    port = int(strict_url.rsplit(":", 1)[1])
    files = (tmp_path / "pid", tmp_path / "log", tmp_path / "calls.jsonl")
    monkeypatch.setenv(moto_strict.STRICT_ENV, STRICT_SPEC)
    assert emulator.up(port, *files) == 0  # the same mode: reused
    monkeypatch.setenv(moto_strict.STRICT_ENV, "all")
    assert emulator.up(port, *files) == 1
    assert "`make emulator-down` first" in capsys.readouterr().err


# --- throttle ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def throttling_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every call throttled that was not throttled just before: each call's first attempt."""
    log = tmp_path_factory.mktemp("throttle") / "calls.jsonl"
    with emulator_process(log, BOOKING_EMULATOR_STRICT="throttle=1") as url:
        yield url


# (service, call, AWS's throttling code, HTTP status) per protocol
PROTOCOLS = [
    ("iam", lambda c: c.list_roles(), "Throttling", 400),                # query
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded", 503),   # ec2
    ("ecs", lambda c: c.list_clusters(), "ThrottlingException", 400),    # JSON
    ("s3", lambda c: c.list_buckets(), "SlowDown", 503),                 # rest-xml (S3)
    ("cloudwatch", lambda c: c.list_metrics(), "Throttling", 400),       # JSON, query-compatible
    ("guardduty", lambda c: c.list_detectors(), "ThrottlingException", 400),  # rest-json
]


@pytest.mark.parametrize(("service", "call", "code", "status"), PROTOCOLS,
                         ids=[p[0] for p in PROTOCOLS])
def test_throttled_calls_fail_without_retries_and_succeed_with_botocores(
        throttling_url: str, service: str, call: Callable[[Any], Any], code: str,
        status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.endpoint

    # botocore waits up to a second before a retry: not here (the retry itself still happens).
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    aws = _factory(throttling_url)
    no_retries = aws(service, retries={"total_max_attempts": 1})
    assert _error(lambda: call(no_retries))[::2] == (code, status)
    call(aws(service))  # its only attempt is the one after a throttled call: answered
    for mode in ("legacy", "standard"):
        answer = call(aws(service, retries={"mode": mode}))
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1, mode


def test_the_call_log_marks_the_throttled_attempt_and_its_retry_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that list the calls a run made count each call once (tests/test_verify.py): the
    log tells a throttled attempt from the SDK's retry of it."""
    import botocore.endpoint

    log = tmp_path / "calls.jsonl"
    with emulator_process(log, BOOKING_EMULATOR_STRICT="throttle=1") as url:
        # botocore's wait before the retry: not here (its module `time` is everyone's).
        monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
        _factory(url)("ecs").list_clusters()
        calls = RemoteEmulator(url, log).calls
    assert [(c.action, c.throttled) for c in calls] == [
        ("ListClusters", True), ("ListClusters", False)]


def test_the_emulators_own_paths_are_never_throttled(throttling_url: str) -> None:
    for path in ("/_emulator/health", "/moto-api/", "/_emulator/strict") * 2:
        with urllib.request.urlopen(f"{throttling_url}{path}", timeout=5) as response:
            assert response.status == 200


def test_throttling_is_seeded_and_never_refuses_the_same_call_twice_in_a_row() -> None:
    def decisions(seed: int) -> list[bool]:
        throttle = moto_strict.Throttle(0.5, seed)
        return [throttle.decide("ecs", "ListClusters") for _ in range(200)]

    first = decisions(7)
    assert first == decisions(7)
    assert first != decisions(8)
    assert 40 < sum(first) < 100
    assert not any(a and b for a, b in itertools.pairwise(first))


# --- the spec, and off by default --------------------------------------------------------------

def test_the_spec() -> None:
    parse = moto_strict.parse_spec
    for off in (None, "", "0", "off", "OFF"):
        assert parse(off) is None
    every = parse("1")
    assert every == parse("on") == moto_strict.StrictSettings(
        **moto_strict.DEFAULTS, rds_versions=True)
    assert parse("all,iam=8,throttle=0.5", seed="3") == moto_strict.StrictSettings(
        **{**moto_strict.DEFAULTS, "iam": 8.0, "throttle": 0.5}, rds_versions=True, seed=3)
    assert parse("nat,rds_versions") == moto_strict.StrictSettings(
        nat=moto_strict.DEFAULTS["nat"], rds_versions=True)
    # The test suites' profile: every behaviour on, short holds.
    test = parse("test")
    assert test is not None
    assert test == parse(moto_strict.PROFILES["test"])
    assert None not in (test.slr, test.iam, test.waf, test.nat, test.consistency, test.throttle)
    assert test.rds_versions
    for bad in ("slrr", "iam=-1", "throttle=2", "rds_versions=3"):
        with pytest.raises(ValueError, match="BOOKING_EMULATOR_STRICT"):
            parse(bad)


def test_the_suite_runs_strict_unless_told_otherwise(emulator: Any) -> None:
    """tests/conftest.py makes the `test` profile the suite's default; an explicit
    BOOKING_EMULATOR_STRICT (e.g. `off`) wins."""
    asked = os.environ[moto_strict.STRICT_ENV]
    expected = moto_strict.parse_spec(asked)
    assert expected == moto_strict.ACTIVE
    status, settings = _post_get(f"{emulator.url}{moto_strict.SETTINGS_PATH}")
    assert (status == 200 and settings == expected.as_dict()) if expected else status != 200


def _post_get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
    except ValueError:
        return 200, None


@pytest.fixture(scope="module")
def plain_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("plain") / "calls.jsonl"
    with emulator_process(log, BOOKING_EMULATOR_STRICT="off") as url:
        yield url


def test_off_changes_nothing(plain_url: str) -> None:
    aws = _factory(plain_url)
    status, _ = _post_get(f"{plain_url}{moto_strict.SETTINGS_PATH}")
    assert status != 200  # no hook: moto answers the path
    ecs, rds, ec2 = aws("ecs"), aws("rds"), aws("ec2")
    assert ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE"])["cluster"]
    assert aws("iam").list_roles(PathPrefix="/aws-service-role/")["Roles"] == []
    assert rds.create_db_instance(
        DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t3.micro",
        EngineVersion="9.9.9", MasterUsername="u", MasterUserPassword="password123",
        AllocatedStorage=20)["DBInstance"]["EngineVersion"] == "9.9.9"
    vpc = ec2.create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]["VpcId"]
    flow_log = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogGroupName="flows",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flows")["FlowLogIds"][0]
    assert ec2.describe_flow_logs(FlowLogIds=[flow_log])["FlowLogs"]
    for _ in range(20):  # no throttling: no call needs a retry
        assert ecs.list_clusters()["ResponseMetadata"]["RetryAttempts"] == 0
    status, _ = _post(f"{plain_url}/_emulator/rds/force-minor-upgrade",
                      {"DBInstanceIdentifier": "db", "EngineVersion": "15.13"})
    assert status != 200  # no hook: moto answers the path
