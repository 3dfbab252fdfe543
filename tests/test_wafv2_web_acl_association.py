"""booking.aws.wafv2_web_acl_association against the emulator: associate, check, move, remove."""

from __future__ import annotations

import pytest

MODULE = "booking.aws.wafv2_web_acl_association"


@pytest.fixture
def alb_and_acls(fresh_emulator, aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    alb = aws("elbv2").create_load_balancer(Name="t-alb", Subnets=subnets)
    acls = []
    for name in ("t-waf", "t-waf-2"):
        acls.append(aws("wafv2").create_web_acl(
            Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
            VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                              "MetricName": name})["Summary"]["ARN"])
    return alb["LoadBalancers"][0]["LoadBalancerArn"], acls


def _acl_of(aws, arn):
    return (aws("wafv2").get_web_acl_for_resource(ResourceArn=arn).get("WebACL") or {}).get("ARN")


def test_associates_once_check_mode_first(ansible, aws, alb_and_acls):
    alb, (acl, _) = alb_and_acls
    args = {"resource_arn": alb, "web_acl_arn": acl}
    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"web_acl_arn": ""}, "after": {"web_acl_arn": acl}}
    assert _acl_of(aws, alb) is None

    assert ansible.module(MODULE, args)["changed"] is True
    assert _acl_of(aws, alb) == acl
    assert ansible.module(MODULE, args)["changed"] is False
    assert ansible.module(MODULE, args, check=True)["changed"] is False


def test_moves_the_resource_to_another_web_acl(ansible, aws, alb_and_acls):
    alb, (acl, other) = alb_and_acls
    ansible.module(MODULE, {"resource_arn": alb, "web_acl_arn": acl})
    moved = ansible.module(MODULE, {"resource_arn": alb, "web_acl_arn": other}, diff=True)
    assert moved["changed"] is True
    assert moved["diff"]["before"]["web_acl_arn"] == acl
    assert _acl_of(aws, alb) == other
    assert ansible.module(MODULE, {"resource_arn": alb, "web_acl_arn": other})["changed"] is False


def test_absent_removes_the_association(ansible, aws, alb_and_acls):
    alb, (acl, _) = alb_and_acls
    ansible.module(MODULE, {"resource_arn": alb, "web_acl_arn": acl})
    args = {"resource_arn": alb, "state": "absent"}
    assert ansible.module(MODULE, args, check=True)["changed"] is True
    assert _acl_of(aws, alb) == acl
    assert ansible.module(MODULE, args)["changed"] is True
    assert _acl_of(aws, alb) is None
    assert ansible.module(MODULE, args)["changed"] is False


def test_present_without_a_web_acl_fails_clearly(ansible, alb_and_acls):
    alb, _ = alb_and_acls
    result = ansible.module(MODULE, {"resource_arn": alb})
    assert result.get("failed") is True
    assert "web_acl_arn" in result["msg"]
