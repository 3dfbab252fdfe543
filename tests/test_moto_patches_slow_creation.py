"""moto_patches._slow_creation: slow resources read as not ready for the configured seconds."""

from __future__ import annotations

import time

import boto3
import pytest
from harness import emulator_process


@pytest.fixture
def slow_emulator(tmp_path):
    spec = "nat=2, rds=3, alb=2, elasticache=2"
    with emulator_process(tmp_path / "calls.jsonl", BOOKING_EMULATOR_CREATE_SECONDS=spec) as url:
        yield lambda service: boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                           aws_access_key_id="x", aws_secret_access_key="x")


def _wait_until(read, expected, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read() == expected:
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"never became {expected}: {read()}")


def test_resources_are_not_ready_until_their_creation_time_has_passed(slow_emulator):
    ec2, rds = slow_emulator("ec2"), slow_emulator("rds")
    elbv2, elasticache = slow_emulator("elbv2"), slow_emulator("elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.3.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]

    start = time.monotonic()
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip)["NatGateway"]
    rds.create_db_instance(DBInstanceIdentifier="db", Engine="postgres",
                           DBInstanceClass="db.t3.micro", MasterUsername="u",
                           MasterUserPassword="password123", AllocatedStorage=20)
    alb = elbv2.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]
    elasticache.create_replication_group(ReplicationGroupId="rg",
                                         ReplicationGroupDescription="d", Engine="redis",
                                         CacheNodeType="cache.t3.micro")

    def nat_state():
        return ec2.describe_nat_gateways(
            NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"]

    def db_status():
        return rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0][
            "DBInstanceStatus"]

    def alb_state():
        return elbv2.describe_load_balancers(LoadBalancerArns=[alb["LoadBalancerArn"]])[
            "LoadBalancers"][0]["State"]["Code"]

    def rg_status():
        return elasticache.describe_replication_groups(
            ReplicationGroupId="rg")["ReplicationGroups"][0]["Status"]

    assert (nat_state(), db_status(), alb_state(), rg_status()) == (
        "pending", "creating", "provisioning", "creating")
    assert _wait_until(nat_state, "available") - start >= 2
    assert _wait_until(alb_state, "active") - start >= 2
    assert _wait_until(rg_status, "available") - start >= 2
    assert _wait_until(db_status, "available") - start >= 3
