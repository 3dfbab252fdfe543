"""The monitoring role's CloudWatch alarms and alarm topic subscriptions, built in Python.

roles/monitoring/vars/main.yml hands these filters the role's inputs and what its tasks found
(topic ARN, load balancer and target group ARNs, the database's allocated storage); the alarms
come out as ``booking.aws.cloudwatch_metric_alarms`` takes them. The names of what other roles
make (cluster, services, load balancer, target group, database, Redis members, app log group,
alarm topic, the web deployment alarms) come from the environment contract
(``contract.py``), never spelt here. Tested without AWS in tests/test_filter_monitoring.py.

Filters:
- ``monitoring_alarms(spec)``: every alarm request of the role, enabled ones ``state: present``
  and switched-off ones ``state: absent`` (see ``SPEC_KEYS`` for the spec).
- ``monitoring_subscriptions(emails, endpoints)``: the SNS subscriptions of the alarm topic.
- ``monitoring_elb_dimensions(prefix, load_balancer_arn, target_group_arn)``: the CloudWatch
  ``LoadBalancer`` and ``TargetGroup`` dimension values (the ARNs' suffixes, or placeholders
  naming the load balancer and target group that do not exist yet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.booking.aws.plugins.filter.contract import redis_members, resource_names
from ansible_collections.booking.aws.plugins.module_utils.backup_metrics import (
    RESTORE_LAG_METRIC,
    SNAPSHOT_AGE_METRIC,
)

# The spec of monitoring_alarms: each key is the role input of the same name without the
# `monitoring_` prefix, except those marked * (what the role's tasks found, or an internal name).
SPEC_KEYS: dict[str, str] = {
    "name_prefix": "the environment's name prefix, <app>-<env>",
    "tags": "tags of every alarm (Name is added)",
    "topic_arn": "* ARN of the alarm topic, notified on ALARM and OK",
    "load_balancer_arn": "* ARN of the load balancer; empty before it exists",
    "target_group_arn": "* ARN of the web target group; empty before it exists",
    "rds_allocated_storage_gb": "* allocated storage of the database instance; 0 when unknown",
    "db_error_metric": "* name of the custom metric the connection error filter counts into",
    "period_seconds": "period of the 1-minute alarms",
    "ecs_alarms": "switch of the ECS CPU and memory alarms",
    "ecs_cpu_threshold": "% average CPU of a service",
    "ecs_memory_threshold": "% average memory of a service",
    "ecs_minutes": "breaching periods of the ECS alarms",
    "alb_alarms": "switch of the load balancer alarms",
    "alb_5xx_rate_threshold": "% of requests answered 5XX",
    "alb_5xx_periods": "breaching periods of the 5XX rate alarm",
    "alb_response_time_threshold": "seconds of target response time",
    "alb_response_time_statistic": "percentile of the response time, e.g. p95",
    "alb_response_time_minutes": "breaching periods of the response time alarm",
    "alb_unhealthy_minutes": "breaching periods of the unhealthy hosts alarm",
    "rds_alarms": "switch of the PostgreSQL alarms",
    "rds_max_connections_alarm": "connections above which the alarm fires",
    "rds_free_storage_alarm_percent": "free storage threshold as a % of the allocated storage",
    "rds_free_storage_alarm_gb": "fixed free storage threshold in GB; 0 uses the percentage",
    "rds_cpu_threshold": "% average CPU of the instance",
    "db_error_alarm": "switch of the database connection error alarm",
    "db_error_threshold": "connection errors in 5 minutes from which the alarm fires",
    "metric_namespace": "namespace of the custom connection error metric",
    "redis_alarms": "switch of the Redis memory alarms",
    "redis_node_count": "members of the Redis replication group",
    "redis_memory_threshold": "% of maxmemory per Redis node",
    "backup_alarms": "switch of the database backup alarms (restore lag, snapshot age)",
    "backup_restore_lag_seconds": "seconds behind the present of the latest restorable time",
    "backup_snapshot_age_hours": "hours since the newest snapshot",
}

_GB = 1024**3
# CloudWatch's load balancer dimensions are the ARNs' suffixes: app/<name>/<id> and
# targetgroup/<name>/<id>.
_ELB_ARN = r"^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:"
_LOAD_BALANCER_ARN = re.compile(_ELB_ARN + r"loadbalancer/(?P<suffix>.+)$")
_TARGET_GROUP_ARN = re.compile(_ELB_ARN + r"(?P<suffix>targetgroup/.+)$")
NOT_CREATED_YET = "not-created-yet"


def _wrong(name: str, expected: str, value: Any) -> AnsibleFilterError:
    return AnsibleFilterError(f"monitoring_alarms: {name} must be {expected}, got {value!r}")


def _int(name: str, value: Any) -> int:
    """An integer input as Jinja's ``int`` reads it (``5``, ``"5"``, ``5.0``, ``"5.0"``)."""
    if isinstance(value, bool) or value is None:
        raise _wrong(name, "a whole number", value)
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError) as error:
            raise _wrong(name, "a whole number", value) from error


