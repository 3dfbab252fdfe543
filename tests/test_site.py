"""site.yml on the local inventory: one run from empty on an emulator as hard as AWS on a first
run, real state, idempotence, check mode, drift, tags, no leaks.

The environment is the site stack (tests/conftest.py): converged once per worker on its own
emulator - strict mode with long holds and slow creation of the NAT gateways, database, Redis group
and load balancer - and shared with tests/test_teardown.py when that file runs on the same worker
(under xdist it gets its own). The tests here run in file order and leave the environment
converged.

Cost, measured on two cores (quiet, 2026-12-06): the first run about 1.7 min (the holds,
throttling's retries and the waits), the no-op and check runs side by side about 1 min, the drift
repair about 25 s; about 3 min for the file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import SITE_STACK_HOLD, SITE_STACK_SLOW
from harness import (
    default_strategy,
    load_contract,
    local_vault_values,
    other_strategy,
    strategy_seen_at_vvv,
)

PREFIX = "booking-api-local"
REQUIRED_TAGS = {"Project": "booking-api", "Environment": "local", "ManagedBy": "ansible"}


@pytest.fixture(scope="module")
def converged(site_converged):
    return site_converged


@pytest.fixture(scope="module")
def emulator(site_emulator):
    """The site stack's emulator (this module's tests read the stack, not the session's)."""
    return site_emulator


@pytest.fixture(scope="module")
def ansible(site_ansible):
    return site_ansible


def _tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _by_name(resources):
    return {_tags(r).get("Name"): r for r in resources}


@pytest.fixture(scope="module")
def ec2(emulator, converged):
    return emulator.client("ec2")


@pytest.fixture(scope="module")
def vpc(ec2):
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{PREFIX}-vpc"]}])["Vpcs"]
    return vpc


def test_first_run_creates_and_prints_a_summary(converged, vpc):
    assert converged.changed > 0
    assert "Summarize the environment" in converged.stdout
    assert vpc["VpcId"] in converged.stdout


def _first(calls, action):
    return min(c.at for c in calls if c.action == action)


def _last(calls, action):
    return max(c.at for c in calls if c.action == action)


def test_first_run_waited_out_each_first_run_race(converged):
    """The one run met the races a new AWS account has (issue 15, items 1-4) and waited them out:
    the order of the racing calls, from the emulator's log (it holds calls, not answers)."""
    calls = converged.calls
    # ECS's service-linked role before the first cluster (item 1).
    assert _first(calls, "CreateServiceLinkedRole") < _first(calls, "CreateCluster")
    # The private routes only once every NAT gateway was available (item 4).
    assert _last(calls, "CreateRoute") >= _last(calls, "CreateNatGateway") + SITE_STACK_HOLD
    # The web ACL's association only once the load balancer was active (item 2).
    assert _first(calls, "AssociateWebACL") >= _first(calls, "CreateLoadBalancer") + SITE_STACK_HOLD
    # What had to be retried or re-read, for the record (throttled calls are logged too).
    retried = {action: sum(c.action == action for c in calls)
               for action in ("CreateCluster", "CreateTrail", "PutConfigurationRecorder",
                              "AssociateWebACL", "DescribeFlowLogs", "DescribeConfigRules")}
    print(f"calls made: {retried}")


# kind -> (its create call, the describe call a wait makes)
SLOW_CALLS = {
    "nat": ("CreateNatGateway", "DescribeNatGateways"),
    "rds": ("CreateDBInstance", "DescribeDBInstances"),
    "elasticache": ("CreateReplicationGroup", "DescribeReplicationGroups"),
    "alb": ("CreateLoadBalancer", "DescribeLoadBalancers"),
}


def test_every_slow_create_comes_before_any_wait_sees_a_resource_ready(converged):
    """A play that waited role by role would see the first slow resource ready before creating
    the next; site.yml creates them all, then waits, so the waits overlap."""
    assert set(SLOW_CALLS) == set(SITE_STACK_SLOW)
    calls = converged.calls
    created = {kind: _first(calls, create) for kind, (create, _) in SLOW_CALLS.items()}
    last_create = max(created.values())
    for kind, (_, describe) in SLOW_CALLS.items():
        ready_at = created[kind] + SITE_STACK_HOLD
        seen_ready = [c.at for c in calls if c.action == describe and c.at >= ready_at]
        assert seen_ready, f"site.yml never waited for {kind}"
        assert min(seen_ready) > last_create, (
            f"{kind} was waited for before the last slow resource was created")
    print(f"slow creates spread over {last_create - min(created.values()):.0f} s")


