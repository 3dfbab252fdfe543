"""booking.aws.ec2_vpc_route_tables on the emulator: a VPC's route tables in one module run.

Pins what the vpc role relies on: public, private (NAT) and database tables created with their
routes, subnets and tags, no change on a second run, drift (routes, tags, associations) found in
check mode - with a diff - and repaired, the local routes never purged, bad lists and ambiguous
Name tags refused before anything changes, and a route to a NAT gateway still pending retried
until AWS takes it (strict mode holds new NAT gateways pending: tools/moto_strict.py, `nat`).
About 30 s on 2 busy cores: ~20 module runs (~0.7 s each) and three NAT gateways' strict-mode
hold (4 s in the `test` profile). The emulator is reset once for the file, not per test: each
test makes its own VPC (after a reset moto spends ~2 s re-initialising EC2).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import moto_strict
import pytest

MODULE = "booking.aws.ec2_vpc_route_tables"
VPC_CIDR = "10.8.0.0/16"
NAMES = ["t-public", "t-private", "t-database"]


@pytest.fixture(scope="module")
def emu(emulator):
    """The emulator, reset once for the file: each test makes its own VPC, and all the module
    does is scoped to one VPC."""
    emulator.reset()
    return emulator


@pytest.fixture(scope="module")
def ec2(emu):
    """One EC2 client for the file: making one costs about a second."""
    return emu.client("ec2")


@pytest.fixture
def net(ec2):
    """A new VPC with an attached internet gateway and four subnets (two public)."""
    vpc = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets = {name: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr,
                                       AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
               for name, cidr in (("public_a", "10.8.1.0/24"), ("public_b", "10.8.2.0/24"),
                                  ("private", "10.8.10.0/24"), ("database", "10.8.20.0/24"))}
    return SimpleNamespace(vpc=vpc, igw=igw, nat=None, **subnets)


def _create_nat(ec2, net) -> str:
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    return ec2.create_nat_gateway(SubnetId=net.public_a,
                                  AllocationId=allocation)["NatGateway"]["NatGatewayId"]


@pytest.fixture
def nat_net(net, ec2):
    """`net` with an available NAT gateway: waited for as the vpc role waits (tasks/wait.yml)."""
    net.nat = _create_nat(ec2, net)
    ec2.get_waiter("nat_gateway_available").wait(
        NatGatewayIds=[net.nat], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return net


def _plan(net, **args):
    private_routes = [{"dest": "0.0.0.0/0", "nat_gateway_id": net.nat}] if net.nat else []
    return {"vpc_id": net.vpc, "route_tables": [
        {"name": "t-public", "tags": {"Tier": "public"}, "subnets": [net.public_a, net.public_b],
         "routes": [{"dest": "0.0.0.0/0", "gateway_id": net.igw}]},
        {"name": "t-private", "tags": {"Tier": "private"}, "subnets": [net.private],
         "routes": private_routes},
        {"name": "t-database", "tags": {"Tier": "database"}, "subnets": [net.database],
         "routes": []},
    ], **args}


def _target(route):
    return route.get("GatewayId") or route.get("NatGatewayId")


def _state(ec2, vpc):
    """Named tables of the VPC: Name -> (routes {dest: target}, subnets, tags)."""
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    state = {}
    for table in tables:
        tags = {t["Key"]: t["Value"] for t in table.get("Tags", [])}
        if "Name" in tags:
            state[tags["Name"]] = (
                {r["DestinationCidrBlock"]: _target(r) for r in table["Routes"]},
                sorted(a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")),
                tags)
    return state


def _expected(net):
    return {
        "t-public": ({VPC_CIDR: "local", "0.0.0.0/0": net.igw},
                     sorted([net.public_a, net.public_b]), {"Name": "t-public", "Tier": "public"}),
        "t-private": ({VPC_CIDR: "local", "0.0.0.0/0": net.nat}, [net.private],
                      {"Name": "t-private", "Tier": "private"}),
        "t-database": ({VPC_CIDR: "local"}, [net.database],
                       {"Name": "t-database", "Tier": "database"}),
    }


def _actions(emulator, since=0):
    return [c.action for c in emulator.calls[since:] if c.service == "ec2"]


def test_creates_the_tables_then_reports_no_change(ansible, ec2, emu, nat_net):
    net = nat_net
    checked = ansible.module(MODULE, _plan(net), check=True, diff=True)
    assert checked["changed"] is True
    assert [(r["name"], r["changed"], r["route_table"]) for r in checked["route_tables"]] == \
        [(n, True, {}) for n in NAMES]
    assert checked["diff"]["before"] == {name: {} for name in NAMES}
    assert checked["diff"]["after"]["t-private"] == {
        "routes": {"0.0.0.0/0": net.nat}, "subnets": [net.private],
        "tags": {"Name": "t-private", "Tier": "private"}}
    assert _state(ec2, net.vpc) == {}, "check mode created a route table"

    since = len(emu.calls)
    first = ansible.module(MODULE, _plan(net))
    actions = _actions(emu, since)
    assert first["changed"] is True, first
    assert [r["name"] for r in first["route_tables"]] == NAMES
    assert _state(ec2, net.vpc) == _expected(net)
    public = first["route_tables"][0]["route_table"]
    assert public["id"].startswith("rtb-")
    assert public["routes"] == [{"dest": VPC_CIDR, "target": "local"},
                                {"dest": "0.0.0.0/0", "target": net.igw}]
    assert public["subnets"] == sorted([net.public_a, net.public_b])
    assert public["tags"] == {"Name": "t-public", "Tier": "public"}
    # One read of all the tables (a throttled call is logged twice: botocore retries it; strict
    # mode never throttles the same call twice in a row).
    assert 1 <= actions.count("DescribeRouteTables") <= 2

    second = ansible.module(MODULE, _plan(net))
    assert second["changed"] is False, second
    assert [r["route_table"] for r in second["route_tables"]] == \
        [r["route_table"] for r in first["route_tables"]]
    assert ansible.module(MODULE, _plan(net), check=True)["changed"] is False


def test_drift_is_found_in_check_mode_and_repaired(ansible, ec2, emu, nat_net):
    net = nat_net
    ids = {r["name"]: r["route_table"]["id"]
           for r in ansible.module(MODULE, _plan(net))["route_tables"]}
    # An extra route, a route to another target, an extra tag, a subnet associated with another
    # table, a subnet disassociated.
    ec2.create_route(RouteTableId=ids["t-public"], DestinationCidrBlock="10.50.0.0/16",
                     GatewayId=net.igw)
    ec2.replace_route(RouteTableId=ids["t-private"], DestinationCidrBlock="0.0.0.0/0",
                      GatewayId=net.igw)
    ec2.create_tags(Resources=[ids["t-database"]], Tags=[{"Key": "Extra", "Value": "x"}])
    associations = {a["SubnetId"]: a["RouteTableAssociationId"]
                    for t in ec2.describe_route_tables(RouteTableIds=list(ids.values()))
                    ["RouteTables"] for a in t["Associations"] if a.get("SubnetId")}
    ec2.replace_route_table_association(AssociationId=associations[net.database],
                                        RouteTableId=ids["t-public"])
    ec2.disassociate_route_table(AssociationId=associations[net.public_b])
    drifted = _state(ec2, net.vpc)

    checked = ansible.module(MODULE, _plan(net), check=True, diff=True)
    assert [r["changed"] for r in checked["route_tables"]] == [True, True, True]
    assert _state(ec2, net.vpc) == drifted, "check mode repaired"
    before, after = checked["diff"]["before"], checked["diff"]["after"]
    assert before["t-public"]["routes"] == {"0.0.0.0/0": net.igw, "10.50.0.0/16": net.igw}
    assert after["t-public"]["routes"] == {"0.0.0.0/0": net.igw}
    assert before["t-public"]["subnets"] == sorted([net.public_a, net.database])
    assert after["t-public"]["subnets"] == sorted([net.public_a, net.public_b])
    assert (before["t-private"]["routes"], after["t-private"]["routes"]) == \
        ({"0.0.0.0/0": net.igw}, {"0.0.0.0/0": net.nat})
    assert "Extra" in before["t-database"]["tags"]
    assert after["t-database"] == {"routes": {}, "subnets": [net.database],
                                   "tags": {"Name": "t-database", "Tier": "database"}}
    assert checked["route_tables"][0]["route_table"]["subnets"] == \
        sorted([net.public_a, net.database]), "check mode shows the table as it is"

    since = len(emu.calls)
    repaired = ansible.module(MODULE, _plan(net))
    actions = _actions(emu, since)
    assert [r["changed"] for r in repaired["route_tables"]] == [True, True, True], repaired
    assert _state(ec2, net.vpc) == _expected(net)
    # The database subnet is moved back in one call, never left on the main table meanwhile.
    assert "ReplaceRouteTableAssociation" in actions
    assert "DisassociateRouteTable" not in actions
    assert "ReplaceRoute" in actions
    assert ansible.module(MODULE, _plan(net))["changed"] is False


def test_the_local_routes_are_never_purged(ansible, ec2, net):
    ec2.associate_vpc_cidr_block(VpcId=net.vpc, CidrBlock="10.18.0.0/16")
    plan = {"vpc_id": net.vpc, "route_tables": [{"name": "t-database", "routes": []}]}
    table = ansible.module(MODULE, plan)["route_tables"][0]["route_table"]
    ec2.create_route(RouteTableId=table["id"], DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=net.igw)

    purged = ansible.module(MODULE, plan)
    assert purged["changed"] is True
    # moto, unlike AWS, deletes a local route if asked: the state shows none was asked for.
    assert _state(ec2, net.vpc)["t-database"][0] == {VPC_CIDR: "local", "10.18.0.0/16": "local"}
    assert ansible.module(MODULE, plan)["changed"] is False


def test_a_route_to_a_pending_nat_gateway_is_retried_until_accepted(ansible, ec2, emu, net):
    hold = (moto_strict.ACTIVE.nat or 0.0) if moto_strict.ACTIVE else 0.0
    if hold < 2:
        pytest.skip("needs strict mode's nat hold (BOOKING_EMULATOR_STRICT)")
    net.nat = _create_nat(ec2, net)
    created = time.time()
    assert ec2.describe_nat_gateways(
        NatGatewayIds=[net.nat])["NatGateways"][0]["State"] == "pending"

    # No wait for the NAT gateway: the module's CreateRoute is refused, then retried.
    since = len(emu.calls)
    accepted = ansible.module(MODULE, _plan(net, wait_timeout=30))
    assert accepted["changed"] is True, accepted
    assert _state(ec2, net.vpc) == _expected(net)
    tries = [c.at for c in emu.calls[since:]
             if c.action == "CreateRoute" and not c.throttled][1:]  # [0]: igw
    assert len(tries) >= 2, "the first CreateRoute to the NAT gateway was not refused"
    assert tries[0] < created + hold <= tries[-1] + 1.0

    # ... for no longer than wait_timeout: a NAT gateway AWS never knows fails the run (here
    # ReplaceRoute, the route being there), naming the table, with the results so far.
    started = time.monotonic()
    unknown = _plan(net, wait_timeout=1)
    unknown["route_tables"][1]["routes"][0]["nat_gateway_id"] = "nat-0123456789abcdef0"
    refused = ansible.module(MODULE, unknown)
    assert refused.get("failed") is True
    assert "Unable to converge the route table t-private" in refused["msg"]
    assert "InvalidNatGatewayID.NotFound" in refused["msg"]
    assert [r["name"] for r in refused["route_tables"]] == ["t-public"]
    assert time.monotonic() - started < 15, "retried beyond wait_timeout"


def test_a_name_or_subnet_listed_twice_is_refused_before_any_change(ansible, ec2, net):
    plan = _plan(net)
    plan["route_tables"].append({"name": "t-public"})
    result = ansible.module(MODULE, plan)
    assert result.get("failed") is True
    assert "each name once; repeated: t-public" in result["msg"]

    plan = _plan(net)
    plan["route_tables"][2]["subnets"].append(net.public_a)
    result = ansible.module(MODULE, plan)
    assert result.get("failed") is True
    assert f"subnet {net.public_a} is listed for t-public and t-database" in result["msg"]
    assert _state(ec2, net.vpc) == {}, "changed before failing"


def test_two_tables_with_the_same_name_tag_are_refused(ansible, ec2, net):
    twins = sorted(ec2.create_route_table(VpcId=net.vpc, TagSpecifications=[{
        "ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "t-private"}]}])
        ["RouteTable"]["RouteTableId"] for _ in range(2))
    result = ansible.module(MODULE, _plan(net))
    assert result.get("failed") is True
    assert f"2 route tables of {net.vpc} have the Name tag t-private: " \
           f"{twins[0]}, {twins[1]}" in result["msg"]
    assert set(_state(ec2, net.vpc)) == {"t-private"}, "t-public created before failing"


def test_an_empty_vpc_id_is_a_planned_create_in_check_mode_only(ansible):
    plan = _plan(SimpleNamespace(vpc="", igw="igw-0", nat="nat-0", public_a="subnet-1",
                                 public_b="subnet-2", private="subnet-3", database="subnet-4"))
    checked = ansible.module(MODULE, plan, check=True, diff=True)
    assert checked["changed"] is True
    assert [r["route_table"] for r in checked["route_tables"]] == [{}, {}, {}]
    assert checked["diff"]["after"]["t-public"]["subnets"] == ["subnet-1", "subnet-2"]
    failed = ansible.module(MODULE, plan)
    assert failed.get("failed") is True
    assert "create the VPC first" in failed["msg"]
