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
  - booking.aws.state
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

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.cloudwatch_metric_alarm import (
    ALARM_MUTUALLY_EXCLUSIVE,
    ALARM_OPTIONS,
    ALARM_REQUIRED_IF,
    converge_alarm,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=ALARM_OPTIONS,
        mutually_exclusive=ALARM_MUTUALLY_EXCLUSIVE,
        required_if=ALARM_REQUIRED_IF,
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    try:
        result = converge_alarm(client, p, module.check_mode)
    except ValueError as e:
        module.fail_json(msg=str(e))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge alarm {p['name']}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
