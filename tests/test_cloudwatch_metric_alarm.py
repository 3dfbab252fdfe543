"""booking.aws.cloudwatch_metric_alarm against the emulator: single-metric and metric math alarms.

amazon.aws.cloudwatch_metric_alarm rewrites a metric math alarm on every run and cannot tag; these
tests pin what ours does instead: one write per real difference, tags kept apart, honest check mode.
"""

from __future__ import annotations

import pytest

MODULE = "booking.aws.cloudwatch_metric_alarm"
TOPIC = "arn:aws:sns:us-east-1:123456789012:test-alarms"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:other"
LB = "app/test-alb/50dc6c495c0c9188"


def _given(args):
    """The module arguments without those set to None (left out, as a playbook would)."""
    return {k: v for k, v in args.items() if v is not None}


def _cpu(**overrides):
    return _given({"name": "test-web-cpu-high", "description": "web CPU above 80 %",
            "namespace": "AWS/ECS", "metric_name": "CPUUtilization",
            "dimensions": {"ClusterName": "test-cluster", "ServiceName": "test-web"},
            "statistic": "Average", "period": 60, "evaluation_periods": 5,
            "comparison": "GreaterThanThreshold", "threshold": 80,
            "alarm_actions": [TOPIC], "ok_actions": [TOPIC],
            "tags": {"Project": "t", "Name": "test-web-cpu-high"}, **overrides})


def _stat(metric, stat="Sum"):
    return {"metric": {"namespace": "AWS/ApplicationELB", "metric_name": metric,
                       "dimensions": {"LoadBalancer": LB}},
            "period": 60, "stat": stat}


def _rate(**overrides):
    return {"name": "test-5xx-rate", "comparison": "GreaterThanThreshold", "threshold": 1,
            "evaluation_periods": 3, "treat_missing_data": "notBreaching",
            "metrics": [
                {"id": f"m{n}", "return_data": False, "metric_stat": _stat(metric)}
                for n, metric in enumerate(
                    ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"], 1)
            ] + [
                {"id": "e1", "expression": "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3",
                 "label": "5XX % of requests"},
            ],
            "alarm_actions": [TOPIC], "ok_actions": [TOPIC], **overrides}


def _alarm(aws, name):
    found = aws("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0] if found else None


def _tags(aws, name):
    arn = _alarm(aws, name)["AlarmArn"]
    return {t["Key"]: t["Value"]
            for t in aws("cloudwatch").list_tags_for_resource(ResourceARN=arn)["Tags"]}


@pytest.fixture
def empty(fresh_emulator, aws):
    return aws


def test_check_mode_reports_a_new_alarm_and_creates_nothing(ansible, empty):
    result = ansible.module(MODULE, _cpu(), check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {}
    after = result["diff"]["after"]
    assert after["threshold"] == 80.0
    assert after["dimensions"] == {"ClusterName": "test-cluster", "ServiceName": "test-web"}
    assert after["tags"] == {"Project": "t", "Name": "test-web-cpu-high"}
    assert result["alarm_arn"] == ""
    assert _alarm(empty, "test-web-cpu-high") is None, "check mode created the alarm"


def test_single_metric_alarm_is_created_with_tags_then_left_alone(ansible, empty):
    first = ansible.module(MODULE, _cpu(), diff=True)
    assert first["changed"] is True, first
    alarm = _alarm(empty, "test-web-cpu-high")
    assert alarm["Namespace"] == "AWS/ECS"
    assert alarm["MetricName"] == "CPUUtilization"
    assert alarm["Statistic"] == "Average"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "ClusterName": "test-cluster", "ServiceName": "test-web"}
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (60, 5, 80.0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [TOPIC]
    assert alarm["OKActions"] == [TOPIC]
    assert alarm["AlarmDescription"] == "web CPU above 80 %"
    assert _tags(empty, "test-web-cpu-high") == {"Project": "t", "Name": "test-web-cpu-high"}
    assert first["alarm_arn"] == alarm["AlarmArn"]
    assert first["alarm"]["tags"] == {"Project": "t", "Name": "test-web-cpu-high"}

    second = ansible.module(MODULE, _cpu())
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, _cpu(), check=True, diff=True)
    assert checked["changed"] is False, checked
    assert checked["diff"]["before"] == checked["diff"]["after"]


def test_metric_math_alarm_is_idempotent(ansible, empty):
    first = ansible.module(MODULE, _rate())
    assert first["changed"] is True, first
    alarm = _alarm(empty, "test-5xx-rate")
    assert [q["Id"] for q in alarm["Metrics"]] == ["m1", "m2", "m3", "e1"]
    assert alarm["Metrics"][3]["Expression"] == "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3"
    assert alarm["Metrics"][3]["ReturnData"] is True
    assert alarm["Metrics"][0]["ReturnData"] is False
    assert alarm["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": LB}]
    assert alarm["TreatMissingData"] == "notBreaching"
    assert "MetricName" not in alarm or not alarm["MetricName"]

    # The point of this module: amazon.aws's reports changed here on every run.
    second = ansible.module(MODULE, _rate())
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, _rate(), check=True, diff=True)
    assert checked["changed"] is False, checked


