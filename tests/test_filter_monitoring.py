"""booking.aws.monitoring_alarms and friends (plugins/filter/monitoring.py), in pure Python.

The monitoring role's alarms were built by Jinja loops in roles/monitoring/vars/main.yml; the
filter must build the very same requests so a converged environment stays unchanged.
REFERENCE below is what that Jinja rendered (ansible-core 2.21, before the move) for the molecule
scenario's inputs on a converged account: load balancer and target group found, a 50 GB
database, two Redis nodes. No emulator: the plugin file is loaded from its path.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter import contract, monitoring

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / "collections"
ALARMS_MODULE = (COLLECTIONS / "ansible_collections/booking/aws/plugins/modules"
                 / "cloudwatch_metric_alarms.py")

# The plugin imports the contract as Ansible's collection loader would find it.




TOPIC = "arn:aws:sns:eu-west-1:123456789012:molecule-prod-alarms"
LB_ARN = ("arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
          "loadbalancer/app/molecule-prod-alb/50dc6c495c0c9188")
TG_ARN = ("arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
          "targetgroup/molecule-prod-web/943f017f100becff")
LB_DIMENSION = "app/molecule-prod-alb/50dc6c495c0c9188"
TG_DIMENSION = "targetgroup/molecule-prod-web/943f017f100becff"
TAGS = {"Project": "molecule", "Environment": "prod", "ManagedBy": "ansible"}

# The spec roles/monitoring/vars/main.yml builds from the role's defaults, the molecule
# scenario's inputs and what its tasks found.
SPEC: dict[str, Any] = {
    "name_prefix": "molecule-prod",
    "tags": TAGS,
    "topic_arn": TOPIC,
    "load_balancer_arn": LB_ARN,
    "target_group_arn": TG_ARN,
    "rds_allocated_storage_gb": 50,
    "db_error_metric": "DatabaseConnectionErrors",
    "period_seconds": 60,
    "ecs_alarms": True,
    "ecs_cpu_threshold": 80,
    "ecs_memory_threshold": 90,
    "ecs_minutes": 5,
    "alb_alarms": True,
    "alb_5xx_rate_threshold": 1,
    "alb_5xx_periods": 3,
    "alb_response_time_threshold": 2,
    "alb_response_time_statistic": "p95",
    "alb_response_time_minutes": 5,
    "alb_unhealthy_minutes": 2,
    "rds_alarms": True,
    "rds_max_connections_alarm": 360,
    "rds_free_storage_alarm_percent": 10,
    "rds_free_storage_alarm_gb": 0,
    "rds_cpu_threshold": 80,
    "db_error_alarm": True,
    "db_error_threshold": 5,
    "metric_namespace": "molecule-prod",
    "redis_alarms": True,
    "redis_node_count": 2,
    "redis_memory_threshold": 80,
    "backup_alarms": True,
    "backup_restore_lag_seconds": 900,
    "backup_snapshot_age_hours": 26,
}

NAMES = [
    "molecule-prod-web-cpu-high",
    "molecule-prod-web-memory-high",
    "molecule-prod-worker-cpu-high",
    "molecule-prod-worker-memory-high",
    "molecule-prod-web-5xx-rate",
    "molecule-prod-web-response-time-high",
    "molecule-prod-web-unhealthy-hosts",
    "molecule-prod-postgres-connections-high",
    "molecule-prod-postgres-free-storage-low",
    "molecule-prod-postgres-cpu-high",
    "molecule-prod-postgres-connection-errors",
    "molecule-prod-redis-001-memory-high",
    "molecule-prod-redis-002-memory-high",
    "molecule-prod-postgres-restore-lag",
    "molecule-prod-postgres-snapshot-age",
]

# Rendered by the former Jinja of roles/monitoring/vars/main.yml (__monitoring_alarm_requests)
# for SPEC's inputs; only the three long strings above are named.
REFERENCE: list[dict[str, Any]] = [{'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'ECS service molecule-prod-web: average cpu above 80 % for 5 minutes.',
  'dimensions': {'ClusterName': 'molecule-prod-cluster', 'ServiceName': 'molecule-prod-web'},
  'evaluation_periods': 5,
  'metric_name': 'CPUUtilization',
  'name': 'molecule-prod-web-cpu-high',
  'namespace': 'AWS/ECS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-web-cpu-high',
           'Project': 'molecule'},
  'threshold': 80.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'ECS service molecule-prod-web: average memory above 90 % for 5 minutes.',
  'dimensions': {'ClusterName': 'molecule-prod-cluster', 'ServiceName': 'molecule-prod-web'},
  'evaluation_periods': 5,
  'metric_name': 'MemoryUtilization',
  'name': 'molecule-prod-web-memory-high',
  'namespace': 'AWS/ECS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-web-memory-high',
           'Project': 'molecule'},
  'threshold': 90.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'ECS service molecule-prod-worker: average cpu above 80 % for 5 minutes.',
  'dimensions': {'ClusterName': 'molecule-prod-cluster', 'ServiceName': 'molecule-prod-worker'},
  'evaluation_periods': 5,
  'metric_name': 'CPUUtilization',
  'name': 'molecule-prod-worker-cpu-high',
  'namespace': 'AWS/ECS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-worker-cpu-high',
           'Project': 'molecule'},
  'threshold': 80.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'ECS service molecule-prod-worker: average memory above 90 % for 5 minutes.',
  'dimensions': {'ClusterName': 'molecule-prod-cluster', 'ServiceName': 'molecule-prod-worker'},
  'evaluation_periods': 5,
  'metric_name': 'MemoryUtilization',
  'name': 'molecule-prod-worker-memory-high',
  'namespace': 'AWS/ECS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-worker-memory-high',
           'Project': 'molecule'},
  'threshold': 90.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'Load balancer molecule-prod-alb: 5XX responses above 1 % of requests for 3 '
                 'minutes. Rolls back an ECS deployment in progress.',
  'evaluation_periods': 3,
  'metrics': [{'id': 'm1',
               'metric_stat': {'metric': {'dimensions': {'LoadBalancer': LB_DIMENSION},
                                          'metric_name': 'HTTPCode_Target_5XX_Count',
                                          'namespace': 'AWS/ApplicationELB'},
                               'period': 60,
                               'stat': 'Sum'},
               'return_data': False},
              {'id': 'm2',
               'metric_stat': {'metric': {'dimensions': {'LoadBalancer': LB_DIMENSION},
                                          'metric_name': 'HTTPCode_ELB_5XX_Count',
                                          'namespace': 'AWS/ApplicationELB'},
                               'period': 60,
                               'stat': 'Sum'},
               'return_data': False},
              {'id': 'm3',
               'metric_stat': {'metric': {'dimensions': {'LoadBalancer': LB_DIMENSION},
                                          'metric_name': 'RequestCount',
                                          'namespace': 'AWS/ApplicationELB'},
                               'period': 60,
                               'stat': 'Sum'},
               'return_data': False},
              {'expression': '100 * (FILL(m1, 0) + FILL(m2, 0)) / m3',
               'id': 'e1',
               'label': '5XX % of requests',
               'return_data': True}],
  'name': 'molecule-prod-web-5xx-rate',
  'ok_actions': [TOPIC],
  'purge_tags': True,
  'state': 'present',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-web-5xx-rate',
           'Project': 'molecule'},
  'threshold': 1.0,
  'treat_missing_data': 'notBreaching'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': "Load balancer molecule-prod-alb: p95 of the app's response time above 2 s "
                 'for 5 minutes.',
  'dimensions': {'LoadBalancer': LB_DIMENSION},
  'evaluate_low_sample_count_percentile': 'ignore',
  'evaluation_periods': 5,
  'extended_statistic': 'p95',
  'metric_name': 'TargetResponseTime',
  'name': 'molecule-prod-web-response-time-high',
  'namespace': 'AWS/ApplicationELB',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-web-response-time-high',
           'Project': 'molecule'},
  'threshold': 2.0,
  'treat_missing_data': 'notBreaching'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': "Target group molecule-prod-web: a web task failing the load balancer's "
                 'health check for 2 minutes. Rolls back an ECS deployment in progress.',
  'dimensions': {'LoadBalancer': LB_DIMENSION,
                 'TargetGroup': TG_DIMENSION},
  'evaluation_periods': 2,
  'metric_name': 'UnHealthyHostCount',
  'name': 'molecule-prod-web-unhealthy-hosts',
  'namespace': 'AWS/ApplicationELB',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Maximum',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-web-unhealthy-hosts',
           'Project': 'molecule'},
  'threshold': 0.0,
  'treat_missing_data': 'notBreaching'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'PostgreSQL molecule-prod-postgres: more than 360 connections (80 % of '
                 'max_connections) for 5 minutes.',
  'dimensions': {'DBInstanceIdentifier': 'molecule-prod-postgres'},
  'evaluation_periods': 5,
  'metric_name': 'DatabaseConnections',
  'name': 'molecule-prod-postgres-connections-high',
  'namespace': 'AWS/RDS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Maximum',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-postgres-connections-high',
           'Project': 'molecule'},
  'threshold': 360.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'LessThanThreshold',
  'description': 'PostgreSQL molecule-prod-postgres: free storage below 5.0 GB for 10 minutes.',
  'dimensions': {'DBInstanceIdentifier': 'molecule-prod-postgres'},
  'evaluation_periods': 2,
  'metric_name': 'FreeStorageSpace',
  'name': 'molecule-prod-postgres-free-storage-low',
  'namespace': 'AWS/RDS',
  'ok_actions': [TOPIC],
  'period': 300,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Minimum',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-postgres-free-storage-low',
           'Project': 'molecule'},
  'threshold': 5368709120.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'PostgreSQL molecule-prod-postgres: average CPU above 80 % for 5 minutes.',
  'dimensions': {'DBInstanceIdentifier': 'molecule-prod-postgres'},
  'evaluation_periods': 5,
  'metric_name': 'CPUUtilization',
  'name': 'molecule-prod-postgres-cpu-high',
  'namespace': 'AWS/RDS',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-postgres-cpu-high',
           'Project': 'molecule'},
  'threshold': 80.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanOrEqualToThreshold',
  'description': 'App log /ecs/molecule-prod: 5 or more database connection errors '
                 '(OperationalError) in 5 minutes.',
  'evaluation_periods': 1,
  'metric_name': 'DatabaseConnectionErrors',
  'name': 'molecule-prod-postgres-connection-errors',
  'namespace': 'molecule-prod',
  'ok_actions': [TOPIC],
  'period': 300,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Sum',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-postgres-connection-errors',
           'Project': 'molecule'},
  'threshold': 5.0,
  'treat_missing_data': 'notBreaching'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'Redis node molecule-prod-redis-001: memory above 80 % of maxmemory for 5 '
                 'minutes.',
  'dimensions': {'CacheClusterId': 'molecule-prod-redis-001'},
  'evaluation_periods': 5,
  'metric_name': 'DatabaseMemoryUsagePercentage',
  'name': 'molecule-prod-redis-001-memory-high',
  'namespace': 'AWS/ElastiCache',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-redis-001-memory-high',
           'Project': 'molecule'},
  'threshold': 80.0,
  'treat_missing_data': 'missing'},
 {'alarm_actions': [TOPIC],
  'comparison': 'GreaterThanThreshold',
  'description': 'Redis node molecule-prod-redis-002: memory above 80 % of maxmemory for 5 '
                 'minutes.',
  'dimensions': {'CacheClusterId': 'molecule-prod-redis-002'},
  'evaluation_periods': 5,
  'metric_name': 'DatabaseMemoryUsagePercentage',
  'name': 'molecule-prod-redis-002-memory-high',
  'namespace': 'AWS/ElastiCache',
  'ok_actions': [TOPIC],
  'period': 60,
  'purge_tags': True,
  'state': 'present',
  'statistic': 'Average',
  'tags': {'Environment': 'prod',
           'ManagedBy': 'ansible',
           'Name': 'molecule-prod-redis-002-memory-high',
           'Project': 'molecule'},
  'threshold': 80.0,
  'treat_missing_data': 'missing'}]


# Added after the move to Python (issue 19): the backup alarms on the backup check's metrics.
REFERENCE += [
    {"alarm_actions": [TOPIC], "comparison": "GreaterThanThreshold",
     "description": "PostgreSQL molecule-prod-postgres: the latest restorable time is more than 15"
                    " minutes behind (transaction log backups stopped: a restore now would lose"
                    " more than the RPO), or the backup check has not reported for 15 minutes.",
     "dimensions": {"DBInstanceIdentifier": "molecule-prod-postgres"},
     "evaluation_periods": 3, "metric_name": "RestoreLagSeconds",
     "name": "molecule-prod-postgres-restore-lag", "namespace": "molecule-prod",
     "ok_actions": [TOPIC], "period": 300, "purge_tags": True, "state": "present",
     "statistic": "Maximum",
     "tags": {**TAGS, "Name": "molecule-prod-postgres-restore-lag"},
     "threshold": 900.0, "treat_missing_data": "breaching"},
    {"alarm_actions": [TOPIC], "comparison": "GreaterThanThreshold",
     "description": "PostgreSQL molecule-prod-postgres: no snapshot in the last 26 hours (RDS"
                    " takes one a day in the backup window: snapshots are missing), or the backup"
                    " check has not reported for 15 minutes.",
     "dimensions": {"DBInstanceIdentifier": "molecule-prod-postgres"},
     "evaluation_periods": 3, "metric_name": "SnapshotAgeSeconds",
     "name": "molecule-prod-postgres-snapshot-age", "namespace": "molecule-prod",
     "ok_actions": [TOPIC], "period": 300, "purge_tags": True, "state": "present",
     "statistic": "Maximum",
     "tags": {**TAGS, "Name": "molecule-prod-postgres-snapshot-age"},
     "threshold": 93600.0, "treat_missing_data": "breaching"},
]


def alarms(**changes: Any) -> list[dict[str, Any]]:
    return monitoring.monitoring_alarms({**SPEC, **changes})


def by_name(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {request["name"]: request for request in requests}


def _module_options() -> set[str]:
    """The item options of booking.aws.cloudwatch_metric_alarms, read from its DOCUMENTATION."""
    tree = ast.parse(ALARMS_MODULE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            doc = yaml.safe_load(ast.literal_eval(node.value))
            return set(doc["options"]["alarms"]["suboptions"])
    raise AssertionError("no DOCUMENTATION in cloudwatch_metric_alarms.py")


# ---- the reference --------------------------------------------------------------------------

def test_alarms_are_exactly_what_the_former_jinja_rendered() -> None:
    result = alarms()
    assert result == REFERENCE
    # == takes 80 for 80.0: compare the JSON too, so int and float are told apart.
    assert json.dumps(result, sort_keys=True) == json.dumps(REFERENCE, sort_keys=True)


def test_the_fifteen_alarm_names_in_order() -> None:
    assert [request["name"] for request in alarms()] == NAMES


def test_every_request_key_is_an_option_of_the_alarms_module() -> None:
    options = _module_options()
    for request in alarms():
        assert set(request) <= options, request["name"]


def test_the_spec_is_not_modified_and_requests_share_no_dicts() -> None:
    spec = copy.deepcopy(SPEC)
    result = monitoring.monitoring_alarms(spec)
    assert spec == SPEC
    result[0]["tags"]["Extra"] = "x"
    result[0]["dimensions"]["ServiceName"] = "x"
    assert "Extra" not in result[1]["tags"]
    assert result[1]["dimensions"]["ServiceName"] == "molecule-prod-web"
    assert alarms() == REFERENCE


# ---- names and dimensions -------------------------------------------------------------------

def test_names_and_dimensions_come_from_the_contract() -> None:
    prefix = "booking-api-staging"
    names = contract.resource_names(prefix)
    result = by_name(alarms(name_prefix=prefix, load_balancer_arn="", target_group_arn=""))
    for role, service in names["services"].items():
        assert service == f"{prefix}-{role}"
        for what in ("cpu", "memory"):
            assert result[f"{service}-{what}-high"]["dimensions"] == {
                "ClusterName": names["cluster"], "ServiceName": service}
    rate, unhealthy = names["web_deployment_alarms"]
    assert rate in result
    assert unhealthy in result
    assert result[unhealthy]["dimensions"] == {
        "LoadBalancer": f"app/{names['load_balancer']}/not-created-yet",
        "TargetGroup": f"targetgroup/{names['target_group']}/not-created-yet"}
    db = names["db_instance"]
    for suffix in ("connections-high", "free-storage-low", "cpu-high"):
        assert result[f"{db}-{suffix}"]["dimensions"] == {"DBInstanceIdentifier": db}
    assert result[f"{db}-connection-errors"]["description"].startswith(
        f"App log {names['app_log_group']}: ")
    assert [n for n in result if "-redis-" in n] == [
        f"{member}-memory-high" for member in contract.redis_members(prefix, 2)]
    assert all(request["alarm_actions"] == [TOPIC] for request in result.values())


def test_load_balancer_and_target_group_dimensions_are_the_arn_suffixes() -> None:
    result = by_name(alarms())
    unhealthy = result["molecule-prod-web-unhealthy-hosts"]
    assert unhealthy["dimensions"] == {"LoadBalancer": LB_DIMENSION, "TargetGroup": TG_DIMENSION}
    assert result["molecule-prod-web-response-time-high"]["dimensions"] == {
        "LoadBalancer": LB_DIMENSION}
    queries = result["molecule-prod-web-5xx-rate"]["metrics"]
    assert [q["metric_stat"]["metric"]["dimensions"] for q in queries[:3]] == [
        {"LoadBalancer": LB_DIMENSION}] * 3


def test_elb_dimensions_in_any_partition() -> None:
    lb = "arn:aws-cn:elasticloadbalancing:cn-north-1:210987654321:loadbalancer/app/p-x-alb/abc123"
    tg = "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:1:targetgroup/p-x-web/def456"
    assert monitoring.monitoring_elb_dimensions("p-x", lb, tg) == {
        "LoadBalancer": "app/p-x-alb/abc123", "TargetGroup": "targetgroup/p-x-web/def456"}


def test_placeholders_before_the_load_balancer_and_target_group_exist() -> None:
    result = by_name(alarms(load_balancer_arn="", target_group_arn=""))
    placeholder_lb = "app/molecule-prod-alb/not-created-yet"
    placeholder_tg = "targetgroup/molecule-prod-web/not-created-yet"
    assert result["molecule-prod-web-unhealthy-hosts"]["dimensions"] == {
        "LoadBalancer": placeholder_lb, "TargetGroup": placeholder_tg}
    assert result["molecule-prod-web-response-time-high"]["dimensions"] == {
        "LoadBalancer": placeholder_lb}
    queries = result["molecule-prod-web-5xx-rate"]["metrics"]
    assert {q["metric_stat"]["metric"]["dimensions"]["LoadBalancer"] for q in queries[:3]} == {
        placeholder_lb}
    # Only the load balancer found yet: the target group alone is a placeholder.
    partly = by_name(alarms(target_group_arn=None))
    assert partly["molecule-prod-web-unhealthy-hosts"]["dimensions"] == {
        "LoadBalancer": LB_DIMENSION, "TargetGroup": placeholder_tg}


# ---- switches -------------------------------------------------------------------------------

SWITCHES = {
    "ecs_alarms": ["web-cpu-high", "web-memory-high", "worker-cpu-high", "worker-memory-high"],
    "alb_alarms": ["web-5xx-rate", "web-response-time-high", "web-unhealthy-hosts"],
    "rds_alarms": ["postgres-connections-high", "postgres-free-storage-low", "postgres-cpu-high"],
    "db_error_alarm": ["postgres-connection-errors"],
    "redis_alarms": ["redis-001-memory-high", "redis-002-memory-high"],
    "backup_alarms": ["postgres-restore-lag", "postgres-snapshot-age"],
}


@pytest.mark.parametrize("switch", list(SWITCHES))
@pytest.mark.parametrize("off", [False, "false", "no", 0])
def test_a_switched_off_group_is_state_absent_and_the_rest_present(switch: str, off: Any) -> None:
    result = alarms(**{switch: off})
    absent = [r["name"] for r in result if r["state"] == "absent"]
    assert absent == [f"molecule-prod-{suffix}" for suffix in SWITCHES[switch]]
    assert [r["name"] for r in result] == NAMES, "a switched-off alarm is still listed, to remove"
    present = {r["name"]: r for r in result if r["state"] == "present"}
    reference = {r["name"]: r for r in REFERENCE}
    assert all(request == reference[name] for name, request in present.items())
    # The absent request is the reference's but for its state.
    assert all({**r, "state": "present"} == reference[r["name"]]
               for r in result if r["state"] == "absent")


def test_every_group_off_removes_every_alarm() -> None:
    result = alarms(**dict.fromkeys(SWITCHES, False), redis_node_count=0)
    assert {r["state"] for r in result} == {"absent"}
    assert len(result) == 13  # fifteen less the two Redis members


# ---- individual alarms ----------------------------------------------------------------------

def test_the_5xx_rate_alarm_is_metric_math_over_the_load_balancer() -> None:
    alarm = by_name(alarms(period_seconds=300, alb_5xx_rate_threshold=2.5,
                           alb_5xx_periods="4"))["molecule-prod-web-5xx-rate"]
    queries = alarm["metrics"]
    assert [q["id"] for q in queries] == ["m1", "m2", "m3", "e1"]
    assert [q["metric_stat"]["metric"]["metric_name"] for q in queries[:3]] == [
        "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"]
    assert {q["metric_stat"]["metric"]["namespace"] for q in queries[:3]} == {"AWS/ApplicationELB"}
    assert {q["metric_stat"]["stat"] for q in queries[:3]} == {"Sum"}
    assert {q["metric_stat"]["period"] for q in queries[:3]} == {300}
    assert [q["return_data"] for q in queries] == [False, False, False, True]
    assert queries[3]["expression"] == "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3"
    assert queries[3]["label"] == "5XX % of requests"
    assert (alarm["threshold"], alarm["evaluation_periods"]) == (2.5, 4)
    assert alarm["comparison"] == "GreaterThanThreshold"
    assert alarm["treat_missing_data"] == "notBreaching"
    assert "above 2.5 % of requests for 4 minutes" in alarm["description"]
    # A metric math alarm names no single metric.
    for key in ("namespace", "metric_name", "dimensions", "statistic", "extended_statistic",
                "period"):
        assert key not in alarm


@pytest.mark.parametrize(("allocated", "percent", "fixed_gb", "threshold", "shown"), [
    (50, 10, 0, 5368709120.0, "5.0"),           # 10 % of 50 GB
    (21, 15, 0, 3382286745.0, "3.1"),           # 15 % of 21 GB, truncated to whole bytes
    ("100", "12.5", "0", 13421772800.0, "12.5"),
    (50, 10, 20, 21474836480.0, "20.0"),        # a fixed figure wins over the percentage
    (0, 10, 7.5, 8053063680.0, "7.5"),          # ... and needs no instance
    (0, 10, 0, 0.0, "0.0"),                     # dry run: no instance yet
    (None, 10, 0, 0.0, "0.0"),
])
def test_free_storage_bytes_from_a_percentage_or_fixed_gb(
        allocated: Any, percent: Any, fixed_gb: Any, threshold: float, shown: str) -> None:
    alarm = by_name(alarms(rds_allocated_storage_gb=allocated,
                           rds_free_storage_alarm_percent=percent,
                           rds_free_storage_alarm_gb=fixed_gb))["molecule-prod-postgres-free-storage-low"]
    assert alarm["threshold"] == threshold
    assert isinstance(alarm["threshold"], float)
    assert alarm["description"] == (
        f"PostgreSQL molecule-prod-postgres: free storage below {shown} GB for 10 minutes.")
    assert (alarm["comparison"], alarm["statistic"], alarm["period"]) == (
        "LessThanThreshold", "Minimum", 300)


def test_the_topic_is_the_alarm_and_ok_action_only() -> None:
    topic = "arn:aws-cn:sns:cn-north-1:210987654321:molecule-prod-alarms"
    for request in alarms(topic_arn=topic):
        assert request["alarm_actions"] == [topic]
        assert request["ok_actions"] == [topic]
        assert "insufficient_data_actions" not in request


def test_tags_carry_the_alarm_name_and_purge_others() -> None:
    tags = {"Project": "booking-api", "Name": "from-the-inventory"}
    for request in alarms(tags=tags):
        assert request["tags"] == {"Project": "booking-api", "Name": request["name"]}
        assert request["purge_tags"] is True
    assert tags == {"Project": "booking-api", "Name": "from-the-inventory"}


def test_keys_an_alarm_does_not_use_are_left_out() -> None:
    result = by_name(alarms())
    single = set(REFERENCE[0]) - {"dimensions"}
    for name, request in result.items():
        assert "metrics" not in request or name == "molecule-prod-web-5xx-rate"
        if name == "molecule-prod-web-response-time-high":
            assert request["extended_statistic"] == "p95"
            assert request["evaluate_low_sample_count_percentile"] == "ignore"
            assert "statistic" not in request
        elif name != "molecule-prod-web-5xx-rate":
            assert single <= set(request), name
            assert "extended_statistic" not in request
            assert "evaluate_low_sample_count_percentile" not in request
    errors = result["molecule-prod-postgres-connection-errors"]
    assert "dimensions" not in errors
    assert (errors["namespace"], errors["metric_name"]) == (
        "molecule-prod", "DatabaseConnectionErrors")


@pytest.mark.parametrize("count", [0, 1, 3, "3"])
def test_one_memory_alarm_per_redis_node(count: Any) -> None:
    redis = [r for r in alarms(redis_node_count=count, redis_memory_threshold=65)
             if r.get("namespace") == "AWS/ElastiCache"]
    members = [f"molecule-prod-redis-{n:03d}" for n in range(1, int(count) + 1)]
    assert [r["name"] for r in redis] == [f"{m}-memory-high" for m in members]
    assert [r["dimensions"] for r in redis] == [{"CacheClusterId": m} for m in members]
    for request, member in zip(redis, members, strict=True):
        assert request["metric_name"] == "DatabaseMemoryUsagePercentage"
        assert request["threshold"] == 65.0
        assert request["description"] == (
            f"Redis node {member}: memory above 65 % of maxmemory for 5 minutes.")


def test_inputs_given_as_strings_read_as_the_jinja_did() -> None:
    result = by_name(alarms(ecs_cpu_threshold="85", ecs_minutes="3", period_seconds="300",
                            alb_response_time_threshold="1.5",
                            alb_response_time_statistic="p99", rds_max_connections_alarm=200))
    cpu = result["molecule-prod-web-cpu-high"]
    assert (cpu["threshold"], cpu["evaluation_periods"], cpu["period"]) == (85.0, 3, 300)
    assert cpu["description"] == (
        "ECS service molecule-prod-web: average cpu above 85 % for 3 minutes.")
    slow = result["molecule-prod-web-response-time-high"]
    assert (slow["threshold"], slow["extended_statistic"]) == (1.5, "p99")
    assert slow["description"] == ("Load balancer molecule-prod-alb: p99 of the app's response "
                                   "time above 1.5 s for 5 minutes.")
    assert result["molecule-prod-postgres-connections-high"]["threshold"] == 200.0


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "message"), [
    ({"ecs_cpu_threshold": "eighty"}, r"ecs_cpu_threshold must be a number, got 'eighty'"),
    ({"redis_memory_threshold": None}, r"redis_memory_threshold must be a number, got None"),
    ({"alb_5xx_rate_threshold": True}, r"alb_5xx_rate_threshold must be a number, got True"),
    ({"period_seconds": "a minute"}, r"period_seconds must be a whole number"),
    ({"redis_node_count": "two"}, r"redis_node_count must be a whole number, got 'two'"),
    ({"redis_node_count": -1}, r"redis_node_count must be 0 or more, got -1"),
    ({"ecs_alarms": "maybe"}, r"ecs_alarms must be true or false, got 'maybe'"),
    ({"tags": ["Project=x"]}, r"tags must be a dict"),
    ({"topic_arn": ""}, r"topic_arn must be the alarm topic's ARN, got ''"),
    ({"alb_response_time_statistic": ""}, r"alb_response_time_statistic must be a non-empty"),
    ({"metric_namespace": None}, r"metric_namespace must be a non-empty string"),
    ({"rds_free_storage_alarm_gb": "lots"}, r"rds_free_storage_alarm_gb must be a number"),
    ({"name_prefix": ""}, r"need a name prefix like booking-api-prod"),
    ({"name_prefix": "booking-api-"}, r"need a name prefix like booking-api-prod"),
    ({"load_balancer_arn": "molecule-prod-alb"},
     r"expected the load balancer's ARN \(arn:aws:elasticloadbalancing:.*got 'molecule-prod-alb'"),
    ({"target_group_arn": LB_ARN}, r"expected the target group's ARN"),
])
def test_bad_values_raise_a_clear_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        alarms(**changes)


def test_a_missing_or_unknown_spec_key_is_named() -> None:
    spec = {k: v for k, v in SPEC.items() if k not in ("ecs_minutes", "topic_arn")}
    with pytest.raises(AnsibleFilterError,
                       match=r"the spec lacks topic_arn, ecs_minutes \(it takes exactly: "):
        monitoring.monitoring_alarms(spec)
    with pytest.raises(AnsibleFilterError,
                       match=r"the spec has unknown keys ecs_cpu_treshold \(it takes"):
        monitoring.monitoring_alarms({**SPEC, "ecs_cpu_treshold": 70})


@pytest.mark.parametrize("spec", [None, "molecule-prod", [SPEC]])
def test_a_spec_that_is_not_a_dict_is_refused(spec: Any) -> None:
    with pytest.raises(AnsibleFilterError, match=r"the spec must be a dict of the role's inputs"):
        monitoring.monitoring_alarms(spec)


# ---- subscriptions --------------------------------------------------------------------------

def test_subscriptions_are_the_emails_then_the_endpoints() -> None:
    endpoints = [{"protocol": "https", "endpoint": "https://hooks.example.com/alarms",
                  "comment": "dropped"},
                 {"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:123456789012:q"}]
    assert monitoring.monitoring_subscriptions(["oncall@example.com", "b@example.com"],
                                               endpoints) == [
        {"protocol": "email", "endpoint": "oncall@example.com"},
        {"protocol": "email", "endpoint": "b@example.com"},
        {"protocol": "https", "endpoint": "https://hooks.example.com/alarms"},
        {"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:123456789012:q"},
    ]
    assert monitoring.monitoring_subscriptions([], []) == []
    assert monitoring.monitoring_subscriptions(None) == []


@pytest.mark.parametrize(("emails", "endpoints", "message"), [
    ("oncall@example.com", [], r"the e-mail addresses must be a list, got 'oncall@example.com'"),
    (["oncall"], [], r"expected an e-mail address, got 'oncall'"),
    ([], {"protocol": "https"}, r"the endpoints must be a list"),
    ([], [{"endpoint": "https://x.example.com"}], r"each endpoint needs a protocol and an endp"),
    ([], ["https://x.example.com"], r"each endpoint needs a protocol and an endpoint, e\.g\."),
])
def test_bad_subscriptions_raise_a_clear_error(emails: Any, endpoints: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        monitoring.monitoring_subscriptions(emails, endpoints)


def test_the_filters_ansible_finds() -> None:
    filters = monitoring.FilterModule().filters()
    assert filters == {
        "monitoring_alarms": monitoring.monitoring_alarms,
        "monitoring_subscriptions": monitoring.monitoring_subscriptions,
        "monitoring_elb_dimensions": monitoring.monitoring_elb_dimensions,
    }
