"""booking.aws.ec2_vpc_subnets on the emulator: a VPC's subnets in one module run.

Pins what the vpc role relies on: subnets created in their zones with tags and public IPs on
launch where asked, no change on a second run, drift (attribute, tags) found in check mode and
repaired, a subnet in the wrong zone refused before anything changes, unlisted subnets left alone.
"""

from __future__ import annotations

import pytest

MODULE = "booking.aws.ec2_vpc_subnets"


def _plan(vpc_id, **overrides):
    subnets = [
        {"cidr": "10.9.1.0/24", "az": "us-east-1a", "map_public": True,
         "tags": {"Name": "t-public-a", "Tier": "public"}},
        {"cidr": "10.9.2.0/24", "az": "us-east-1b", "map_public": True,
         "tags": {"Name": "t-public-b", "Tier": "public"}},
        {"cidr": "10.9.10.0/24", "az": "us-east-1a",
         "tags": {"Name": "t-private-a", "Tier": "private"}},
    ]
    for subnet in subnets:
        subnet.update(overrides.get(subnet["cidr"], {}))
    return {"vpc_id": vpc_id, "subnets": subnets}


@pytest.fixture
def vpc(fresh_emulator, aws):
    return aws("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]


def _subnets(aws, vpc_id):
    found = aws("ec2").describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return {s["CidrBlock"]: (s["AvailabilityZone"], s["MapPublicIpOnLaunch"],
                             {t["Key"]: t["Value"] for t in s.get("Tags", [])}) for s in found}


def test_creates_the_subnets_then_reports_no_change(ansible, aws, vpc):
    checked = ansible.module(MODULE, _plan(vpc), check=True)
    assert checked["changed"] is True
    assert [r["subnet"] for r in checked["subnets"]] == [{}, {}, {}]
    assert _subnets(aws, vpc) == {}, "check mode created a subnet"

    first = ansible.module(MODULE, _plan(vpc))
    assert first["changed"] is True
    assert [r["cidr"] for r in first["subnets"]] == ["10.9.1.0/24", "10.9.2.0/24", "10.9.10.0/24"]
    assert all(r["subnet"]["id"].startswith("subnet-") for r in first["subnets"])
    assert _subnets(aws, vpc) == {
        "10.9.1.0/24": ("us-east-1a", True, {"Name": "t-public-a", "Tier": "public"}),
        "10.9.2.0/24": ("us-east-1b", True, {"Name": "t-public-b", "Tier": "public"}),
        "10.9.10.0/24": ("us-east-1a", False, {"Name": "t-private-a", "Tier": "private"}),
    }

    second = ansible.module(MODULE, _plan(vpc))
    assert second["changed"] is False, second
    assert [r["subnet"]["id"] for r in second["subnets"]] == \
        [r["subnet"]["id"] for r in first["subnets"]]
    assert ansible.module(MODULE, _plan(vpc), check=True)["changed"] is False


def test_drift_is_found_in_check_mode_and_repaired(ansible, aws, vpc):
    first = ansible.module(MODULE, _plan(vpc))
    public_a = first["subnets"][0]["subnet"]["id"]
    private_a = first["subnets"][2]["subnet"]["id"]
    ec2 = aws("ec2")
    ec2.modify_subnet_attribute(SubnetId=public_a, MapPublicIpOnLaunch={"Value": False})
    ec2.create_tags(Resources=[private_a], Tags=[{"Key": "Extra", "Value": "x"}])

    checked = ansible.module(MODULE, _plan(vpc), check=True)
    assert [r["changed"] for r in checked["subnets"]] == [True, False, True]
    assert _subnets(aws, vpc)["10.9.1.0/24"][1] is False, "check mode repaired"

    repaired = ansible.module(MODULE, _plan(vpc))
    assert [r["changed"] for r in repaired["subnets"]] == [True, False, True]
    state = _subnets(aws, vpc)
    assert state["10.9.1.0/24"][1] is True
    assert state["10.9.10.0/24"][2] == {"Name": "t-private-a", "Tier": "private"}
    assert ansible.module(MODULE, _plan(vpc))["changed"] is False


def test_a_subnet_in_another_zone_is_refused_before_any_change(ansible, aws, vpc):
    ansible.module(MODULE, _plan(vpc))
    moved = _plan(vpc, **{"10.9.10.0/24": {"az": "us-east-1b"},
                          "10.9.1.0/24": {"tags": {"Name": "renamed"}}})
    result = ansible.module(MODULE, moved)
    assert result.get("failed") is True
    assert "10.9.10.0/24 is in us-east-1a, not us-east-1b" in result["msg"]
    assert _subnets(aws, vpc)["10.9.1.0/24"][2]["Name"] == "t-public-a", "changed before failing"


def test_unlisted_subnets_are_left_alone(ansible, aws, vpc):
    other = aws("ec2").create_subnet(VpcId=vpc, CidrBlock="10.9.99.0/24",
                                     AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    assert ansible.module(MODULE, _plan(vpc))["changed"] is True
    assert "10.9.99.0/24" in _subnets(aws, vpc)
    assert other


def test_an_empty_vpc_id_is_a_planned_create_in_check_mode_only(ansible, fresh_emulator):
    checked = ansible.module(MODULE, _plan(""), check=True)
    assert checked["changed"] is True
    assert [r["subnet"] for r in checked["subnets"]] == [{}, {}, {}]
    failed = ansible.module(MODULE, _plan(""))
    assert failed.get("failed") is True
    assert "create the VPC first" in failed["msg"]
