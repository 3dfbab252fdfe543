#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a CloudWatch metric alarm (one metric or metric math) and its tags, canonically."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarm
short_description: Manage a CloudWatch metric alarm (one metric or metric math) and its tags
description:
  - Creates, updates or deletes one CloudWatch metric alarm watching either one metric
    (I(namespace), I(metric_name), I(dimensions), I(statistic) or I(extended_statistic)) or a
    metric math expression (I(metrics)).
  - Exists because C(amazon.aws.cloudwatch_metric_alarm) 11.4.0 leaves C(Metrics) out of its
    comparison of the existing alarm but not of the wanted one, so a metric math alarm is
    rewritten and reported changed on every run; and it cannot tag an alarm.
  - The whole configuration is compared after normalising what AWS returns (dimensions as a
    mapping, actions as sets, defaults such as C(TreatMissingData=missing) and
    C(ReturnData=true) filled in); PutMetricAlarm replaces the alarm only when they differ.
  - Tags are set on create and then kept with TagResource/UntagResource (PutMetricAlarm ignores
    tags of an existing alarm).
  - Supports check mode and diff mode.
options:
  name:
    description: Name of the alarm.
    type: str
    required: true
    aliases: [alarm_name]
  state:
    description: Whether the alarm should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Description of the alarm (sent in every notification).
    type: str
  namespace:
    description: Namespace of the single metric, e.g. C(AWS/ECS).
    type: str
  metric_name:
    description: Name of the single metric.
    type: str
  dimensions:
    description: Dimensions of the single metric, name to value.
    type: dict
  statistic:
    description: Statistic of the single metric.
    type: str
    choices: [SampleCount, Average, Sum, Minimum, Maximum]
  extended_statistic:
    description: Percentile of the single metric, e.g. C(p95).
    type: str
  period:
    description: Seconds over which the single metric's statistic is applied.
    type: int
  unit:
    description: Unit of the single metric.
    type: str
  metrics:
    description:
      - The metrics and expressions of a metric math alarm. Exactly one item has
        I(return_data=true) (the default), the value compared with I(threshold).
    type: list
    elements: dict
    suboptions:
      id:
        description: Short identifier (lowercase first letter) used in expressions.
        type: str
        required: true
      expression:
        description: Math expression over other ids, e.g. C(100*(m1+m2)/m3).
        type: str
      label:
        description: Human-readable label.
        type: str
      return_data:
        description: Whether this item is the alarm's value (one item only).
        type: bool
        default: true
      period:
        description: Period of an expression in seconds.
        type: int
      metric_stat:
        description: A metric and its statistic.
        type: dict
        suboptions:
          metric:
            description: The metric.
            type: dict
            required: true
            suboptions:
              namespace:
                description: Namespace of the metric.
                type: str
                required: true
              metric_name:
                description: Name of the metric.
                type: str
                required: true
              dimensions:
                description: Dimensions, name to value.
                type: dict
          period:
            description: Period in seconds.
            type: int
            required: true
          stat:
            description: Statistic, e.g. C(Sum), C(Average), C(p95).
            type: str
            required: true
          unit:
            description: Unit of the metric.
            type: str
  comparison:
    description: How the value is compared with I(threshold).
    type: str
    choices:
      - GreaterThanOrEqualToThreshold
      - GreaterThanThreshold
      - LessThanThreshold
      - LessThanOrEqualToThreshold
  threshold:
    description: The value compared against.
    type: float
  evaluation_periods:
    description: Number of most recent periods evaluated.
    type: int
  datapoints_to_alarm:
    description: Breaching periods among I(evaluation_periods) that trigger the alarm (M of N).
    type: int
  treat_missing_data:
    description: How periods without data count.
    type: str
    choices: [breaching, notBreaching, ignore, missing]
    default: missing
  evaluate_low_sample_count_percentile:
    description: For percentiles, whether periods with few samples are evaluated or ignored.
    type: str
    choices: [evaluate, ignore]
  actions_enabled:
    description: Whether the actions run on state changes.
    type: bool
    default: true
  alarm_actions:
    description: ARNs notified on the transition to ALARM (e.g. an SNS topic).
    type: list
    elements: str
    default: []
  ok_actions:
    description: ARNs notified on the transition to OK.
    type: list
    elements: str
    default: []
  insufficient_data_actions:
    description: ARNs notified on the transition to INSUFFICIENT_DATA.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: CPU of the web service above 80 % for 5 minutes
  booking.aws.cloudwatch_metric_alarm:
    name: booking-api-prod-web-cpu-high
    namespace: AWS/ECS
    metric_name: CPUUtilization
    dimensions: {ClusterName: booking-api-prod-cluster, ServiceName: booking-api-prod-web}
    statistic: Average
    period: 60
    evaluation_periods: 5
    comparison: GreaterThanThreshold
    threshold: 80
    alarm_actions: [arn:aws:sns:us-east-1:123456789012:booking-api-prod-alarms]
    ok_actions: [arn:aws:sns:us-east-1:123456789012:booking-api-prod-alarms]
    tags: {Project: booking-api}

