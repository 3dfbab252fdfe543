"""The floor of a no-op site.yml: its reads, made by one plain boto3 process.

A no-op run establishes that nothing changed by reading every managed resource. This script
makes the reads that run makes - the same (service, operation) pairs, derived from a no-op run's
call log (bench/provision/run.py prints it), grouped by role, with the parameters that find this
environment's resources by their names - one call per resource and attribute group. Where the
no-op run repeats a lookup it needs only once (the caller identity, account aliases, the VPC
looked up again by every role), the floor makes it once: what is left is what no tool can save.

    python bench/provision/floor.py --endpoint http://127.0.0.1:5460 [--prefix booking-api-local]

Timed from the first line, so the boto3 import and the clients' creation are included (once).
Prints one JSON line: seconds and the number of calls made.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

CALLS = 0


def read(client: Any, op: str, **params: Any) -> dict[str, Any]:
    """One API call; a "not found" or "no such configuration" answer is a read like any other."""
    global CALLS
    CALLS += 1
    try:
        return getattr(client, op)(**params)
    except ClientError:
        return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", default="booking-api-local")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()
    session = boto3.session.Session(aws_access_key_id="emulator",
                                    aws_secret_access_key="emulator", region_name=args.region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=args.endpoint)

    p = args.prefix
    ec2, sts, iam, logs = client("ec2"), client("sts"), client("iam"), client("logs")
    ecr, s3, ssm, rds = client("ecr"), client("s3"), client("ssm"), client("rds")
    cache, ecs, r53, acm = client("elasticache"), client("ecs"), client("route53"), client("acm")
    elb, waf, sns, cw = client("elbv2"), client("wafv2"), client("sns"), client("cloudwatch")
    trail, gd, config = client("cloudtrail"), client("guardduty"), client("config")

    def named(key: str) -> list[dict[str, str]]:
        return [{"Name": "tag:Name", "Values": [key]}]

    # The account, once (a no-op site run asks 11 times; every role asks again).
    account = read(sts, "get_caller_identity")["Account"]
    read(iam, "list_account_aliases")

    # vpc: the VPC and its two attributes; subnets, gateways, route tables, security groups,
    # each read once with its tags; the flow log, its log group and its role.
    vpc = read(ec2, "describe_vpcs", Filters=named(f"{p}-vpc"))["Vpcs"][0]["VpcId"]
    read(ec2, "describe_tags", Filters=[{"Name": "resource-id", "Values": [vpc]}])
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        read(ec2, "describe_vpc_attribute", VpcId=vpc, Attribute=attribute)
    subnets = {}
    for tier in ("public", "private", "database"):
        for zone in "ab":
            found = read(ec2, "describe_subnets", Filters=named(f"{p}-{tier}-{zone}"))
            subnets[f"{tier}-{zone}"] = found["Subnets"][0]["SubnetId"]
            read(ec2, "describe_tags",
                 Filters=[{"Name": "resource-id", "Values": [subnets[f"{tier}-{zone}"]]}])
    igw = read(ec2, "describe_internet_gateways",
               Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    read(ec2, "describe_tags", Filters=[{"Name": "resource-id",
                                         "Values": [g["InternetGatewayId"] for g in igw]}])
    nats = read(ec2, "describe_nat_gateways", Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    for nat in nats["NatGateways"]:
        read(ec2, "describe_tags", Filters=[{"Name": "resource-id", "Values": [
            nat["NatGatewayId"], nat["NatGatewayAddresses"][0]["AllocationId"]]}])
    for table in ("public", "private-a", "private-b", "database"):
        found = read(ec2, "describe_route_tables", Filters=named(f"{p}-{table}"))
        read(ec2, "describe_tags", Filters=[{"Name": "resource-id", "Values": [
            t["RouteTableId"] for t in found["RouteTables"]]}])
    for group in ("alb", "app", "postgres", "redis"):
        found = read(ec2, "describe_security_groups", Filters=[
            {"Name": "group-name", "Values": [f"{p}-{group}"]},
            {"Name": "vpc-id", "Values": [vpc]}])
        read(ec2, "describe_tags", Filters=[{"Name": "resource-id", "Values": [
            g["GroupId"] for g in found["SecurityGroups"]]}])
    flow_group = f"/aws/vpc/{p}-flow-logs"
    read(logs, "describe_log_groups", logGroupNamePrefix=flow_group)
    read(logs, "list_tags_for_resource",
         resourceArn=f"arn:aws:logs:{args.region}:{account}:log-group:{flow_group}")

    def role(name: str) -> None:
        read(iam, "get_role", RoleName=name)
        read(iam, "list_attached_role_policies", RoleName=name)
        for policy in read(iam, "list_role_policies", RoleName=name).get("PolicyNames", []):
            read(iam, "get_role_policy", RoleName=name, PolicyName=policy)

    role(f"{p}-vpc-flow-logs")
    read(ec2, "describe_flow_logs", Filters=[{"Name": "resource-id", "Values": [vpc]}])

    # ecr: the repository, its lifecycle and repository policies, its tags.
    repo = read(ecr, "describe_repositories", repositoryNames=[p])["repositories"][0]
    read(ecr, "get_lifecycle_policy", repositoryName=p)
    read(ecr, "get_repository_policy", repositoryName=p)
    read(ecr, "list_tags_for_resource", resourceArn=repo["repositoryArn"])

    # storage: four buckets, each: exists, then its attribute groups (what s3_bucket and the
    # lifecycle task read: versioning, encryption, policy, public access block, ownership,
    # tags, ACL, location, request payment, object lock, accelerate, logging, lifecycle).
    read(s3, "list_buckets")
    for bucket in ("static", "media", "backup", "logs"):
        name = f"{p}-{bucket}-{account}"
        read(s3, "head_bucket", Bucket=name)
        for op in ("get_bucket_versioning", "get_bucket_encryption", "get_bucket_policy",
                   "get_public_access_block", "get_bucket_ownership_controls",
                   "get_bucket_tagging", "get_bucket_acl", "get_bucket_location",
                   "get_bucket_request_payment", "get_object_lock_configuration",
                   "get_bucket_accelerate_configuration", "get_bucket_logging",
                   "get_bucket_lifecycle_configuration"):
            read(s3, op, Bucket=name)

    # secrets: every parameter under the environment's path: value, metadata, tags.
    path = f"/{p.rsplit('-', 1)[0]}/{p.rsplit('-', 1)[1]}"
    parameters = read(ssm, "describe_parameters", ParameterFilters=[
        {"Key": "Path", "Option": "Recursive", "Values": [path]}], MaxResults=50)["Parameters"]
    for parameter in parameters:
        read(ssm, "get_parameter", Name=parameter["Name"], WithDecryption=True)
        read(ssm, "list_tags_for_resource", ResourceType="Parameter",
             ResourceId=parameter["Name"])

    # rds: subnet group and instance with their tags.
    group = read(rds, "describe_db_subnet_groups", DBSubnetGroupName=f"{p}-database")
    read(rds, "list_tags_for_resource",
         ResourceName=group["DBSubnetGroups"][0]["DBSubnetGroupArn"])
    db = read(rds, "describe_db_instances", DBInstanceIdentifier=f"{p}-postgres")
    read(rds, "list_tags_for_resource", ResourceName=db["DBInstances"][0]["DBInstanceArn"])

    # elasticache: subnet group, replication group, its member clusters, tags.
    read(cache, "describe_cache_subnet_groups", CacheSubnetGroupName=f"{p}-redis")
    replication = read(cache, "describe_replication_groups", ReplicationGroupId=f"{p}-redis")
    read(cache, "describe_cache_clusters", ShowCacheNodeInfo=True)
    read(cache, "list_tags_for_resource",
         ResourceName=replication["ReplicationGroups"][0]["ARN"])

    # ecs_cluster: the cluster, the app log group, the two task roles.
    read(ecs, "describe_clusters", clusters=[f"{p}-cluster"], include=["SETTINGS", "TAGS"])
    app_group = f"/ecs/{p}"
    read(logs, "describe_log_groups", logGroupNamePrefix=app_group)
    read(logs, "list_tags_for_resource",
         resourceArn=f"arn:aws:logs:{args.region}:{account}:log-group:{app_group}")
    for name in (f"{p}-task-execution", f"{p}-task"):
        role(name)
        read(iam, "list_instance_profiles_for_role", RoleName=name)

    # dns: the zone by name, the zone, its DNSSEC state and tags; the records.
    zones = read(r53, "list_hosted_zones_by_name", DNSName="booking-api.example.com.")
    zone = zones["HostedZones"][0]["Id"].split("/")[-1]
    read(r53, "list_hosted_zones")
    read(r53, "get_hosted_zone", Id=zone)
    read(r53, "get_dnssec", HostedZoneId=zone)
    read(r53, "list_tags_for_resource", ResourceType="hostedzone", ResourceId=zone)
    read(r53, "list_resource_record_sets", HostedZoneId=zone)

    # alb: certificate, target group, load balancer, listeners and rules, WAF.
    certificates = read(acm, "list_certificates")["CertificateSummaryList"]
    for certificate in certificates:
        read(acm, "describe_certificate", CertificateArn=certificate["CertificateArn"])
        read(acm, "list_tags_for_certificate", CertificateArn=certificate["CertificateArn"])
    target = read(elb, "describe_target_groups", Names=[f"{p}-web"])["TargetGroups"][0]
    read(elb, "describe_target_health", TargetGroupArn=target["TargetGroupArn"])
    read(elb, "describe_target_group_attributes", TargetGroupArn=target["TargetGroupArn"])
    lb = read(elb, "describe_load_balancers", Names=[f"{p}-alb"])["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    read(elb, "describe_tags", ResourceArns=[lb_arn, target["TargetGroupArn"]])
    read(elb, "describe_load_balancer_attributes", LoadBalancerArn=lb_arn)
    for listener in read(elb, "describe_listeners", LoadBalancerArn=lb_arn)["Listeners"]:
        read(elb, "describe_rules", ListenerArn=listener["ListenerArn"])
    acls = read(waf, "list_web_acls", Scope="REGIONAL")["WebACLs"]
    for acl in acls:
        read(waf, "get_web_acl", Name=acl["Name"], Scope="REGIONAL", Id=acl["Id"])
        read(waf, "list_tags_for_resource", ResourceARN=acl["ARN"])
    read(waf, "get_web_acl_for_resource", ResourceArn=lb_arn)

    # the waits: each slow resource read once more for its state.
    read(ec2, "describe_nat_gateways", Filters=[{"Name": "vpc-id", "Values": [vpc]}])

    # monitoring: the topic, its subscriptions and tags; log groups and the metric filter;
    # every alarm with its tags; the dashboard.
    topics = [t["TopicArn"] for t in read(sns, "list_topics")["Topics"]
              if t["TopicArn"].endswith(f":{p}-alarms")]
    for topic in topics:
        read(sns, "get_topic_attributes", TopicArn=topic)
        read(sns, "list_subscriptions_by_topic", TopicArn=topic)
        read(sns, "list_tags_for_resource", ResourceArn=topic)
    audit_group = f"/audit/{p}"
    read(logs, "describe_log_groups", logGroupNamePrefix=audit_group)
    read(logs, "list_tags_log_group", logGroupName=audit_group)
    read(logs, "describe_metric_filters", logGroupName=audit_group)
    alarms = read(cw, "describe_alarms", AlarmNamePrefix=f"{p}-")["MetricAlarms"]
    for alarm in alarms:
        read(cw, "describe_alarms", AlarmNames=[alarm["AlarmName"]])
        read(cw, "list_tags_for_resource", ResourceARN=alarm["AlarmArn"])
    read(cw, "get_dashboard", DashboardName=p)

    # audit: the trail's role, the trail, GuardDuty's detector, AWS Config's recorder, channel
    # and rules with their tags.
    role(f"{p}-cloudtrail-logs")
    read(trail, "describe_trails", trailNameList=[f"{p}-trail"])
    read(trail, "get_trail_status", Name=f"{p}-trail")
    read(trail, "list_tags", ResourceIdList=[
        f"arn:aws:cloudtrail:{args.region}:{account}:trail/{p}-trail"])
    for detector in read(gd, "list_detectors").get("DetectorIds", []):
        read(gd, "get_detector", DetectorId=detector)
    read(config, "describe_configuration_recorders")
    read(config, "describe_configuration_recorder_status")
    read(config, "describe_delivery_channels")
    rules = read(config, "describe_config_rules")["ConfigRules"]
    for rule in rules:
        if rule["ConfigRuleName"].startswith(f"{p}-"):
            read(config, "describe_config_rules", ConfigRuleNames=[rule["ConfigRuleName"]])
            read(config, "list_tags_for_resource", ResourceArn=rule["ConfigRuleArn"])

    # release: the current release record.
    read(ssm, "get_parameter", Name=f"{path}/release/current")

    print(json.dumps({"seconds": round(time.monotonic() - STARTED, 3), "calls": CALLS}))


if __name__ == "__main__":
    main()
