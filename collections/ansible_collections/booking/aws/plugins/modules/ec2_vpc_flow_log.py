#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage one VPC flow log that delivers to CloudWatch Logs (no amazon.aws module does this)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_vpc_flow_log
short_description: Manage a VPC flow log delivering to CloudWatch Logs
description:
  - Ensures that exactly one flow log of a VPC (or subnet, or network interface) delivers to the
    given CloudWatch Logs log group, with the given traffic type and aggregation interval.
  - Flow logs cannot be modified in place on AWS ("After you create a flow log, you cannot change
    its configuration", U(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-limitations.html)).
    When the traffic type, delivery role or aggregation interval differ, the flow log is deleted
    and created again (reported as changed); the log group and its records stay.
  - Tags are updated in place.
  - The flow log is read back after its create; DescribeFlowLogs may leave a new flow log out for
    a few seconds (AWS's eventual consistency), so that read is retried for up to 30 seconds.
  - Supports check mode and diff mode.
options:
  resource_id:
    description: ID of the VPC, subnet or network interface whose traffic is logged.
    type: str
    required: true
  resource_type:
    description: Kind of resource named by I(resource_id).
    type: str
    choices: [VPC, Subnet, NetworkInterface]
    default: VPC
  log_group_name:
    description: CloudWatch Logs log group that receives the flow log records.
    type: str
    required: true
  deliver_logs_permission_arn:
    description:
      - ARN of the IAM role that the flow logs service assumes to write to the log group.
      - Required when I(state=present).
    type: str
  traffic_type:
    description:
      - Which traffic to log. C(REJECT) logs what security groups and network ACLs refused and
        ingests far fewer GB into CloudWatch Logs than C(ALL).
    type: str
    choices: [ACCEPT, REJECT, ALL]
    default: ALL
  max_aggregation_interval:
    description: Seconds over which packets are aggregated into one record.
    type: int
    choices: [60, 600]
    default: 600
  state:
    description: Whether the flow log should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log all traffic of the VPC to CloudWatch Logs
  booking.aws.ec2_vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /aws/vpc/booking-api-prod-flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/booking-api-prod-vpc-flow-logs
    traffic_type: ALL
    tags:
      Project: booking-api
"""

RETURN = r"""
flow_log:
  description: The flow log as described by AWS (snake_case keys); empty when absent.
  returned: always
  type: dict
  sample:
    flow_log_id: fl-0123456789abcdef0
    log_group_name: /aws/vpc/booking-api-prod-flow-logs
    traffic_type: ALL
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    read_until_found,
)

# Seconds a new flow log may take to appear in DescribeFlowLogs.
READ_TIMEOUT = 30
# The fields that cannot change without replacing the flow log.
_REPLACE_FIELDS = ("TrafficType", "DeliverLogsPermissionArn", "MaxAggregationInterval")


def _find(client: Any, resource_id: str, log_group_name: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_flow_logs")
    found = paginator.paginate(
        Filters=[
            {"Name": "resource-id", "Values": [resource_id]},
            {"Name": "log-group-name", "Values": [log_group_name]},
        ]
    ).build_full_result()["FlowLogs"]
    # The emulator ignores some filters; AWS honours them. Check both ways.
    return [
        f for f in found
        if f.get("ResourceId") == resource_id and f.get("LogGroupName") == log_group_name
    ]


def _read_back(module: AnsibleAWSModule, client: Any) -> dict[str, Any]:
    """The flow log just created or tagged, read back.

    DescribeFlowLogs is eventually consistent: right after CreateFlowLogs it may not list the new
    flow log yet (EC2 API, "Eventual consistency"), so the read is retried for up to
    READ_TIMEOUT seconds.
    """
    p = module.params
    found = read_until_found(lambda: _find(client, p["resource_id"], p["log_group_name"]),
                             timeout=READ_TIMEOUT)
    if not found:
        module.fail_json(msg=f"The flow log of {p['resource_id']} to {p['log_group_name']} was "
                             f"created, but DescribeFlowLogs has not shown it for {READ_TIMEOUT} s",
                         changed=True)
    return found[0]


def _desired(module: AnsibleAWSModule) -> dict[str, Any]:
    p = module.params
    return {
        "TrafficType": p["traffic_type"],
        "DeliverLogsPermissionArn": p["deliver_logs_permission_arn"],
        "MaxAggregationInterval": p["max_aggregation_interval"],
    }


def _state_for_diff(flow_log: dict[str, Any] | None) -> dict[str, Any]:
    if not flow_log:
        return {}
    shown = {k: flow_log.get(k) for k in (*_REPLACE_FIELDS, "LogGroupName", "ResourceId")}
    shown["Tags"] = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    return shown


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "resource_id": {"type": "str", "required": True},
            "resource_type": {
                "type": "str", "default": "VPC", "choices": ["VPC", "Subnet", "NetworkInterface"]
            },
            "log_group_name": {"type": "str", "required": True},
            "deliver_logs_permission_arn": {"type": "str"},
            "traffic_type": {
                "type": "str", "default": "ALL", "choices": ["ACCEPT", "REJECT", "ALL"]
            },
            "max_aggregation_interval": {"type": "int", "default": 600, "choices": [60, 600]},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[("state", "present", ["deliver_logs_permission_arn"])],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())

    try:
        existing = _find(client, p["resource_id"], p["log_group_name"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to describe flow logs")

    before = _state_for_diff(existing[0] if existing else None)
    changed = False
    result_log: dict[str, Any] | None = existing[0] if existing else None

    try:
        if p["state"] == "absent":
            if existing:
                changed = True
                if not module.check_mode:
                    client.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in existing])
            module.exit_json(changed=changed, flow_log={},
                             diff={"before": before, "after": {}})

        desired = _desired(module)
        keep = existing[0] if existing and all(
            existing[0].get(k) == v for k, v in desired.items()) else None
        # Everything else logging this resource to this group is stale: one flow log per pair.
        stale = [f["FlowLogId"] for f in existing if f is not keep]
        if stale:
            changed = True
            if not module.check_mode:
                client.delete_flow_logs(FlowLogIds=stale)

        if keep is None:
            changed = True
            result_log = None
            if not module.check_mode:
                create: dict[str, Any] = {
                    "ResourceIds": [p["resource_id"]],
                    "ResourceType": p["resource_type"],
                    "LogDestinationType": "cloud-watch-logs",
                    "LogGroupName": p["log_group_name"],
                    **desired,
                }
                if p["tags"]:
                    create["TagSpecifications"] = [{
                        "ResourceType": "vpc-flow-log",
                        "Tags": ansible_dict_to_boto3_tag_list(p["tags"]),
                    }]
                response = client.create_flow_logs(aws_retry=True, **create)
                if response.get("Unsuccessful"):
                    module.fail_json(msg="AWS refused to create the flow log",
                                     unsuccessful=response["Unsuccessful"])
                result_log = _read_back(module, client)
        elif p["tags"] is not None:
            current = boto3_tag_list_to_ansible_dict(keep.get("Tags", []))
            to_set, to_unset = compare_aws_tags(current, p["tags"], p["purge_tags"])
            if to_set or to_unset:
                changed = True
                if not module.check_mode:
                    if to_unset:
                        client.delete_tags(Resources=[keep["FlowLogId"]],
                                           Tags=[{"Key": k} for k in to_unset])
                    if to_set:
                        client.create_tags(Resources=[keep["FlowLogId"]],
                                           Tags=ansible_dict_to_boto3_tag_list(to_set))
                    result_log = _read_back(module, client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to converge the flow log")

    if not changed:
        after = before
    elif result_log and not module.check_mode:
        after = _state_for_diff(result_log)
    else:  # check mode: what a real run would leave behind
        after = {
            **desired, "LogGroupName": p["log_group_name"], "ResourceId": p["resource_id"],
            "Tags": p["tags"] if p["tags"] is not None else before.get("Tags", {}),
        }
    module.exit_json(
        changed=changed,
        flow_log=camel_dict_to_snake_dict(result_log or {}, ignore_list=["Tags"]),
        diff={"before": before, "after": after},
    )


if __name__ == "__main__":
    main()