- name: 5XX share of the requests above 1 % (metric math)
  booking.aws.cloudwatch_metric_alarm:
    name: booking-api-prod-web-5xx-rate
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 3
    treat_missing_data: notBreaching
    metrics:
      - id: m1
        return_data: false
        metric_stat:
          metric: {namespace: AWS/ApplicationELB, metric_name: HTTPCode_Target_5XX_Count,
                   dimensions: {LoadBalancer: app/booking-api-prod-alb/50dc6c495c0c9188}}
          period: 60
          stat: Sum
      - id: m2
        return_data: false
        metric_stat:
          metric: {namespace: AWS/ApplicationELB, metric_name: RequestCount,
                   dimensions: {LoadBalancer: app/booking-api-prod-alb/50dc6c495c0c9188}}
          period: 60
          stat: Sum
      - id: e1
        expression: 100 * FILL(m1, 0) / m2
        label: 5XX % of requests
"""

RETURN = r"""
alarm_arn:
  description: ARN of the alarm; empty when absent or, in check mode, not created yet.
  returned: always
  type: str
  sample: arn:aws:cloudwatch:us-east-1:123456789012:alarm:booking-api-prod-web-cpu-high
alarm:
  description:
    - The alarm's configuration and tags after the run, in the module's option names (in check
      mode, what a real run would leave); empty when absent.
  returned: always
  type: dict
  sample:
    name: booking-api-prod-web-cpu-high
    namespace: AWS/ECS
    metric_name: CPUUtilization
    threshold: 80.0
    tags: {Project: booking-api}
state_value:
  description: The alarm's current state (C(OK), C(ALARM), C(INSUFFICIENT_DATA)); empty if none.
  returned: always
  type: str
  sample: OK
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

_SINGLE_METRIC = ["namespace", "metric_name", "dimensions", "statistic", "extended_statistic",
                  "period", "unit"]
_ACTIONS = [("alarm_actions", "AlarmActions"), ("ok_actions", "OKActions"),
            ("insufficient_data_actions", "InsufficientDataActions")]


