"""booking.aws.wafv2_web_acl_association against the emulator: associate, check, move, remove;
and against the strict emulator (`waf`): a load balancer still provisioning and a web ACL just
created are waited for, within wait_timeout."""

from __future__ import annotations

import time
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from harness import AnsibleRunner, emulator_process

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


# --- a load balancer still provisioning, a web ACL just created (issue 15, item 2) --------------

WAF = 4.0  # seconds an ALB provisions and a web ACL propagates on the strict emulator


@pytest.fixture(scope="module")
def strict_waf(tmp_path_factory):
    """(runner, client factory, subnets) on an emulator with strict mode's `waf` hold."""
    calls = tmp_path_factory.mktemp("waf-strict") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"waf={WAF:g}") as url:
        def client(service):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="emulator", aws_secret_access_key="emulator")
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24",
                                     AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"))]
        yield AnsibleRunner(SimpleNamespace(url=url)), client, subnets


def _new_alb(client, subnets, name):
    return client("elbv2").create_load_balancer(Name=name, Subnets=subnets)[
        "LoadBalancers"][0]["LoadBalancerArn"]


def _new_acl(client, name):
    return client("wafv2").create_web_acl(
        Name=name, Scope="REGIONAL", DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                          "MetricName": name})["Summary"]["ARN"]


def _refusal(client, alb, acl):
    with pytest.raises(ClientError) as refused:
        client("wafv2").associate_web_acl(WebACLArn=acl, ResourceArn=alb)
    return refused.value.response["Error"]["Code"]


def test_waits_while_the_load_balancer_is_provisioning(strict_waf):
    runner, client, subnets = strict_waf
    alb, acl = _new_alb(client, subnets, "s-alb-1"), _new_acl(client, "s-waf-1")
    assert _refusal(client, alb, acl) == "WAFUnavailableEntityException"

    started = time.monotonic()
    args = {"resource_arn": alb, "web_acl_arn": acl, "poll_interval": 1, "wait_timeout": 60}
    associated = runner.module(MODULE, args)
    assert associated["changed"] is True, associated
    assert associated["web_acl_arn"] == acl
    assert time.monotonic() - started >= WAF - 2.0, "nothing was waited for"
    assert runner.module(MODULE, args)["changed"] is False


def test_waits_for_a_web_acl_created_moments_ago(strict_waf):
    """The refusal the module did not retry before (WAFNonexistentItemException): an active load
    balancer and a web ACL WAF has not propagated yet."""
    runner, client, subnets = strict_waf
    alb = _new_alb(client, subnets, "s-alb-2")
    time.sleep(WAF + 0.3)
    assert client("elbv2").describe_load_balancers(LoadBalancerArns=[alb])[
        "LoadBalancers"][0]["State"]["Code"] == "active"
    acl = _new_acl(client, "s-waf-2")
    assert _refusal(client, alb, acl) == "WAFNonexistentItemException"

    associated = runner.module(MODULE, {"resource_arn": alb, "web_acl_arn": acl,
                                        "poll_interval": 1, "wait_timeout": 60})
    assert associated["changed"] is True, associated
    assert _acl_of(client, alb) == acl


def test_gives_up_after_wait_timeout(strict_waf):
    runner, client, subnets = strict_waf
    alb, acl = _new_alb(client, subnets, "s-alb-3"), _new_acl(client, "s-waf-3")
    result = runner.module(MODULE, {"resource_arn": alb, "web_acl_arn": acl,
                                    "poll_interval": 1, "wait_timeout": 0})
    assert result.get("failed") is True, result
    assert "WAFUnavailableEntityException" in result["msg"], result["msg"]
