"""booking.aws.elb_forward_rule against the emulator: the rule is created with all traffic on the
first target group, and a re-run keeps the weights a deployer (ECS's blue/green) shifted."""

from __future__ import annotations

import pytest

MODULE = "booking.aws.elb_forward_rule"
ALL_PATHS = [{"Field": "path-pattern", "Values": ["/*"]}]


@pytest.fixture
def listener(fresh_emulator, aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    elb = aws("elbv2")
    alb = elb.create_load_balancer(Name="t-alb", Subnets=subnets)["LoadBalancers"][0]
    groups = [elb.create_target_group(Name=name, Protocol="HTTP", Port=8000, VpcId=vpc,
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
              for name in ("t-blue", "t-green", "t-other")]
    arn = elb.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no route"}}],
    )["Listeners"][0]["ListenerArn"]
    return arn, groups


def _weights(aws, listener_arn):
    [rule] = [r for r in aws("elbv2").describe_rules(ListenerArn=listener_arn)["Rules"]
              if r["Priority"] == "1"]
    groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return rule["RuleArn"], {g["TargetGroupArn"]: g["Weight"] for g in groups}


def test_creates_the_rule_with_all_traffic_on_the_first_group(ansible, aws, listener):
    arn, (blue, green, _) = listener
    args = {"listener_arn": arn, "priority": 1, "conditions": ALL_PATHS,
            "target_groups": [blue, green]}
    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True
    assert [r for r in aws("elbv2").describe_rules(ListenerArn=arn)["Rules"]
            if not r["IsDefault"]] == []
    created = ansible.module(MODULE, args)
    assert created["changed"] is True
    rule_arn, weights = _weights(aws, arn)
    assert created["rule_arn"] == rule_arn
    assert weights == {blue: 100, green: 0}
    assert ansible.module(MODULE, args)["changed"] is False
    assert ansible.module(MODULE, args, check=True)["changed"] is False


def test_a_rerun_keeps_the_weights_ecs_shifted(ansible, aws, listener):
    arn, (blue, green, _) = listener
    args = {"listener_arn": arn, "priority": 1, "conditions": ALL_PATHS,
            "target_groups": [blue, green]}
    ansible.module(MODULE, args)
    rule_arn, _ = _weights(aws, arn)
    aws("elbv2").modify_rule(RuleArn=rule_arn, Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 0},
                         {"TargetGroupArn": green, "Weight": 100}]}}])  # as ECS shifts it
    rerun = ansible.module(MODULE, args, diff=True)
    assert rerun["changed"] is False
    assert rerun["weights"] == {blue: 0, green: 100}
    assert _weights(aws, arn)[1] == {blue: 0, green: 100}


def test_new_conditions_keep_the_weights_and_new_groups_reset_them(ansible, aws, listener):
    arn, (blue, green, other) = listener
    args = {"listener_arn": arn, "priority": 1, "conditions": ALL_PATHS,
            "target_groups": [blue, green]}
    ansible.module(MODULE, args)
    rule_arn, _ = _weights(aws, arn)
    aws("elbv2").modify_rule(RuleArn=rule_arn, Actions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 0},
                         {"TargetGroupArn": green, "Weight": 100}]}}])
    hosts = [{"Field": "host-header", "Values": ["api.example.com"]}]
    assert ansible.module(MODULE, {**args, "conditions": hosts})["changed"] is True
    rule = next(r for r in aws("elbv2").describe_rules(ListenerArn=arn)["Rules"]
                if r["Priority"] == "1")
    assert rule["Conditions"][0]["Field"] == "host-header"
    assert _weights(aws, arn)[1] == {blue: 0, green: 100}
    moved = ansible.module(MODULE, {**args, "conditions": hosts, "target_groups": [other, green]})
    assert moved["changed"] is True
    assert _weights(aws, arn)[1] == {other: 100, green: 0}


def test_absent_removes_the_rule_once(ansible, aws, listener):
    arn, (blue, green, _) = listener
    args = {"listener_arn": arn, "priority": 1, "conditions": ALL_PATHS,
            "target_groups": [blue, green]}
    ansible.module(MODULE, args)
    gone = {"listener_arn": arn, "priority": 1, "state": "absent"}
    assert ansible.module(MODULE, gone, check=True)["changed"] is True
    assert ansible.module(MODULE, gone)["changed"] is True
    assert ansible.module(MODULE, gone)["changed"] is False
    assert [r for r in aws("elbv2").describe_rules(ListenerArn=arn)["Rules"]
            if not r["IsDefault"]] == []
