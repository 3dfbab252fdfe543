#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs in one environment, on one screen (make status)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: environment_status
short_description: What runs in one environment - release, services, targets, alarms, data stores
description:
  - Reads, never changes - the recorded release (tag, who, when), each ECS service's running,
    desired and pending tasks, task definition revision, deployments and last events, the health
    of the targets of the web target groups, the alarms in ALARM, the database's status and
    latest restorable time, and the Redis replication group's status.
  - Returns it as data (I(status)) and as lines for a screen (I(lines)), the way C(kubectl get) or
    C(copilot svc status) read. What does not exist yet is said so, not an error.
options:
  record_path:
    description: Parameter Store path of the release records (C(<path>/current)).
    type: str
    required: true
  cluster:
    description: The ECS cluster.
    type: str
    required: true
  services:
    description: The services to show, short name to ECS service name (C(web), C(worker)).
    type: dict
    required: true
  target_groups:
    description: The web service's target groups, by name.
    type: list
    elements: str
    default: []
  alarm_prefix:
    description: Show the alarms whose names start with this that are in ALARM.
    type: str
    required: true
  db_instance:
    description: The RDS DB instance.
    type: str
    required: true
  redis_group:
    description: The ElastiCache replication group.
    type: str
    required: true
  events:
    description: How many of each service's latest events to show.
    type: int
    default: 3
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the environment's status
  booking.aws.environment_status:
    record_path: /booking-api/prod/release
    cluster: booking-api-prod-cluster
    services: {web: booking-api-prod-web, worker: booking-api-prod-worker}
    target_groups: [booking-api-prod-web, booking-api-prod-web-alt]
    alarm_prefix: booking-api-prod-
    db_instance: booking-api-prod-postgres
    redis_group: booking-api-prod-redis
  register: status
"""

RETURN = r"""
status:
  description: release, services (each with running, desired, pending, task_definition,
    deployments, events), targets (per group, state -> count), alarms (names in ALARM),
    database and redis (status and details), each null where it does not exist.
  returned: always
  type: dict
lines:
  description: The same, one screen of text lines.
  returned: always
  type: list
  elements: str
