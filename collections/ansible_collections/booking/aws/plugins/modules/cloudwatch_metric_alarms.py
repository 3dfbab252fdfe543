#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a list of CloudWatch metric alarms in one module run, canonically."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
short_description: Manage a list of CloudWatch metric alarms and their tags in one module run
description:
  - Creates, updates or deletes each alarm of I(alarms) exactly as
    M(booking.aws.cloudwatch_metric_alarm) does for one (the same options per item, the same
    canonical comparison, tags and check mode), in one module run.
  - Exists for speed - a role with a dozen alarms pays one module start-up (a Python process,
    boto3 and a client, about 0.5-1 s) instead of one per alarm (bench/RESULTS.md, provisioning).
  - Every item is validated before any alarm is touched; the first AWS error stops the run with
    the alarm it was converging named (alarms before it are converged, as a loop would leave
    them).
  - Supports check mode and diff mode.
options:
  alarms:
    description: The alarms, each with the options of M(booking.aws.cloudwatch_metric_alarm).
    type: list
    elements: dict
    required: true
    suboptions:
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
          description: Breaching periods among I(evaluation_periods) that trigger the alarm.
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
        tags:
          description: Tags of the alarm (C(Name) included if wanted); unset leaves tags alone.
          type: dict
          aliases: [resource_tags]
        purge_tags:
          description: Whether tags not in I(tags) are removed.
          type: bool
          default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: CPU of the web service high, and a retired alarm removed
  booking.aws.cloudwatch_metric_alarms:
    alarms:
      - name: booking-api-prod-web-cpu-high
        namespace: AWS/ECS
        metric_name: CPUUtilization
        dimensions: {ClusterName: booking-api-prod-cluster, ServiceName: booking-api-prod-web}
        statistic: Average
        period: 60
        evaluation_periods: 5
        comparison: GreaterThanThreshold
        threshold: 80
        alarm_actions: [arn:aws:sns:us-east-1:123456789012:booking-api-prod-alarms]
        tags: {Project: booking-api, Name: booking-api-prod-web-cpu-high}
      - name: booking-api-prod-old-alarm
        state: absent
"""

RETURN = r"""
alarms:
  description:
    - One result per item of I(alarms), in order, as M(booking.aws.cloudwatch_metric_alarm)
      returns it (C(alarm_arn), C(alarm), C(state_value)), with the item's C(name) and whether it
      C(changed).
  returned: always
  type: list
  elements: dict
  sample:
    - name: booking-api-prod-web-cpu-high
      changed: false
      alarm_arn: arn:aws:cloudwatch:us-east-1:123456789012:alarm:booking-api-prod-web-cpu-high
      alarm: {name: booking-api-prod-web-cpu-high, threshold: 80.0}
      state_value: OK
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.cloudwatch_metric_alarm import (
    ALARM_MUTUALLY_EXCLUSIVE,
    ALARM_OPTIONS,
    ALARM_REQUIRED_IF,
    check_params,
    converge_alarm,
)
from ansible_collections.booking.aws.plugins.module_utils.list_module import (
    converge_each,
    refuse_repeats,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "alarms": {
                "type": "list", "elements": "dict", "required": True,
                "options": ALARM_OPTIONS,
                "mutually_exclusive": ALARM_MUTUALLY_EXCLUSIVE,
                "required_if": ALARM_REQUIRED_IF,
            },
        },
        supports_check_mode=True,
    )
    alarms: list[dict[str, Any]] = module.params["alarms"]
    refuse_repeats(module, "alarms", [a["name"] for a in alarms])
    # All items checked before the first write.
    for alarm in alarms:
        problem = check_params(alarm) if alarm["state"] == "present" else None
        if problem:
            module.fail_json(msg=f"alarms: {alarm['name']}: {problem}")

    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    converge_each(module, "alarms", alarms,
                  lambda alarm: converge_alarm(client, alarm, module.check_mode),
                  lambda alarm: f"alarm {alarm['name']}")


if __name__ == "__main__":
    main()
