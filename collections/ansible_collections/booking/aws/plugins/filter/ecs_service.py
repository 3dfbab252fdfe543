"""The ecs_service role's request scaling metric, built in Python.

Tested without AWS in tests/test_filter_ecs_service.py.

Filters:
- ``request_count_metric(target_group_arns)``: a target tracking ``CustomizedMetricSpecification``
  whose value is the sum of the groups' ``RequestCountPerTarget`` (metric math, a group without
  data counted as 0). The predefined ``ALBRequestCountPerTarget`` names one target group, and ECS
  documents it as "not supported for the blue/green deployment type": after a blue/green, canary
  or linear release production is served from the other group (Amazon ECS developer guide,
  "Scale your Amazon ECS service using a target metric"; Application Auto Scaling user guide,
  "Create a target tracking scaling policy ... using metric math").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>; the metric's
# TargetGroup dimension is the part from "targetgroup/" on.
_TARGET_GROUP_ARN = re.compile(
    r"^arn:[\w-]+:elasticloadbalancing:[\w-]+:\d+:(targetgroup/[\w-]+/\w+)$")


def request_count_metric(target_group_arns: Sequence[str]) -> dict[str, Any]:
    """Requests per target summed over ``target_group_arns`` (one or more, no duplicates)."""
    if isinstance(target_group_arns, (str, bytes)) or not isinstance(target_group_arns, Sequence):
        raise AnsibleFilterError(
            "request_count_metric: expected a list of target group ARNs, got "
            f"{target_group_arns!r}")
    if not target_group_arns or len(set(target_group_arns)) != len(target_group_arns):
        raise AnsibleFilterError(
            "request_count_metric: expected one or more distinct target group ARNs, got "
            f"{list(target_group_arns)!r}")
    queries: list[dict[str, Any]] = []
    for index, arn in enumerate(target_group_arns):
        match = _TARGET_GROUP_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise AnsibleFilterError(f"request_count_metric: not a target group ARN: {arn!r}")
        queries.append({
            "Id": f"group{index}",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCountPerTarget",
                           "Dimensions": [{"Name": "TargetGroup", "Value": match.group(1)}]},
                "Stat": "Sum",
            },
        })
    expression = " + ".join(f"FILL({query['Id']}, 0)" for query in queries)
    total = {"Id": "requests", "Expression": expression,
             "Label": "RequestCountPerTarget of the web target groups", "ReturnData": True}
    return {"Metrics": [total, *queries]}


class FilterModule:
    """booking.aws.request_count_metric."""

    def filters(self) -> dict[str, Any]:
        return {"request_count_metric": request_count_metric}