"""

import json
from datetime import UTC, datetime
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _release(ssm: Any, path: str) -> dict[str, Any] | None:
    try:
        value = ssm.get_parameter(aws_retry=True, Name=f"{path.rstrip('/')}/current")
    except is_boto3_error_code("ParameterNotFound"):
        return None
    return json.loads(value["Parameter"]["Value"])


def _services(ecs: Any, cluster: str, services: dict[str, str],
              events: int) -> dict[str, Any]:
    try:
        found = ecs.describe_services(aws_retry=True, cluster=cluster,
                                      services=list(services.values()))["services"]
    except is_boto3_error_code("ClusterNotFoundException"):
        found = []
    by_name = {s["serviceName"]: s for s in found if s.get("status") == "ACTIVE"}
    result: dict[str, Any] = {}
    for short, name in services.items():
        service = by_name.get(name)
        if service is None:
            result[short] = None
            continue
        result[short] = {
            "name": name,
            "running": service.get("runningCount", 0),
            "desired": service.get("desiredCount", 0),
            "pending": service.get("pendingCount", 0),
            "task_definition": service.get("taskDefinition", "").rsplit("/", 1)[-1],
            "strategy": (service.get("deploymentConfiguration") or {}).get("strategy", "ROLLING"),
            "deployments": [{"status": d.get("status"), "rollout": d.get("rolloutState"),
                             "task_definition": d.get("taskDefinition", "").rsplit("/", 1)[-1],
                             "running": d.get("runningCount", 0),
                             "desired": d.get("desiredCount", 0)}
                            for d in service.get("deployments", [])],
            "events": [{"at": _iso(e.get("createdAt")), "message": e.get("message", "")}
                       for e in service.get("events", [])[:events]],
        }
    return result


def _targets(elbv2: Any, names: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in names:
        try:
            group = elbv2.describe_target_groups(aws_retry=True, Names=[name])["TargetGroups"][0]
        except is_boto3_error_code("TargetGroupNotFound"):
            result[name] = None
            continue
        health = elbv2.describe_target_health(
            aws_retry=True, TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
        counts: dict[str, int] = {}
        for target in health:
            state = target["TargetHealth"]["State"]
            counts[state] = counts.get(state, 0) + 1
        result[name] = counts
    return result


def _alarms(cloudwatch: Any, prefix: str) -> list[str]:
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, StateValue="ALARM")
    found = pages.build_full_result()
    # StateValue filters on AWS; the state is checked here too (the emulator's moto ignores it).
    return sorted(a["AlarmName"] for a in found.get("MetricAlarms", []) + found.get(
        "CompositeAlarms", []) if a.get("StateValue") == "ALARM")


def _database(rds: Any, identifier: str) -> dict[str, Any] | None:
    try:
        found = rds.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    instance = found["DBInstances"][0]
    return {"status": instance.get("DBInstanceStatus"),
            "engine_version": instance.get("EngineVersion"),
            "multi_az": instance.get("MultiAZ"),
            "latest_restorable_time": _iso(instance.get("LatestRestorableTime"))}


def _redis(elasticache: Any, group: str) -> dict[str, Any] | None:
    try:
        found = elasticache.describe_replication_groups(aws_retry=True,
                                                        ReplicationGroupId=group)
    except is_boto3_error_code("ReplicationGroupNotFoundFault"):
        return None
    replication = found["ReplicationGroups"][0]
    return {"status": replication.get("Status"),
            "members": len(replication.get("MemberClusters", [])),
            "tls": replication.get("TransitEncryptionEnabled")}


def render(status: dict[str, Any], now: datetime) -> list[str]:
    """The screen (pure: tests/test_environment_status.py)."""
    lines: list[str] = []
    release = status["release"]
    if release:
        lines.append(f"release   {release.get('tag', '?')} by {release.get('by', '?')} at "
                     f"{release.get('at', '?')}")
    else:
        lines.append("release   none recorded")
    for short, service in status["services"].items():
        if service is None:
            lines.append(f"{short:<9} not found")
            continue
        deployments = ", ".join(
            f"{d['status']} {d['task_definition']} {d['running']}/{d['desired']} {d['rollout']}"
            for d in service["deployments"]) or "none"
        lines.append(f"{short:<9} {service['running']}/{service['desired']} running, "
                     f"{service['pending']} pending, {service['task_definition']} "
                     f"({service['strategy'].lower()}); deployments: {deployments}")
        lines.extend(f"            {event['at']}  {event['message']}"
                     for event in service["events"])
    for name, counts in status["targets"].items():
        described = ("not found" if counts is None else ", ".join(
            f"{count} {state}" for state, count in sorted(counts.items())) or "no targets")
        lines.append(f"targets   {name}: {described}")
    alarms = status["alarms"]
    lines.append(f"alarms    {'none in ALARM' if not alarms else 'IN ALARM: ' + ', '.join(alarms)}")
    database = status["database"]
    if database is None:
        lines.append("database  not found")
    else:
        behind = ""
        latest = database["latest_restorable_time"]
        if latest:
            seconds = int((now - datetime.fromisoformat(latest.replace("Z", "+00:00")))
                          .total_seconds())
            behind = f", latest restorable {latest} ({seconds} s ago)"
        lines.append(f"database  {database['status']}, PostgreSQL {database['engine_version']}"
                     f"{', Multi-AZ' if database['multi_az'] else ''}{behind}")
    redis = status["redis"]
    lines.append("redis     not found" if redis is None else
                 f"redis     {redis['status']}, {redis['members']} nodes"
                 f"{', TLS' if redis['tls'] else ''}")
    return lines


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "record_path": {"type": "str", "required": True},
            "cluster": {"type": "str", "required": True},
            "services": {"type": "dict", "required": True},
            "target_groups": {"type": "list", "elements": "str", "default": []},
            "alarm_prefix": {"type": "str", "required": True},
            "db_instance": {"type": "str", "required": True},
            "redis_group": {"type": "str", "required": True},
            "events": {"type": "int", "default": 3},
        },
        supports_check_mode=True,
    )
    p = module.params
    retry = AWSRetry.jittered_backoff()
    try:
        status = {
            "release": _release(module.client("ssm", retry_decorator=retry), p["record_path"]),
            "services": _services(module.client("ecs", retry_decorator=retry), p["cluster"],
                                  p["services"], p["events"]),
            "targets": _targets(module.client("elbv2", retry_decorator=retry),
                                p["target_groups"]),
            "alarms": _alarms(module.client("cloudwatch"), p["alarm_prefix"]),
            "database": _database(module.client("rds", retry_decorator=retry), p["db_instance"]),
            "redis": _redis(module.client("elasticache", retry_decorator=retry),
                            p["redis_group"]),
        }
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to read the environment's status")
    module.exit_json(changed=False, status=status, lines=render(status, datetime.now(UTC)))


if __name__ == "__main__":
    main()
