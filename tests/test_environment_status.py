"""booking.aws.environment_status and playbooks/status.yml (make status): one screen of what runs.

The screen itself is pure (render); the module and the playbook read an environment made with
boto3 on the session's in-process emulator (the release tests' minimal one, tests/release_env.py,
plus a service, a release record, an alarm in ALARM and a Redis group). Cost: the environment in
a second, one module call, one playbook run (about 10 s).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import release_env as env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]
                       / "collections/ansible_collections/booking/aws/plugins/modules"))
from environment_status import render

ARGS = {"record_path": env.RECORD, "cluster": env.CLUSTER, "services": env.SERVICES,
        "target_groups": [f"{env.PREFIX}-web", f"{env.PREFIX}-web-alt"],
        "alarm_prefix": f"{env.PREFIX}-", "db_instance": f"{env.PREFIX}-postgres",
        "redis_group": f"{env.PREFIX}-redis"}


def test_the_screen_says_what_runs_and_what_is_missing():
    status = {
        "release": {"tag": "3f2c1aa", "by": "alice", "at": "2026-12-07T09:00:00Z"},
        "services": {"web": {"running": 2, "desired": 2, "pending": 0,
                             "task_definition": "booking-web:7", "strategy": "BLUE_GREEN",
                             "deployments": [{"status": "PRIMARY", "rollout": "COMPLETED",
                                              "task_definition": "booking-web:7", "running": 2,
                                              "desired": 2}],
                             "events": [{"at": "2026-12-07T09:01:00Z",
                                         "message": "(service web) has reached a steady state."}]},
                     "worker": None},
        "targets": {"web": {"healthy": 2}, "web-alt": {}},
        "alarms": ["booking-web-5xx-rate"],
        "database": {"status": "available", "engine_version": "15.13", "multi_az": True,
                     "latest_restorable_time": "2026-12-07T09:55:00Z"},
        "redis": None,
    }
    lines = render(status, datetime(2026, 12, 7, 9, 57, tzinfo=UTC))
    assert lines == [
        "release   3f2c1aa by alice at 2026-12-07T09:00:00Z",
        "web       2/2 running, 0 pending, booking-web:7 (blue_green); deployments: PRIMARY "
        "booking-web:7 2/2 COMPLETED",
        "            2026-12-07T09:01:00Z  (service web) has reached a steady state.",
        "worker    not found",
        "targets   web: 2 healthy",
        "targets   web-alt: no targets",
        "alarms    IN ALARM: booking-web-5xx-rate",
        "database  available, PostgreSQL 15.13, Multi-AZ, latest restorable 2026-12-07T09:55:00Z "
        "(120 s ago)",
        "redis     not found",
    ]


def _environment(aws) -> None:
    env.provision(aws)
    ecs = aws("ecs")
    definition = ecs.register_task_definition(
        family=f"{env.PREFIX}-web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[{
            "name": "web", "image": "example/booking:3f2c1aa", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=env.CLUSTER, serviceName=env.SERVICES["web"],
                       taskDefinition=definition, desiredCount=0, launchType="FARGATE")
    aws("ssm").put_parameter(Name=f"{env.RECORD}/current", Type="String", Value=json.dumps({
        "tag": "3f2c1aa", "by": "alice", "at": "2026-12-07T09:00:00Z",
        "image": "example/booking:3f2c1aa", "task_definitions": {"web": definition}}))
    cloudwatch = aws("cloudwatch")
    for name in (f"{env.PREFIX}-web-5xx-rate", f"{env.PREFIX}-postgres-cpu-high"):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="m", Namespace="n", Period=60,
                                    EvaluationPeriods=1, Threshold=1.0, Statistic="Sum",
                                    ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=f"{env.PREFIX}-web-5xx-rate", StateValue="ALARM",
                               StateReason="test")


def test_the_module_and_make_status_read_the_environment(fresh_emulator, ansible):
    aws = fresh_emulator.client
    _environment(aws)
    since = len(fresh_emulator.calls)
    result = ansible.module("booking.aws.environment_status", ARGS)
    assert result["changed"] is False
    status = result["status"]
    assert status["release"]["tag"] == "3f2c1aa"
    assert status["services"]["web"]["task_definition"] == f"{env.PREFIX}-web:1"
    assert status["services"]["worker"] is None
    assert status["targets"] == {f"{env.PREFIX}-web": {}, f"{env.PREFIX}-web-alt": {}}
    assert status["alarms"] == [f"{env.PREFIX}-web-5xx-rate"]  # only those in ALARM
    assert status["database"]["status"] == "available"
    assert status["redis"] is None
    reads = {c.action for c in fresh_emulator.calls[since:]}
    assert not {a for a in reads if not a.startswith(("Describe", "Get", "List"))}, reads

    run = ansible.playbook("playbooks/status.yml")
    assert run.rc == 0, run.explain()
    assert run.changed == 0
    for expected in ("release   3f2c1aa by alice", "worker    not found",
                     f"alarms    IN ALARM: {env.PREFIX}-web-5xx-rate", "redis     not found"):
        assert expected in run.output, run.output[-3000:]
