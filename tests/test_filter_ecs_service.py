"""booking.aws.request_count_metric (plugins/filter/ecs_service.py), in pure Python.

The web service's request scaling policy sums RequestCountPerTarget over both target groups, so
that it keeps measuring production after a blue/green release has moved it to the other group.
The metric is checked against botocore's model of PutScalingPolicy (what the API validates) and
evaluated as CloudWatch's metric math would evaluate it. No emulator.
"""

from __future__ import annotations

import re

import botocore.session
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter.ecs_service import request_count_metric
from botocore.validate import ParamValidator

PRIMARY = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:"
           "targetgroup/booking-api-prod-web/0123456789abcdef")
ALTERNATE = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:"
             "targetgroup/booking-api-prod-web-alt/fedcba9876543210")


def _validate(metric: dict) -> None:
    """What botocore checks before it sends PutScalingPolicy (types, required members)."""
    model = botocore.session.get_session().get_service_model("application-autoscaling")
    shape = model.operation_model("PutScalingPolicy").input_shape
    report = ParamValidator().validate({
        "PolicyName": "p", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
        "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 500.0, "CustomizedMetricSpecification": metric}}, shape)
    assert not report.has_errors(), report.generate_report()


def _evaluate(metric: dict, datapoints: dict[str, float | None]) -> float:
    """The expression over one period: each group's Sum (None: no data, as for a group without
    targets), FILL(x, 0) turning no data into 0, then the sum."""
    [expression] = [m["Expression"] for m in metric["Metrics"] if m.get("ReturnData")]
    by_id = {m["Id"]: datapoints[m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]]
             for m in metric["Metrics"] if "MetricStat" in m}
    terms = re.findall(r"FILL\((\w+), 0\)", expression)
    assert " + ".join(f"FILL({t}, 0)" for t in terms) == expression
    return sum(by_id[t] or 0.0 for t in terms)


def test_the_metric_sums_both_groups_and_is_valid_for_the_api():
    metric = request_count_metric([PRIMARY, ALTERNATE])
    _validate(metric)
    returned = [m for m in metric["Metrics"] if m["ReturnData"]]
    assert len(returned) == 1  # target tracking takes exactly one time series
    groups = [m["MetricStat"]["Metric"] for m in metric["Metrics"] if "MetricStat" in m]
    assert {g["Namespace"] for g in groups} == {"AWS/ApplicationELB"}
    assert {g["MetricName"] for g in groups} == {"RequestCountPerTarget"}
    assert [g["Dimensions"] for g in groups] == [
        [{"Name": "TargetGroup", "Value": "targetgroup/booking-api-prod-web/0123456789abcdef"}],
        [{"Name": "TargetGroup",
          "Value": "targetgroup/booking-api-prod-web-alt/fedcba9876543210"}]]


@pytest.mark.parametrize(("serving", "expected"), [
    # Before any blue/green release, after one (production in the other group), and mid-canary.
    ({"targetgroup/booking-api-prod-web/0123456789abcdef": 420.0,
      "targetgroup/booking-api-prod-web-alt/fedcba9876543210": None}, 420.0),
    ({"targetgroup/booking-api-prod-web/0123456789abcdef": None,
      "targetgroup/booking-api-prod-web-alt/fedcba9876543210": 420.0}, 420.0),
    ({"targetgroup/booking-api-prod-web/0123456789abcdef": 378.0,
      "targetgroup/booking-api-prod-web-alt/fedcba9876543210": 42.0}, 420.0),
])
def test_the_metric_follows_production_whichever_group_serves_it(serving, expected):
    assert _evaluate(request_count_metric([PRIMARY, ALTERNATE]), serving) == expected


def test_one_group_is_enough():
    metric = request_count_metric([PRIMARY])
    _validate(metric)
    assert metric["Metrics"][0]["Expression"] == "FILL(group0, 0)"


@pytest.mark.parametrize("bad", [
    [], PRIMARY, [PRIMARY, PRIMARY], ["targetgroup/x/1"], [None],
    ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"],
])
def test_anything_but_distinct_target_group_arns_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="request_count_metric"):
        request_count_metric(bad)
