# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One CloudWatch metric alarm, compared canonically and converged: shared by
booking.aws.cloudwatch_metric_alarm (one alarm) and booking.aws.cloudwatch_metric_alarms (a list
in one module run)."""

from __future__ import annotations

from typing import Any

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


def check_params(p: dict[str, Any]) -> str | None:
    """What is wrong with one alarm's options beyond the argument spec, or None."""
    if p["metrics"]:
        returned = [q["id"] for q in p["metrics"] if q.get("return_data", True) is not False]
        if len(returned) != 1:
            return ("metrics: exactly one item must have return_data=true "
                    f"(the alarm's value); found {returned or 'none'}")
        for query in p["metrics"]:
            if bool(query.get("expression")) == bool(query.get("metric_stat")):
                return (f"metrics: item {query['id']} needs either expression or "
                        "metric_stat, not both")
    else:
        missing = [k for k in ("namespace", "metric_name", "period") if not p[k]]
        if not (p["statistic"] or p["extended_statistic"]):
            missing.append("statistic or extended_statistic")
        if missing:
            return (f"a single-metric alarm needs {', '.join(missing)} "
                    "(or give metrics for metric math)")
    return None


_METRIC_SPEC: dict[str, Any] = {
    "namespace": {"type": "str", "required": True},
    "metric_name": {"type": "str", "required": True},
    "dimensions": {"type": "dict"},
}
_QUERY_SPEC: dict[str, Any] = {
    "id": {"type": "str", "required": True},
    "expression": {"type": "str"},
    "label": {"type": "str"},
    "return_data": {"type": "bool", "default": True},
    "period": {"type": "int"},
    "metric_stat": {"type": "dict", "options": {
        "metric": {"type": "dict", "required": True, "options": _METRIC_SPEC},
        "period": {"type": "int", "required": True},
        "stat": {"type": "str", "required": True},
        "unit": {"type": "str"},
    }},
}
# The options of one alarm (the module's own, and each item of the list module's alarms).
ALARM_OPTIONS: dict[str, Any] = {
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
    "metrics": {"type": "list", "elements": "dict", "options": _QUERY_SPEC},
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
}

# Checks across one alarm's options (the module's, and each list item's).
ALARM_MUTUALLY_EXCLUSIVE: list[list[str]] = [["metrics", k] for k in _SINGLE_METRIC] + [
    ["statistic", "extended_statistic"]]
ALARM_REQUIRED_IF: list[list[Any]] = [
    ["state", "present", ["comparison", "threshold", "evaluation_periods"]]]


def converge_alarm(client: Any, p: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """Make one alarm as its options say (p); return changed, alarm_arn, alarm, state_value, diff.

    Raises ValueError for options that cannot describe an alarm, botocore errors from AWS.
    """
    alarm = _describe(client, p["name"])
    current_tags = _tags(client, alarm["AlarmArn"]) if alarm else {}
    before = {**_current(alarm), "tags": current_tags} if alarm else {}

    if p["state"] == "absent":
        if alarm and not check_mode:
            client.delete_alarms(AlarmNames=[p["name"]], aws_retry=True)
        return {"changed": bool(alarm), "alarm_arn": "", "alarm": {}, "state_value": "",
                "diff": {"before": before, "after": {}}}

    problem = check_params(p)
    if problem:
        raise ValueError(problem)
    wanted = _wanted(p)
    changed = False
    if alarm is None:
        changed = True
        tags = p["tags"] or {}
        if not check_mode:
            client.put_metric_alarm(
                aws_retry=True, **_put_request(wanted),
                **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}))
        after = {**wanted, "tags": tags}
    else:
        after_tags = current_tags
        if _current(alarm) != wanted:
            changed = True
            if not check_mode:
                client.put_metric_alarm(aws_retry=True, **_put_request(wanted))
        if p["tags"] is not None:
            to_set, to_unset = compare_aws_tags(current_tags, p["tags"], p["purge_tags"])
            if to_set or to_unset:
                changed = True
                after_tags = {**{k: v for k, v in current_tags.items() if k not in to_unset},
                              **to_set}
                if not check_mode:
                    if to_unset:
                        client.untag_resource(ResourceARN=alarm["AlarmArn"], TagKeys=to_unset,
                                              aws_retry=True)
                    if to_set:
                        client.tag_resource(
                            ResourceARN=alarm["AlarmArn"], aws_retry=True,
                            Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
        after = {**wanted, "tags": after_tags}

    if changed and not check_mode:
        alarm = _describe(client, p["name"])
        after = {**_current(alarm), "tags": _tags(client, alarm["AlarmArn"])}
    return {"changed": changed, "alarm_arn": (alarm or {}).get("AlarmArn", ""), "alarm": after,
            "state_value": (alarm or {}).get("StateValue", ""),
            "diff": {"before": before, "after": after}}