def test_vpc_cidr_and_tags(vpc):
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert REQUIRED_TAGS.items() <= _tags(vpc).items()


def test_subnets_follow_the_plan_across_two_azs(ec2, vpc):
    subnets = _by_name(ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"])
    expected = {
        f"{PREFIX}-public-a": ("10.0.1.0/24", "us-east-1a", True),
        f"{PREFIX}-public-b": ("10.0.2.0/24", "us-east-1b", True),
        f"{PREFIX}-private-a": ("10.0.10.0/24", "us-east-1a", False),
        f"{PREFIX}-private-b": ("10.0.20.0/24", "us-east-1b", False),
        f"{PREFIX}-database-a": ("10.0.100.0/24", "us-east-1a", False),
        f"{PREFIX}-database-b": ("10.0.200.0/24", "us-east-1b", False),
    }
    actual = {name: (s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"])
              for name, s in subnets.items()}
    assert actual == expected
    for subnet in subnets.values():
        assert REQUIRED_TAGS.items() <= _tags(subnet).items()


def test_routes_public_to_igw_private_to_own_az_nat_database_nowhere(ec2, vpc):
    vpc_filter = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    subnets = {s["SubnetId"]: _tags(s)["Name"]
               for s in ec2.describe_subnets(Filters=vpc_filter)["Subnets"]}
    [igw] = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    nats = {n["NatGatewayId"]: n for n in ec2.describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
        if n["State"] != "deleted"}
    assert len(nats) == 2, "one NAT gateway per AZ"

    default_route_of = {}
    for table in ec2.describe_route_tables(Filters=vpc_filter)["RouteTables"]:
        targets = [r.get("GatewayId") or r.get("NatGatewayId")
                   for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        for assoc in table["Associations"]:
            if assoc.get("SubnetId"):
                default_route_of[subnets[assoc["SubnetId"]]] = targets

    assert default_route_of[f"{PREFIX}-public-a"] == [igw["InternetGatewayId"]]
    assert default_route_of[f"{PREFIX}-public-b"] == [igw["InternetGatewayId"]]
    for az in "ab":
        [nat_id] = default_route_of[f"{PREFIX}-private-{az}"]
        assert subnets[nats[nat_id]["SubnetId"]] == f"{PREFIX}-public-{az}", "NAT in its own AZ"
        assert default_route_of[f"{PREFIX}-database-{az}"] == []


def _ingress(group):
    rules = set()
    for perm in group["IpPermissions"]:
        for pair in perm.get("UserIdGroupPairs", []):
            rules.add((perm.get("FromPort"), pair["GroupId"]))
        for ip_range in perm.get("IpRanges", []):
            rules.add((perm.get("FromPort"), ip_range["CidrIp"]))
    return rules


def test_security_groups_are_chained_by_reference(ec2, vpc):
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]}
    alb, app = groups[f"{PREFIX}-alb"], groups[f"{PREFIX}-app"]
    postgres, redis = groups[f"{PREFIX}-postgres"], groups[f"{PREFIX}-redis"]

    # The test listener (8443) is open to the VPC only, never to the internet.
    assert _ingress(alb) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0"), (8443, "10.0.0.0/16")}
    assert _ingress(app) == {(8000, alb["GroupId"])}
    assert _ingress(postgres) == {(5432, app["GroupId"])}
    assert _ingress(redis) == {(6379, app["GroupId"])}
    # The data stores start no connections; the ALB only talks to the app port.
    assert postgres["IpPermissionsEgress"] == []
    assert redis["IpPermissionsEgress"] == []
    assert [(p["IpProtocol"], p["FromPort"]) for p in alb["IpPermissionsEgress"]] == [("tcp", 8000)]
    for group in (alb, app, postgres, redis):
        assert REQUIRED_TAGS.items() <= _tags(group).items()
    # The default group AWS makes with the VPC keeps no rule (CIS 5.4, FSBP EC2.2).
    default = groups["default"]
    assert (default["IpPermissions"], default["IpPermissionsEgress"]) == ([], [])


def test_flow_logs_go_to_a_retained_log_group(emulator, vpc):
    [flow_log] = [f for f in emulator.client("ec2").describe_flow_logs()["FlowLogs"]
                  if f["ResourceId"] == vpc["VpcId"]]
    assert flow_log["TrafficType"] == "ALL"
    group_name = flow_log["LogGroupName"]
    [group] = emulator.client("logs").describe_log_groups(
        logGroupNamePrefix=group_name)["logGroups"]
    assert group["retentionInDays"] == 90
    role = emulator.client("iam").get_role(RoleName=f"{PREFIX}-vpc-flow-logs")["Role"]
    assert flow_log["DeliverLogsPermissionArn"] == role["Arn"]


def test_nat_gateways_and_their_ips_are_named_and_tagged(ec2, vpc):
    nats = ec2.describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    allocation_ids = [a["AllocationId"] for n in nats for a in n["NatGatewayAddresses"]]
    addresses = ec2.describe_addresses(AllocationIds=allocation_ids)["Addresses"]
    assert sorted(_tags(a)["Name"] for a in addresses) == [f"{PREFIX}-nat-a", f"{PREFIX}-nat-b"]
    for resource in [*nats, *addresses]:
        assert REQUIRED_TAGS.items() <= _tags(resource).items()



def test_every_role_left_its_resources(emulator, converged):
    aws = emulator.client
    assert aws("ecr").describe_repositories(repositoryNames=[PREFIX])["repositories"]
    [db] = aws("rds").describe_db_instances(DBInstanceIdentifier=f"{PREFIX}-postgres")[
        "DBInstances"]
    assert (db["Engine"], db["MultiAZ"], db["StorageEncrypted"]) == ("postgres", True, True)
    [redis] = aws("elasticache").describe_replication_groups(
        ReplicationGroupId=f"{PREFIX}-redis")["ReplicationGroups"]
    assert redis["AutomaticFailover"] == "enabled"
    [cluster] = aws("ecs").describe_clusters(clusters=[f"{PREFIX}-cluster"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    buckets = {b["Name"].rsplit("-", 1)[0] for b in aws("s3").list_buckets()["Buckets"]}
    assert {f"{PREFIX}-{part}" for part in ("static", "media", "backup", "logs")} <= buckets
    params = {p["Name"]: p["Type"] for p in aws("ssm").get_parameters_by_path(
        Path="/booking-api/local", Recursive=True)["Parameters"]}
    # Exactly the contract's registry of settings (plus the release record, if any), each
    # SecureString unless it is not secret.
    settings = load_contract().app_settings("/booking-api/local")
    assert {name for name in params if "/release/" not in name} == {
        item["parameter"] for item in settings.values()}
    for item in settings.values():
        assert params[item["parameter"]] == ("SecureString" if item["secret"] else "String")


@pytest.fixture(scope="module")
def read_only_runs(ansible, converged):
    """The second run (-vvv) and the check run, side by side: both only read the converged
    environment, and the site stack is the suite's longest chain (a minute less of it,
    2026-12-06). A run that did write would show in its own `changed`, which each test asserts
    is 0."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        second = pool.submit(ansible.playbook, "site.yml", "-vvv", timeout=1200)
        check = pool.submit(ansible.playbook, "site.yml", "--check", "--diff", timeout=1200)
        return {"second": second.result(), "check": check.result()}


def test_second_run_changes_nothing_and_leaks_no_secret_at_vvv(read_only_runs):
    run = read_only_runs["second"]
    assert run.rc == 0, run.explain()
    assert strategy_seen_at_vvv(run.output) == default_strategy()
    assert run.changed == 0, run.explain()
    for name, value in local_vault_values().items():
        assert value not in run.output, f"the value of {name} appears in the output"
    assert "local-only-not-a-secret-" not in run.output


def test_check_mode_on_the_converged_environment_reports_no_change(read_only_runs):
    run = read_only_runs["check"]
    assert run.rc == 0, run.explain()
    assert run.changed == 0, run.explain()


def test_one_role_runs_alone_with_its_tag_under_the_other_strategy(emulator, ansible, converged):
    """Also the suite's guard of the strategy it does not use by default (Ansible's own `linear`,
    the way back from Mitogen's): the account guard, the role and the tag selection under it.
    A whole no-op site.yml under `linear` cost 95 CPU seconds against 30 under Mitogen's
    (2026-12-07); tests/test_release.py re-runs a release under it too."""
    first = len(emulator.calls)
    run = ansible.playbook("site.yml", "--tags", "ecr", "-vvv",
                           env={"ANSIBLE_STRATEGY": other_strategy()})
    assert run.rc == 0, run.explain()
    assert strategy_seen_at_vvv(run.output) == other_strategy(), "not the strategy asked"
    assert run.changed == 0, run.explain()
    calls = emulator.calls[first:]
    services = {call.service for call in calls}
    # The account guard's one caller lookup (STS, and the IAM alias read aws_caller_info makes).
    assert services <= {"ecr", "sts", "iam"}, f"--tags ecr touched {services}"
    assert {c.action for c in calls if c.service == "iam"} <= {"ListAccountAliases"}
    assert "ecr" in services


# Each drift: (make it behind Ansible's back, still drifted?).
def _sg_rule(aws):
    ec2 = aws("ec2")
    [group] = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [f"{PREFIX}-postgres"]}])["SecurityGroups"]
    return group


def _open_postgres_to_the_world(aws):
    aws("ec2").authorize_security_group_ingress(
        GroupId=_sg_rule(aws)["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _postgres_open_to_the_world(aws):
    return any(r["CidrIp"] == "0.0.0.0/0" for p in _sg_rule(aws)["IpPermissions"]
               for r in p.get("IpRanges", []))


def _shorten_app_log_retention(aws):
    aws("logs").put_retention_policy(logGroupName=f"/ecs/{PREFIX}", retentionInDays=1)


def _app_log_retention_shortened(aws):
    [group] = aws("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{PREFIX}")["logGroups"]
    return group.get("retentionInDays") != 30


def _tamper_with_allowed_hosts(aws):
    aws("ssm").put_parameter(Name="/booking-api/local/allowed_hosts", Value="evil.example",
                             Type="String", Overwrite=True)


def _allowed_hosts_tampered(aws):
    value = aws("ssm").get_parameter(Name="/booking-api/local/allowed_hosts")["Parameter"]
    return value["Value"] == "evil.example"


def _target_group(aws):
    [group] = aws("elbv2").describe_target_groups(Names=[f"{PREFIX}-web"])["TargetGroups"]
    return group


def _loosen_health_check(aws):
    aws("elbv2").modify_target_group(TargetGroupArn=_target_group(aws)["TargetGroupArn"],
                                     HealthCheckPath="/", HealthyThresholdCount=5)


def _health_check_loosened(aws):
    group = _target_group(aws)
    return (group["HealthCheckPath"], group["HealthyThresholdCount"]) != ("/health/", 2)


DRIFTS = {
    "target group health check": (_loosen_health_check, _health_check_loosened),
    "security group rule": (_open_postgres_to_the_world, _postgres_open_to_the_world),
    "log retention": (_shorten_app_log_retention, _app_log_retention_shortened),
    "parameter value": (_tamper_with_allowed_hosts, _allowed_hosts_tampered),
}


def test_check_reports_drift_and_a_run_repairs_it(emulator, ansible, converged):
    aws = emulator.client
    for make_drift, drifted in DRIFTS.values():
        make_drift(aws)
        assert drifted(aws)

    # Only the roles that own the drifted resources: the whole play is covered by the no-op
    # and check-mode tests above, and each role finds what it needs by name when run alone.
    roles = "--tags=alb,vpc,ecs_cluster,secrets"
    checked = ansible.playbook("site.yml", roles, "--check", "--diff")
    assert checked.rc == 0, checked.explain()
    assert checked.changed >= len(DRIFTS), checked.explain()
    still = [name for name, (_, drifted) in DRIFTS.items() if drifted(aws)]
    assert still == list(DRIFTS), "check mode repaired drift: it must change nothing"

    repaired = ansible.playbook("site.yml", roles)
    assert repaired.rc == 0, repaired.explain()
    left = [name for name, (_, drifted) in DRIFTS.items() if drifted(aws)]
    assert left == [], repaired.explain()


# Actions AWS cannot scope to a resource: the only ones an Allow may grant on "*".
# ELBv2's Describe* actions take no resource (Service Authorization Reference, Elastic Load
# Balancing V2; AWS's AmazonECSInfrastructureRolePolicyForLoadBalancers grants them on "*" too).
UNSCOPABLE = {"ecr:GetAuthorizationToken", "ssmmessages:CreateControlChannel",
              "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
              "ssmmessages:OpenDataChannel", "elasticloadbalancing:DescribeListeners",
              "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
              "elasticloadbalancing:DescribeTargetHealth"}


def test_iam_policies_grant_no_wildcards_where_a_narrower_scope_exists(emulator, converged):
    iam = emulator.client("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]
             if r["RoleName"].startswith(PREFIX)]
    assert roles, "site.yml made no IAM roles"
    checked = 0
    for role in roles:
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [], role
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for statement in document["Statement"]:
                if statement["Effect"] != "Allow":
                    continue
                actions = statement["Action"] if isinstance(statement["Action"], list) \
                    else [statement["Action"]]
                resources = statement["Resource"] if isinstance(statement["Resource"], list) \
                    else [statement["Resource"]]
                where = f"{role}/{name}: {statement.get('Sid', actions)}"
                assert not any(a == "*" or a.endswith(":*") for a in actions), where
                if "*" in resources:
                    assert set(actions) <= UNSCOPABLE, where
                checked += 1
    assert checked >= 5
    shift = iam.get_role_policy(RoleName=f"{PREFIX}-ecs-infrastructure",
                                PolicyName="shift-web-traffic")["PolicyDocument"]["Statement"]
    scoped = {s["Sid"]: s["Resource"] for s in shift}
    assert [arn.split("/")[-2] for arn in scoped["RegisterTasksInTheTwoTargetGroups"]] == [
        f"{PREFIX}-web", f"{PREFIX}-web-alt"]
    assert sum(":listener-rule/" in arn for arn in scoped["ShiftTheProductionAndTestRules"]) == 2
    trust = iam.get_role(RoleName=f"{PREFIX}-ecs-infrastructure")["Role"][
        "AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}


def test_audit_trail_detector_recorder_and_rules(emulator, converged):
    aws = emulator.client
    account = aws("sts").get_caller_identity()["Account"]
    [trail] = aws("cloudtrail").describe_trails(trailNameList=[f"{PREFIX}-trail"])["trailList"]
    assert trail["S3BucketName"] == f"{PREFIX}-backup-{account}"
    assert trail["S3KeyPrefix"] == "audit/cloudtrail"
    assert trail["IsMultiRegionTrail"]
    assert trail["LogFileValidationEnabled"]
    assert trail["CloudWatchLogsLogGroupArn"].endswith(f":log-group:/audit/{PREFIX}:*")
    assert aws("cloudtrail").get_trail_status(Name=trail["TrailARN"])["IsLogging"]

    guardduty = aws("guardduty")
    [detector_id] = guardduty.list_detectors()["DetectorIds"]
    detector = guardduty.get_detector(DetectorId=detector_id)
    assert detector["Status"] == "ENABLED"
    assert REQUIRED_TAGS.items() <= detector["Tags"].items()

    config = aws("config")
    [status] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert (status["name"], status["recording"]) == (f"{PREFIX}-recorder", True)
    [channel] = config.describe_delivery_channels()["DeliveryChannels"]
    assert (channel["s3BucketName"], channel["s3KeyPrefix"]) == (
        f"{PREFIX}-backup-{account}", "audit/config")
    rules = {r["ConfigRuleName"]: r["Source"]["SourceIdentifier"]
             for r in config.describe_config_rules()["ConfigRules"]}
    assert rules[f"{PREFIX}-s3-bucket-ssl-requests-only"] == "S3_BUCKET_SSL_REQUESTS_ONLY"
    assert rules[f"{PREFIX}-rds-storage-encrypted"] == "RDS_STORAGE_ENCRYPTED"
    assert len(rules) == 7

    policy = aws("s3").get_bucket_policy(Bucket=f"{PREFIX}-backup-{account}")["Policy"]
    assert '"CloudTrailWrite"' in policy
    assert '"ConfigWrite"' in policy