def _float(name: str, value: Any) -> float:
    """A numeric input (``80``, ``"80"``, ``2.5``) as a float."""
    if isinstance(value, bool) or value is None:
        raise _wrong(name, "a number", value)
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise _wrong(name, "a number", value) from error


def _bool(name: str, value: Any) -> bool:
    """A switch: true/false, yes/no, on/off, 1/0."""
    try:
        return boolean(value, strict=True)
    except TypeError as error:
        raise _wrong(name, "true or false", value) from error


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _wrong(name, "a non-empty string", value)
    return value


def monitoring_elb_dimensions(prefix: str, load_balancer_arn: str = "",
                              target_group_arn: str = "") -> dict[str, str]:
    """The ``LoadBalancer`` and ``TargetGroup`` dimension values of the environment's ALB metrics.

    An empty ARN (a dry run before the alb role's first run) gives a placeholder naming the
    resource, ``app/<prefix>-alb/not-created-yet`` and ``targetgroup/<prefix>-web/not-created-yet``,
    so the alarms a dry run reports show where the real suffix will go.
    """
    names = resource_names(prefix)
    dimensions = {
        "LoadBalancer": f"app/{names['load_balancer']}/{NOT_CREATED_YET}",
        "TargetGroup": f"targetgroup/{names['target_group']}/{NOT_CREATED_YET}",
    }
    for key, arn, pattern, example in (
        ("LoadBalancer", load_balancer_arn, _LOAD_BALANCER_ARN,
         "arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>"),
        ("TargetGroup", target_group_arn, _TARGET_GROUP_ARN,
         "arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>"),
    ):
        if arn in (None, ""):
            continue
        found = pattern.match(arn) if isinstance(arn, str) else None
        if not found:
            what = "load balancer" if key == "LoadBalancer" else "target group"
            raise AnsibleFilterError(
                f"monitoring_elb_dimensions: expected the {what}'s ARN ({example}) or empty;"
                f" got {arn!r}")
        dimensions[key] = found.group("suffix")
    return dimensions


def monitoring_subscriptions(emails: Sequence[str] | None,
                             endpoints: Sequence[Mapping[str, Any]] | None = None
                             ) -> list[dict[str, str]]:
    """The alarm topic's subscriptions: each e-mail address, then each other endpoint.

    ``emails`` are addresses (protocol ``email``); ``endpoints`` are ``{protocol, endpoint}``
    mappings (other keys are dropped), in the order given.
    """
    subscriptions: list[dict[str, str]] = []
    if emails is None:
        emails = []
    if isinstance(emails, str | bytes) or not isinstance(emails, Sequence):
        raise AnsibleFilterError(
            f"monitoring_subscriptions: the e-mail addresses must be a list, got {emails!r}")
    for address in emails:
        if not isinstance(address, str) or "@" not in address:
            raise AnsibleFilterError(
                f"monitoring_subscriptions: expected an e-mail address, got {address!r}")
        subscriptions.append({"protocol": "email", "endpoint": address})
    if endpoints is None:
        endpoints = []
    if isinstance(endpoints, str | bytes) or not isinstance(endpoints, Sequence):
        raise AnsibleFilterError(
            f"monitoring_subscriptions: the endpoints must be a list, got {endpoints!r}")
    for item in endpoints:
        if (not isinstance(item, Mapping) or not item.get("protocol")
                or not item.get("endpoint")):
            raise AnsibleFilterError(
                "monitoring_subscriptions: each endpoint needs a protocol and an endpoint, "
                f"e.g. {{protocol: https, endpoint: https://hooks.example.com/aws}}; got {item!r}")
        subscriptions.append({"protocol": item["protocol"], "endpoint": item["endpoint"]})
    return subscriptions


