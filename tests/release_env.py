"""A minimal provisioned local environment for the release tests, made with boto3 in a second.

deploy.yml and rollback.yml find what site.yml made by name (the names contract in
docs/role-conventions.md); this module makes just those resources, so a release test does not
pay for a full site run. tests/test_site.py covers site.yml and the release together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness import create_fargate_cluster
from moto_ecs import RUNTIME  # tools/ (tests/conftest.py puts it on the path)

PREFIX = "booking-api-local"
CLUSTER = f"{PREFIX}-cluster"
SERVICES = {"web": f"{PREFIX}-web", "worker": f"{PREFIX}-worker"}
RECORD = "/booking-api/local/release"


def manifest(tag: str) -> str:
    """A distinct, well-formed image manifest per tag (ECR stores what it is given)."""
    digest = "sha256:" + (tag.encode().hex() * 64)[:64]
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                   "digest": digest},
        "layers": [],
    })


def provision(aws: Any) -> None:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = []
    for index, zone in enumerate("ab"):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{11 + index}.0/24",
                                   AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
        ec2.create_tags(Resources=[subnet], Tags=[{"Key": "Name",
                                                   "Value": f"{PREFIX}-private-{zone}"}])
        subnets.append(subnet)
    group = ec2.create_security_group(GroupName=f"{PREFIX}-app", Description="app",
                                      VpcId=vpc)["GroupId"]
    elb = aws("elbv2")
    alb = elb.create_load_balancer(Name=f"{PREFIX}-alb", Subnets=subnets,
                                   SecurityGroups=[group])["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elb.create_target_group(
        Name=f"{PREFIX}-web", Protocol="HTTP", Port=8000, VpcId=vpc,
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    # What the alb role adds for blue/green, canary and linear releases: the second group, the
    # production (443) and test (8443) listeners with their forward rules, 100/0.
    alternate = elb.create_target_group(
        Name=f"{PREFIX}-web-alt", Protocol="HTTP", Port=8000, VpcId=vpc,
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    for port in (443, 8443):
        listener = elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=port,
                                       DefaultActions=[{"Type": "fixed-response",
                                                        "FixedResponseConfig": {
                                                            "StatusCode": "404"}}],
                                       )["Listeners"][0]["ListenerArn"]
        elb.create_rule(ListenerArn=listener, Priority=1,
                        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                            {"TargetGroupArn": target_group, "Weight": 100},
                            {"TargetGroupArn": alternate, "Weight": 0}]}}])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ecs.amazonaws.com"}}]}
    aws("iam").create_role(RoleName=f"{PREFIX}-ecs-infrastructure",
                           AssumeRolePolicyDocument=json.dumps(trust))
    create_fargate_cluster(aws, clusterName=CLUSTER, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    aws("ecr").create_repository(repositoryName=PREFIX)
    aws("rds").create_db_instance(
        DBInstanceIdentifier=f"{PREFIX}-postgres", Engine="postgres", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="booking", MasterUserPassword="not-a-secret-1")


def push(aws: Any, tag: str) -> None:
    aws("ecr").put_image(repositoryName=PREFIX, imageManifest=manifest(tag), imageTag=tag)


def released_snapshot(emulator: Any, deploy: Callable[[str], Any],
                      tags: tuple[str, ...] = ("aaa111", "bbb222"),
                      prepare: Callable[[Any], None] | None = None) -> Any:
    """The environment with `tags` pushed and the first of them released, as an emulator
    snapshot: a deploy is the costly part (about 30 s), so a test file makes it once and each
    test starts from the snapshot. `prepare` adds to the environment before the deploy."""
    emulator.reset()
    provision(emulator.client)
    RUNTIME.rollout_seconds = 0.5
    for tag in tags:
        push(emulator.client, tag)
    if prepare is not None:
        prepare(emulator.client)
    released = deploy(tags[0])
    assert released.rc == 0, released.explain()
    return emulator.snapshot()


def service(aws: Any, name: str) -> dict[str, Any]:
    return aws("ecs").describe_services(cluster=CLUSTER, services=[SERVICES[name]])["services"][0]


def running(aws: Any) -> dict[str, str]:
    """Task definition ARN each service runs."""
    return {name: service(aws, name)["taskDefinition"] for name in SERVICES}


def image_of(aws: Any, task_definition: str) -> str:
    definition = aws("ecs").describe_task_definition(taskDefinition=task_definition)
    return definition["taskDefinition"]["containerDefinitions"][0]["image"]


def record(aws: Any, which: str = "current") -> dict[str, Any]:
    try:
        value = aws("ssm").get_parameter(Name=f"{RECORD}/{which}")["Parameter"]["Value"]
    except aws("ssm").exceptions.ParameterNotFound:
        return {}
    return json.loads(value)


def revisions(aws: Any) -> list[str]:
    arns = aws("ecs").list_task_definitions()["taskDefinitionArns"]
    return sorted(a for a in arns if a.split("/")[-1].startswith(PREFIX))