def _prune(value: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value is None (unset), keeping False, 0 and empty collections."""
    return {k: v for k, v in value.items() if v is not None}


def _dims_from_aws(dims: list[dict[str, str]] | None) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dims or []}


def _dims_from_params(dims: dict[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (dims or {}).items()}


def _dims_to_aws(dims: dict[str, Any] | None) -> list[dict[str, str]]:
    return [{"Name": k, "Value": str(v)} for k, v in sorted((dims or {}).items())]


def _query_from_params(query: dict[str, Any]) -> dict[str, Any]:
    stat = query.get("metric_stat")
    shown: dict[str, Any] = {
        "id": query["id"], "expression": query.get("expression"), "label": query.get("label"),
        "return_data": query.get("return_data", True) is not False, "period": query.get("period"),
    }
    if stat:
        metric = stat["metric"]
        shown["metric_stat"] = _prune({
            "metric": {"namespace": metric["namespace"], "metric_name": metric["metric_name"],
                       "dimensions": _dims_from_params(metric.get("dimensions"))},
            "period": stat["period"], "stat": stat["stat"], "unit": stat.get("unit")})
    return _prune(shown)


def _query_from_aws(query: dict[str, Any]) -> dict[str, Any]:
    stat = query.get("MetricStat")
    shown: dict[str, Any] = {
        "id": query["Id"], "expression": query.get("Expression"), "label": query.get("Label"),
        "return_data": query.get("ReturnData", True) is not False, "period": query.get("Period"),
    }
    if stat:
        metric = stat["Metric"]
        shown["metric_stat"] = _prune({
            "metric": {"namespace": metric["Namespace"], "metric_name": metric["MetricName"],
                       "dimensions": _dims_from_aws(metric.get("Dimensions"))},
            "period": stat["Period"], "stat": stat["Stat"], "unit": stat.get("Unit")})
    return _prune(shown)


def _query_to_aws(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _prune({"Id": query["id"], "Expression": query.get("expression"),
                                  "Label": query.get("label"), "ReturnData": query["return_data"],
                                  "Period": query.get("period")})
    stat = query.get("metric_stat")
    if stat:
        metric = stat["metric"]
        out["MetricStat"] = _prune({
            "Metric": {"Namespace": metric["namespace"], "MetricName": metric["metric_name"],
                       "Dimensions": _dims_to_aws(metric["dimensions"])},
            "Period": stat["period"], "Stat": stat["stat"], "Unit": stat.get("unit")})
    return out


def _wanted(p: dict[str, Any]) -> dict[str, Any]:
    """The alarm's configuration as the module's options describe it, normalised."""
    shown: dict[str, Any] = {
        "name": p["name"], "description": p["description"] or None,
        "comparison": p["comparison"], "threshold": float(p["threshold"]),
        "evaluation_periods": p["evaluation_periods"],
        "datapoints_to_alarm": p["datapoints_to_alarm"],
        "treat_missing_data": p["treat_missing_data"],
        "evaluate_low_sample_count_percentile": p["evaluate_low_sample_count_percentile"],
        "actions_enabled": p["actions_enabled"],
    }
    for option, _ in _ACTIONS:
        shown[option] = sorted(set(p[option]))
    if p["metrics"]:
        shown["metrics"] = [_query_from_params(q) for q in p["metrics"]]
    else:
        shown.update({k: p[k] for k in _SINGLE_METRIC})
        shown["dimensions"] = _dims_from_params(p["dimensions"])
    return _prune(shown)


def _current(alarm: dict[str, Any]) -> dict[str, Any]:
    """What DescribeAlarms says, in the same normalised shape as _wanted."""
    shown: dict[str, Any] = {
        "name": alarm["AlarmName"], "description": alarm.get("AlarmDescription") or None,
        "comparison": alarm.get("ComparisonOperator"),
        "threshold": float(alarm["Threshold"]) if alarm.get("Threshold") is not None else None,
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        # Alarms made before TreatMissingData existed, and some answers, leave it out.
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "evaluate_low_sample_count_percentile":
            alarm.get("EvaluateLowSampleCountPercentile") or None,
        "actions_enabled": alarm.get("ActionsEnabled", True),
    }
    for option, key in _ACTIONS:
        shown[option] = sorted(set(alarm.get(key) or []))
    if alarm.get("Metrics"):
        shown["metrics"] = [_query_from_aws(q) for q in alarm["Metrics"]]
    else:
        shown.update({
            "namespace": alarm.get("Namespace"), "metric_name": alarm.get("MetricName"),
            "dimensions": _dims_from_aws(alarm.get("Dimensions")),
            "statistic": alarm.get("Statistic"),
            "extended_statistic": alarm.get("ExtendedStatistic"),
            "period": alarm.get("Period"), "unit": alarm.get("Unit"),
        })
    return _prune(shown)


def _put_request(wanted: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = _prune({
        "AlarmName": wanted["name"], "AlarmDescription": wanted.get("description"),
        "ComparisonOperator": wanted["comparison"], "Threshold": wanted["threshold"],
        "EvaluationPeriods": wanted["evaluation_periods"],
        "DatapointsToAlarm": wanted.get("datapoints_to_alarm"),
        "TreatMissingData": wanted["treat_missing_data"],
        "EvaluateLowSampleCountPercentile": wanted.get("evaluate_low_sample_count_percentile"),
        "ActionsEnabled": wanted["actions_enabled"],
    })
    for option, key in _ACTIONS:
        request[key] = wanted[option]
    if "metrics" in wanted:
        request["Metrics"] = [_query_to_aws(q) for q in wanted["metrics"]]
    else:
        request.update(_prune({
            "Namespace": wanted["namespace"], "MetricName": wanted["metric_name"],
            "Dimensions": _dims_to_aws(wanted.get("dimensions")),
            "Statistic": wanted.get("statistic"),
            "ExtendedStatistic": wanted.get("extended_statistic"),
            "Period": wanted["period"], "Unit": wanted.get("unit")}))
    return request


def _describe(client: Any, name: str) -> dict[str, Any] | None:
    found = client.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"],
                                   aws_retry=True)["MetricAlarms"]
    return next((a for a in found if a["AlarmName"] == name), None)


def _tags(client: Any, arn: str) -> dict[str, str]:
    found = client.list_tags_for_resource(ResourceARN=arn, aws_retry=True).get("Tags", [])
    return {t["Key"]: t["Value"] for t in found}


def _check_params(module: AnsibleAWSModule) -> None:
    p = module.params
    if p["metrics"]:
        returned = [q["id"] for q in p["metrics"] if q.get("return_data", True) is not False]
        if len(returned) != 1:
            module.fail_json(msg="metrics: exactly one item must have return_data=true "
                                 f"(the alarm's value); found {returned or 'none'}")
        for query in p["metrics"]:
            if bool(query.get("expression")) == bool(query.get("metric_stat")):
                module.fail_json(msg=f"metrics: item {query['id']} needs either expression or "
                                     "metric_stat, not both")
    else:
        missing = [k for k in ("namespace", "metric_name", "period") if not p[k]]
        if not (p["statistic"] or p["extended_statistic"]):
            missing.append("statistic or extended_statistic")
        if missing:
            module.fail_json(msg=f"a single-metric alarm needs {', '.join(missing)} "
                                 "(or give metrics for metric math)")


def main() -> None:
    metric_spec = {
        "namespace": {"type": "str", "required": True},
        "metric_name": {"type": "str", "required": True},
        "dimensions": {"type": "dict"},
    }
    query_spec = {
        "id": {"type": "str", "required": True},
        "expression": {"type": "str"},
        "label": {"type": "str"},
        "return_data": {"type": "bool", "default": True},
        "period": {"type": "int"},
        "metric_stat": {"type": "dict", "options": {
            "metric": {"type": "dict", "required": True, "options": metric_spec},
            "period": {"type": "int", "required": True},
            "stat": {"type": "str", "required": True},
            "unit": {"type": "str"},
        }},
    }
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True, "aliases": ["alarm_name"]},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "description": {"type": "str"},
            "namespace": {"type": "str"},
            "metric_name": {"type": "str"},
            "dimensions": {"type": "dict"},
            "statistic": {"type": "str",
                          "choices": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]},
            "extended_statistic": {"type": "str"},
            "period": {"type": "int"},
            "unit": {"type": "str"},
            "metrics": {"type": "list", "elements": "dict", "options": query_spec},
            "comparison": {"type": "str", "choices": [
                "GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                "LessThanThreshold", "LessThanOrEqualToThreshold"]},
            "threshold": {"type": "float"},
            "evaluation_periods": {"type": "int"},
            "datapoints_to_alarm": {"type": "int"},
            "treat_missing_data": {"type": "str", "default": "missing",
                                   "choices": ["breaching", "notBreaching", "ignore", "missing"]},
            "evaluate_low_sample_count_percentile": {"type": "str",
                                                     "choices": ["evaluate", "ignore"]},
            "actions_enabled": {"type": "bool", "default": True},
            "alarm_actions": {"type": "list", "elements": "str", "default": []},
            "ok_actions": {"type": "list", "elements": "str", "default": []},
            "insufficient_data_actions": {"type": "list", "elements": "str", "default": []},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        mutually_exclusive=[["metrics", k] for k in _SINGLE_METRIC]
        + [["statistic", "extended_statistic"]],
        required_if=[["state", "present", ["comparison", "threshold", "evaluation_periods"]]],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    try:
        alarm = _describe(client, p["name"])
        current_tags = _tags(client, alarm["AlarmArn"]) if alarm else {}
        before = {**_current(alarm), "tags": current_tags} if alarm else {}

        if p["state"] == "absent":
            if alarm and not module.check_mode:
                client.delete_alarms(AlarmNames=[p["name"]], aws_retry=True)
            module.exit_json(changed=bool(alarm), alarm_arn="", alarm={}, state_value="",
                             diff={"before": before, "after": {}})

        _check_params(module)
        wanted = _wanted(p)
        changed = False
        if alarm is None:
            changed = True
            tags = p["tags"] or {}
            if not module.check_mode:
                client.put_metric_alarm(
                    aws_retry=True, **_put_request(wanted),
                    **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}))
            after = {**wanted, "tags": tags}
        else:
            after_tags = current_tags
            if _current(alarm) != wanted:
                changed = True
                if not module.check_mode:
                    client.put_metric_alarm(aws_retry=True, **_put_request(wanted))
            if p["tags"] is not None:
                to_set, to_unset = compare_aws_tags(current_tags, p["tags"], p["purge_tags"])
                if to_set or to_unset:
                    changed = True
                    after_tags = {**{k: v for k, v in current_tags.items() if k not in to_unset},
                                  **to_set}
                    if not module.check_mode:
                        if to_unset:
                            client.untag_resource(ResourceARN=alarm["AlarmArn"], TagKeys=to_unset,
                                                  aws_retry=True)
                        if to_set:
                            client.tag_resource(
                                ResourceARN=alarm["AlarmArn"], aws_retry=True,
                                Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
            after = {**wanted, "tags": after_tags}

        if changed and not module.check_mode:
            alarm = _describe(client, p["name"])
            after = {**_current(alarm), "tags": _tags(client, alarm["AlarmArn"])}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge alarm {p['name']}")

    module.exit_json(
        changed=changed,
        alarm_arn=(alarm or {}).get("AlarmArn", ""),
        alarm=after,
        state_value=(alarm or {}).get("StateValue", ""),
        diff={"before": before, "after": after},
    )


if __name__ == "__main__":
    main()