def _check_spec(spec: Any) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise AnsibleFilterError(
            f"monitoring_alarms: the spec must be a dict of the role's inputs, got {spec!r}")
    problems = []
    if missing := [key for key in SPEC_KEYS if key not in spec]:
        problems.append(f"the spec lacks {', '.join(missing)}")
    if unknown := sorted(str(key) for key in spec if key not in SPEC_KEYS):
        problems.append(f"the spec has unknown keys {', '.join(unknown)}")
    if problems:
        raise AnsibleFilterError(
            f"monitoring_alarms: {'; '.join(problems)} (it takes exactly: {', '.join(SPEC_KEYS)})")
    if not isinstance(spec["tags"], Mapping):
        raise _wrong("tags", "a dict", spec["tags"])
    topic = spec["topic_arn"]
    if not isinstance(topic, str) or not topic.startswith("arn:"):
        raise _wrong("topic_arn", "the alarm topic's ARN", topic)
    return spec


def _free_storage_bytes(spec: Mapping[str, Any]) -> int:
    """The free storage threshold: a fixed GB figure, or a share of the allocated storage."""
    fixed_gb = _float("rds_free_storage_alarm_gb", spec["rds_free_storage_alarm_gb"])
    if fixed_gb > 0:
        return int(fixed_gb * _GB)
    allocated = spec["rds_allocated_storage_gb"]
    allocated_gb = 0.0 if allocated in (None, "") else _float("rds_allocated_storage_gb", allocated)
    percent = _float("rds_free_storage_alarm_percent", spec["rds_free_storage_alarm_percent"])
    return int(allocated_gb * _GB * percent / 100)


