"""site.yml on the local inventory: the VPC stack, its real state, idempotence, check mode."""

from __future__ import annotations

import pytest

PREFIX = "booking-api-local"
REQUIRED_TAGS = {"Project": "booking-api", "Environment": "local", "ManagedBy": "ansible"}


@pytest.fixture(scope="module")
def converged(emulator, ansible):
    emulator.reset()
    run = ansible.playbook("site.yml")
    assert run.rc == 0, run.explain()
    return run


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

    assert _ingress(alb) == {(80, "0.0.0.0/0"), (443, "0.0.0.0/0")}
    assert _ingress(app) == {(8000, alb["GroupId"])}
    assert _ingress(postgres) == {(5432, app["GroupId"])}
    assert _ingress(redis) == {(6379, app["GroupId"])}
    # The data stores start no connections; the ALB only talks to the app port.
    assert postgres["IpPermissionsEgress"] == []
    assert redis["IpPermissionsEgress"] == []
    assert [(p["IpProtocol"], p["FromPort"]) for p in alb["IpPermissionsEgress"]] == [("tcp", 8000)]
    for group in (alb, app, postgres, redis):
        assert REQUIRED_TAGS.items() <= _tags(group).items()


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


def test_second_run_changes_nothing(ansible, converged):
    run = ansible.playbook("site.yml")
    assert run.rc == 0, run.explain()
    assert run.changed == 0, run.explain()


def test_check_mode_on_the_converged_stack_reports_no_change(ansible, converged):
    run = ansible.playbook("site.yml", "--check", "--diff")
    assert run.rc == 0, run.explain()
    assert run.changed == 0, run.explain()
