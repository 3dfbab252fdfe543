"""moto_patches._alb_default_attributes: a new ALB reads back AWS's default attributes;
_target_group_load_balancers_once: a group names its load balancer once."""

from __future__ import annotations


def _new_alb(aws, name):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    return aws("elbv2").create_load_balancer(Name=name, Subnets=subnets)[
        "LoadBalancers"][0]["LoadBalancerArn"]


def _attributes(aws, arn):
    attrs = aws("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return {a["Key"]: a["Value"] for a in attrs}


def test_a_new_alb_has_the_aws_default_attributes(fresh_emulator, aws):
    attrs = _attributes(aws, _new_alb(aws, "defaults"))
    assert attrs["idle_timeout.timeout_seconds"] == "60"
    assert attrs["routing.http2.enabled"] == "true"
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "false"
    assert attrs["routing.http.desync_mitigation_mode"] == "defensive"
    assert attrs["waf.fail_open.enabled"] == "false"
    assert attrs["access_logs.s3.enabled"] == "false"
    assert attrs["load_balancing.cross_zone.enabled"] == "true"


def test_a_target_group_behind_two_listeners_names_its_load_balancer_once(fresh_emulator, aws):
    arn = _new_alb(aws, "twice")
    elb = aws("elbv2")
    vpc = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["VpcId"]
    group = elb.create_target_group(Name="twice-web", Protocol="HTTP", Port=8000, VpcId=vpc,
                                    TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": group}]
    for port in (80, 8080):
        listener = elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=port,
                                       DefaultActions=forward)["Listeners"][0]["ListenerArn"]
        elb.create_rule(ListenerArn=listener, Priority=1, Actions=forward,
                        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}])
    [described] = elb.describe_target_groups(TargetGroupArns=[group])["TargetGroups"]
    assert described["LoadBalancerArns"] == [arn]


def test_modified_attributes_still_read_back(fresh_emulator, aws):
    arn = _new_alb(aws, "modified")
    aws("elbv2").modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
        {"Key": "idle_timeout.timeout_seconds", "Value": "45"}])
    attrs = _attributes(aws, arn)
    assert attrs["idle_timeout.timeout_seconds"] == "45"
    assert attrs["routing.http2.enabled"] == "true"


def test_elb_application_lb_converges_with_attribute_options(fresh_emulator, aws, ansible):
    """Without the patch the module fails with KeyError 'idle_timeout_timeout_seconds'."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.6.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="module-alb", Description="t", VpcId=vpc)["GroupId"]
    args = {"name": "module-alb", "subnets": subnets, "security_groups": [group],
            "idle_timeout": 60, "http_drop_invalid_header_fields": True, "wait": False,
            "listeners": []}
    first = ansible.module("amazon.aws.elb_application_lb", args)
    assert first.get("failed") is not True, first.get("msg")
    second = ansible.module("amazon.aws.elb_application_lb", args)
    assert second.get("failed") is not True, second.get("msg")
    assert second["changed"] is False, second