def monitoring_alarms(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every alarm of the monitoring role, as ``booking.aws.cloudwatch_metric_alarms`` takes them.

    ECS CPU and memory per service, the load balancer's 5XX rate (metric math), response time and
    unhealthy hosts, PostgreSQL connections, free storage and CPU, the database connection
    errors, the memory of each Redis member, and the database's backup lag and snapshot age, in
    that order. Each request names the topic as
    its ALARM and OK action, carries the tags plus ``Name`` (``purge_tags``), and is
    ``state: absent`` when its group is switched off; keys an alarm does not use are left out.

    Raises AnsibleFilterError naming the key when the spec lacks a key, has an unknown one, or a
    value of the wrong kind.
    """
    spec = _check_spec(spec)
    names = resource_names(spec["name_prefix"])
    topic_arn: str = spec["topic_arn"]
    tags: Mapping[str, Any] = spec["tags"]
    period = _int("period_seconds", spec["period_seconds"])
    elb = monitoring_elb_dimensions(
        names["prefix"], spec["load_balancer_arn"], spec["target_group_arn"])
    requests: list[dict[str, Any]] = []

    def add(name: str, switch: str, description: str, settings: dict[str, Any]) -> None:
        requests.append({
            "name": name,
            "description": description.strip(),
            **settings,
            "alarm_actions": [topic_arn],
            "ok_actions": [topic_arn],
            "tags": {**tags, "Name": name},
            "purge_tags": True,
            "state": "present" if _bool(switch, spec[switch]) else "absent",
        })

    # ECS: CPU and memory of each service.
    minutes = spec["ecs_minutes"]
    for service in names["services"].values():
        for what, metric, key in (("cpu", "CPUUtilization", "ecs_cpu_threshold"),
                                  ("memory", "MemoryUtilization", "ecs_memory_threshold")):
            add(f"{service}-{what}-high", "ecs_alarms",
                f"ECS service {service}: average {what} above {spec[key]} % for {minutes} minutes.",
                {"namespace": "AWS/ECS", "metric_name": metric,
                 "dimensions": {"ClusterName": names["cluster"], "ServiceName": service},
                 "statistic": "Average", "period": period,
                 "evaluation_periods": _int("ecs_minutes", minutes),
                 "comparison": "GreaterThanThreshold", "threshold": _float(key, spec[key]),
                 "treat_missing_data": "missing"})

    # Load balancer. m1 + m2: 5XX answered by the app and by the load balancer itself (no healthy
    # target, timeouts); m3: all requests; e1 the share in %. ALB metrics have no data points in
    # minutes without such responses, hence FILL(.., 0); a minute without requests has no rate
    # and does not breach.
    alb = names["load_balancer"]
    rate_alarm, unhealthy_alarm = names["web_deployment_alarms"]

    def alb_sum(query_id: str, metric: str) -> dict[str, Any]:
        return {"id": query_id, "return_data": False,
                "metric_stat": {"metric": {"namespace": "AWS/ApplicationELB", "metric_name": metric,
                                           "dimensions": {"LoadBalancer": elb["LoadBalancer"]}},
                                "period": period, "stat": "Sum"}}

    add(rate_alarm, "alb_alarms",
        f"Load balancer {alb}: 5XX responses above {spec['alb_5xx_rate_threshold']} % of requests"
        f" for {spec['alb_5xx_periods']} minutes. Rolls back an ECS deployment in progress.",
        {"metrics": [alb_sum("m1", "HTTPCode_Target_5XX_Count"),
                     alb_sum("m2", "HTTPCode_ELB_5XX_Count"),
                     alb_sum("m3", "RequestCount"),
                     {"id": "e1", "expression": "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3",
                      "label": "5XX % of requests", "return_data": True}],
         "evaluation_periods": _int("alb_5xx_periods", spec["alb_5xx_periods"]),
         "comparison": "GreaterThanThreshold",
         "threshold": _float("alb_5xx_rate_threshold", spec["alb_5xx_rate_threshold"]),
         "treat_missing_data": "notBreaching"})
    statistic = _text("alb_response_time_statistic", spec["alb_response_time_statistic"])
    add(f"{names['services']['web']}-response-time-high", "alb_alarms",
        f"Load balancer {alb}: {statistic} of the app's response time above"
        f" {spec['alb_response_time_threshold']} s"
        f" for {spec['alb_response_time_minutes']} minutes.",
        {"namespace": "AWS/ApplicationELB", "metric_name": "TargetResponseTime",
         "dimensions": {"LoadBalancer": elb["LoadBalancer"]},
         "extended_statistic": statistic,
         # A percentile over a handful of requests is noise: such minutes are not evaluated.
         "evaluate_low_sample_count_percentile": "ignore",
         "period": period,
         "evaluation_periods": _int("alb_response_time_minutes", spec["alb_response_time_minutes"]),
         "comparison": "GreaterThanThreshold",
         "threshold": _float("alb_response_time_threshold", spec["alb_response_time_threshold"]),
         "treat_missing_data": "notBreaching"})
    add(unhealthy_alarm, "alb_alarms",
        f"Target group {names['target_group']}: a web task failing the load balancer's health check"
        f" for {spec['alb_unhealthy_minutes']} minutes. Rolls back an ECS deployment in progress.",
        {"namespace": "AWS/ApplicationELB", "metric_name": "UnHealthyHostCount",
         "dimensions": {"LoadBalancer": elb["LoadBalancer"], "TargetGroup": elb["TargetGroup"]},
         "statistic": "Maximum", "period": period,
         "evaluation_periods": _int("alb_unhealthy_minutes", spec["alb_unhealthy_minutes"]),
         "comparison": "GreaterThanThreshold", "threshold": 0.0,
         "treat_missing_data": "notBreaching"})

    # PostgreSQL.
    db = names["db_instance"]

    def rds(metric: str, statistic: str) -> dict[str, Any]:
        return {"namespace": "AWS/RDS", "metric_name": metric,
                "dimensions": {"DBInstanceIdentifier": db}, "statistic": statistic}

    connections = spec["rds_max_connections_alarm"]
    add(f"{db}-connections-high", "rds_alarms",
        f"PostgreSQL {db}: more than {connections} connections (80 % of max_connections)"
        " for 5 minutes.",
        {**rds("DatabaseConnections", "Maximum"), "period": period, "evaluation_periods": 5,
         "comparison": "GreaterThanThreshold",
         "threshold": _float("rds_max_connections_alarm", connections),
         "treat_missing_data": "missing"})
    free_bytes = _free_storage_bytes(spec)
    add(f"{db}-free-storage-low", "rds_alarms",
        f"PostgreSQL {db}: free storage below {round(free_bytes / _GB, 1)} GB for 10 minutes.",
        {**rds("FreeStorageSpace", "Minimum"), "period": 300, "evaluation_periods": 2,
         "comparison": "LessThanThreshold", "threshold": float(free_bytes),
         "treat_missing_data": "missing"})
    add(f"{db}-cpu-high", "rds_alarms",
        f"PostgreSQL {db}: average CPU above {spec['rds_cpu_threshold']} % for 5 minutes.",
        {**rds("CPUUtilization", "Average"), "period": period, "evaluation_periods": 5,
         "comparison": "GreaterThanThreshold",
         "threshold": _float("rds_cpu_threshold", spec["rds_cpu_threshold"]),
         "treat_missing_data": "missing"})

    # Database connection errors: the custom metric of the metric filter on the app's log group.
    add(f"{db}-connection-errors", "db_error_alarm",
        f"App log {names['app_log_group']}: {spec['db_error_threshold']} or more database"
        " connection errors (OperationalError) in 5 minutes.",
        {"namespace": _text("metric_namespace", spec["metric_namespace"]),
         "metric_name": _text("db_error_metric", spec["db_error_metric"]),
         "statistic": "Sum", "period": 300, "evaluation_periods": 1,
         "comparison": "GreaterThanOrEqualToThreshold",
         "threshold": _float("db_error_threshold", spec["db_error_threshold"]),
         "treat_missing_data": "notBreaching"})

    # Redis: one memory alarm per member of the replication group (the primary can move).
    memory = spec["redis_memory_threshold"]
    count = _int("redis_node_count", spec["redis_node_count"])
    if count < 0:
        raise _wrong("redis_node_count", "0 or more", count)
    for member in redis_members(names["prefix"], count):
        add(f"{member}-memory-high", "redis_alarms",
            f"Redis node {member}: memory above {memory} % of maxmemory for 5 minutes.",
            {"namespace": "AWS/ElastiCache", "metric_name": "DatabaseMemoryUsagePercentage",
             "dimensions": {"CacheClusterId": member}, "statistic": "Average", "period": period,
             "evaluation_periods": 5, "comparison": "GreaterThanThreshold",
             "threshold": _float("redis_memory_threshold", memory),
             "treat_missing_data": "missing"})

    # Backups (the plan's RPO of 15 minutes): RDS publishes no metric for them, so the scheduled
    # backup check (playbooks/backup-check.yml, booking.aws.rds_backup_metrics) publishes the
    # restore lag and the newest snapshot's age every 5 minutes. Missing data breaches: a check
    # that stopped running is a backup nobody watches.
    def backup(metric: str, threshold: float) -> dict[str, Any]:
        """A 15-minute alarm (three 5-minute periods) on one of the backup check's metrics."""
        return {"namespace": _text("metric_namespace", spec["metric_namespace"]),
                "metric_name": metric, "dimensions": {"DBInstanceIdentifier": db},
                "statistic": "Maximum", "period": 300, "evaluation_periods": 3,
                "comparison": "GreaterThanThreshold", "threshold": threshold,
                "treat_missing_data": "breaching"}

    lag = _int("backup_restore_lag_seconds", spec["backup_restore_lag_seconds"])
    add(f"{db}-restore-lag", "backup_alarms",
        f"PostgreSQL {db}: the latest restorable time is more than {lag // 60} minutes behind"
        " (transaction log backups stopped: a restore now would lose more than the RPO), or the"
        " backup check has not reported for 15 minutes.",
        backup(RESTORE_LAG_METRIC, float(lag)))
    hours = _float("backup_snapshot_age_hours", spec["backup_snapshot_age_hours"])
    add(f"{db}-snapshot-age", "backup_alarms",
        f"PostgreSQL {db}: no snapshot in the last {hours:g} hours (RDS takes one a day in the"
        " backup window: snapshots are missing), or the backup check has not reported for"
        " 15 minutes.",
        backup(SNAPSHOT_AGE_METRIC, hours * 3600))
    return requests


class FilterModule:
    """booking.aws.monitoring_alarms, monitoring_subscriptions, monitoring_elb_dimensions."""

    def filters(self) -> dict[str, Any]:
        return {
            "monitoring_alarms": monitoring_alarms,
            "monitoring_subscriptions": monitoring_subscriptions,
            "monitoring_elb_dimensions": monitoring_elb_dimensions,
        }