def test_a_changed_expression_is_reported_in_check_mode_and_written_by_a_run(ansible, empty):
    ansible.module(MODULE, _rate())
    wanted = _rate()
    wanted["metrics"][3]["expression"] = "100 * FILL(m1, 0) / m3"
    checked = ansible.module(MODULE, wanted, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"]["metrics"][3]["expression"] == (
        "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3")
    assert checked["diff"]["after"]["metrics"][3]["expression"] == "100 * FILL(m1, 0) / m3"
    assert _alarm(empty, "test-5xx-rate")["Metrics"][3]["Expression"] == (
        "100 * (FILL(m1, 0) + FILL(m2, 0)) / m3"), "check mode changed the alarm"

    assert ansible.module(MODULE, wanted)["changed"] is True
    assert _alarm(empty, "test-5xx-rate")["Metrics"][3]["Expression"] == "100 * FILL(m1, 0) / m3"
    assert ansible.module(MODULE, wanted)["changed"] is False


def test_drift_made_outside_is_found_and_repaired(ansible, empty):
    ansible.module(MODULE, _cpu())
    alarm = _alarm(empty, "test-web-cpu-high")
    empty("cloudwatch").put_metric_alarm(
        AlarmName=alarm["AlarmName"], AlarmDescription=alarm["AlarmDescription"],
        Namespace="AWS/ECS", MetricName="CPUUtilization", Dimensions=alarm["Dimensions"],
        Statistic="Average", Period=60, EvaluationPeriods=5,
        ComparisonOperator="GreaterThanThreshold", Threshold=95.0,
        AlarmActions=[TOPIC], OKActions=[])
    checked = ansible.module(MODULE, _cpu(), check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"]["threshold"] == 95.0
    assert checked["diff"]["before"]["ok_actions"] == []
    assert checked["diff"]["after"]["threshold"] == 80.0
    repaired = ansible.module(MODULE, _cpu())
    assert repaired["changed"] is True
    alarm = _alarm(empty, "test-web-cpu-high")
    assert (alarm["Threshold"], alarm["OKActions"]) == (80.0, [TOPIC])
    # The tags survived the rewrite (PutMetricAlarm leaves an existing alarm's tags alone).
    assert _tags(empty, "test-web-cpu-high") == {"Project": "t", "Name": "test-web-cpu-high"}


def test_action_order_is_no_change_but_another_action_is(ansible, empty):
    ansible.module(MODULE, _cpu(alarm_actions=[TOPIC, OTHER_TOPIC]))
    swapped = ansible.module(MODULE, _cpu(alarm_actions=[OTHER_TOPIC, TOPIC]))
    assert swapped["changed"] is False, swapped
    fewer = ansible.module(MODULE, _cpu(alarm_actions=[TOPIC]))
    assert fewer["changed"] is True
    assert _alarm(empty, "test-web-cpu-high")["AlarmActions"] == [TOPIC]


def test_tags_change_without_rewriting_the_alarm(ansible, empty):
    ansible.module(MODULE, _cpu())
    stamp = _alarm(empty, "test-web-cpu-high")["AlarmConfigurationUpdatedTimestamp"]
    result = ansible.module(MODULE, _cpu(tags={"Project": "t", "Team": "ops"}), diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"]["tags"] == {"Project": "t", "Name": "test-web-cpu-high"}
    assert result["diff"]["after"]["tags"] == {"Project": "t", "Team": "ops"}
    assert _tags(empty, "test-web-cpu-high") == {"Project": "t", "Team": "ops"}
    assert _alarm(empty, "test-web-cpu-high")["AlarmConfigurationUpdatedTimestamp"] == stamp

    kept = ansible.module(MODULE, _cpu(tags={"Extra": "x"}, purge_tags=False))
    assert kept["changed"] is True
    assert _tags(empty, "test-web-cpu-high") == {"Project": "t", "Team": "ops", "Extra": "x"}
    untouched = ansible.module(MODULE, _cpu(tags=None))
    assert untouched["changed"] is False, untouched


def test_percentile_alarm_with_low_sample_handling_is_idempotent(ansible, empty):
    args = {"name": "test-latency-p95", "namespace": "AWS/ApplicationELB",
            "metric_name": "TargetResponseTime", "dimensions": {"LoadBalancer": LB},
            "extended_statistic": "p95", "period": 60, "evaluation_periods": 5,
            "datapoints_to_alarm": 4, "comparison": "GreaterThanThreshold", "threshold": 2,
            "evaluate_low_sample_count_percentile": "ignore",
            "treat_missing_data": "notBreaching"}
    assert ansible.module(MODULE, args)["changed"] is True
    alarm = _alarm(empty, "test-latency-p95")
    assert alarm["ExtendedStatistic"] == "p95"
    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"
    assert alarm["DatapointsToAlarm"] == 4
    assert ansible.module(MODULE, args)["changed"] is False


def test_absent_deletes_once_and_check_mode_keeps_it(ansible, empty):
    ansible.module(MODULE, _rate())
    checked = ansible.module(MODULE, {"name": "test-5xx-rate", "state": "absent"},
                             check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {}
    assert checked["diff"]["before"]["name"] == "test-5xx-rate"
    assert _alarm(empty, "test-5xx-rate") is not None, "check mode deleted the alarm"

    assert ansible.module(MODULE, {"name": "test-5xx-rate", "state": "absent"})["changed"] is True
    assert _alarm(empty, "test-5xx-rate") is None
    assert ansible.module(MODULE, {"name": "test-5xx-rate", "state": "absent"})["changed"] is False


def _two_results(args):
    args["metrics"][2]["return_data"] = True
    return args


@pytest.mark.parametrize(("args", "message"), [
    (_two_results(_rate()), "exactly one item must have return_data=true"),
    (_rate(metrics=[{"id": "e1", "expression": "1",
                     "metric_stat": _stat("RequestCount")}]), "either expression or metric_stat"),
    (_cpu(period=None), "needs period"),
    (_cpu(statistic=None), "statistic or extended_statistic"),
    (_cpu(extended_statistic="p95"), "mutually exclusive"),
    (_rate(metric_name="CPUUtilization"), "mutually exclusive"),
    (_cpu(threshold=None), "threshold"),
])
def test_bad_input_is_refused_before_any_call(ansible, empty, args, message):
    result = ansible.module(MODULE, args)
    assert result.get("failed") is True, result
    assert message in result["msg"]
    assert empty("cloudwatch").describe_alarms()["MetricAlarms"] == []


# booking.aws.cloudwatch_metric_alarms: the same alarms, a list in one module run.
LIST_MODULE = "booking.aws.cloudwatch_metric_alarms"


def test_list_module_creates_each_alarm_then_reports_no_change(ansible, empty):
    alarms = [_cpu(), _rate()]
    checked = ansible.module(LIST_MODULE, {"alarms": alarms}, check=True, diff=True)
    assert checked["changed"] is True
    assert set(checked["diff"]["after"]) == {"test-web-cpu-high", "test-5xx-rate"}
    assert _alarm(empty, "test-web-cpu-high") is None, "check mode created an alarm"

    first = ansible.module(LIST_MODULE, {"alarms": alarms})
    assert first["changed"] is True
    assert [(r["name"], r["changed"]) for r in first["alarms"]] == [
        ("test-web-cpu-high", True), ("test-5xx-rate", True)]
    assert _alarm(empty, "test-5xx-rate")["Metrics"], "metric math alarm not written"
    assert _tags(empty, "test-web-cpu-high") == {"Project": "t", "Name": "test-web-cpu-high"}

    second = ansible.module(LIST_MODULE, {"alarms": alarms})
    assert second["changed"] is False, second
    assert all(r["alarm_arn"] for r in second["alarms"])
    assert ansible.module(LIST_MODULE, {"alarms": alarms}, check=True)["changed"] is False


def test_list_module_changes_only_the_item_that_differs(ansible, empty):
    ansible.module(LIST_MODULE, {"alarms": [_cpu(), _rate()]})
    result = ansible.module(LIST_MODULE, {"alarms": [_cpu(threshold=90), _rate()]}, diff=True)
    assert [(r["name"], r["changed"]) for r in result["alarms"]] == [
        ("test-web-cpu-high", True), ("test-5xx-rate", False)]
    assert list(result["diff"]["after"]) == ["test-web-cpu-high"]
    assert result["diff"]["before"]["test-web-cpu-high"]["threshold"] == 80.0
    assert _alarm(empty, "test-web-cpu-high")["Threshold"] == 90.0


def test_list_module_removes_absent_items(ansible, empty):
    ansible.module(LIST_MODULE, {"alarms": [_cpu(), _rate()]})
    gone = {"name": "test-5xx-rate", "state": "absent"}
    result = ansible.module(LIST_MODULE, {"alarms": [_cpu(), gone]})
    assert [(r["name"], r["changed"]) for r in result["alarms"]] == [
        ("test-web-cpu-high", False), ("test-5xx-rate", True)]
    assert _alarm(empty, "test-5xx-rate") is None
    assert ansible.module(LIST_MODULE, {"alarms": [_cpu(), gone]})["changed"] is False


@pytest.mark.parametrize(("alarms", "message"), [
    ([_cpu(), _cpu()], "each name once; repeated: test-web-cpu-high"),
    ([_cpu(), _rate(metrics=[{"id": "e1", "expression": "1", "return_data": False}])],
     "test-5xx-rate: metrics: exactly one item must have return_data=true"),
    ([_cpu(period=None)], "test-web-cpu-high: a single-metric alarm needs period"),
    ([{**_cpu(), "statistic": "Average", "extended_statistic": "p95"}], "mutually exclusive"),
])
def test_list_module_refuses_bad_items_before_touching_any(ansible, empty, alarms, message):
    result = ansible.module(LIST_MODULE, {"alarms": [_rate(name="test-first"), *alarms]})
    assert result.get("failed") is True, result
    assert message in result["msg"], result["msg"]
    assert _alarm(empty, "test-first") is None, "an alarm was written before the bad item failed"
