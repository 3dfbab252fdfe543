#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a CloudWatch Logs log group whose check mode really changes nothing."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_log_group
short_description: Manage a CloudWatch Logs log group (retention, KMS key, tags)
description:
  - Creates, updates or deletes one log group.
  - Exists because C(amazon.aws.cloudwatchlogs_log_group) 11.4.0 puts a changed retention
    policy even in check mode (it calls PutRetentionPolicy without looking at check mode), so a
    dry run repairs drift instead of reporting it.
  - Supports check mode and diff mode.
options:
  name:
    description: Name of the log group.
    type: str
    required: true
    aliases: [log_group_name]
  retention_days:
    description:
      - Days to keep events. Omit to leave the retention as it is; C(0) means never expire.
    type: int
  kms_key_id:
    description: ARN of the KMS key that encrypts the group. Only applied when creating.
    type: str
  state:
    description: Whether the log group should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Application logs, kept 30 days
  booking.aws.cloudwatch_log_group:
    name: /ecs/booking-api-prod
    retention_days: 30
    tags:
      Project: booking-api
"""

RETURN = r"""
log_group:
  description: The log group as AWS describes it (snake_case keys); empty when absent.
  returned: always
  type: dict
  sample:
    log_group_name: /ecs/booking-api-prod
    retention_in_days: 30
    arn: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/booking-api-prod
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# AWS accepts only these retention periods.
_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                   1827, 2192, 2557, 2922, 3288, 3653]


def _describe(client: Any, name: str) -> dict[str, Any] | None:
    paginator = client.get_paginator("describe_log_groups")
    for page in paginator.paginate(logGroupNamePrefix=name):
        for group in page["logGroups"]:
            if group["logGroupName"] == name:
                return group
    return None


def _tags(client: Any, group: dict[str, Any]) -> dict[str, str]:
    arn = group["arn"].removesuffix(":*")
    return client.list_tags_for_resource(resourceArn=arn, aws_retry=True).get("tags", {})


def _shown(group: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    if group is None:
        return {}
    return {"name": group["logGroupName"], "retention_days": group.get("retentionInDays", 0),
            "kms_key_id": group.get("kmsKeyId"), "tags": tags}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True, "aliases": ["log_group_name"]},
            "retention_days": {"type": "int", "choices": _RETENTION_DAYS},
            "kms_key_id": {"type": "str"},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff())
    changed = False
    try:
        group = _describe(client, p["name"])
        current_tags = _tags(client, group) if group else {}
        before = _shown(group, current_tags)

        if p["state"] == "absent":
            if group:
                changed = True
                if not module.check_mode:
                    client.delete_log_group(logGroupName=p["name"], aws_retry=True)
            module.exit_json(changed=changed, log_group={}, diff={"before": before, "after": {}})

        wanted_retention = p["retention_days"]
        if group is None:
            changed = True
            after = {"name": p["name"], "retention_days": wanted_retention or 0,
                     "kms_key_id": p["kms_key_id"], "tags": p["tags"] or {}}
            if not module.check_mode:
                create: dict[str, Any] = {"logGroupName": p["name"]}
                if p["kms_key_id"]:
                    create["kmsKeyId"] = p["kms_key_id"]
                if p["tags"]:
                    create["tags"] = p["tags"]
                client.create_log_group(aws_retry=True, **create)
                if wanted_retention:
                    client.put_retention_policy(logGroupName=p["name"],
                                                retentionInDays=wanted_retention, aws_retry=True)
        else:
            after = dict(before)
            current_retention = group.get("retentionInDays", 0)
            if wanted_retention is not None and wanted_retention != current_retention:
                changed = True
                after["retention_days"] = wanted_retention
                if not module.check_mode:
                    if wanted_retention == 0:
                        client.delete_retention_policy(logGroupName=p["name"], aws_retry=True)
                    else:
                        client.put_retention_policy(logGroupName=p["name"],
                                                    retentionInDays=wanted_retention,
                                                    aws_retry=True)
            if p["tags"] is not None:
                to_set, to_unset = compare_aws_tags(current_tags, p["tags"], p["purge_tags"])
                if to_set or to_unset:
                    changed = True
                    after["tags"] = {**{k: v for k, v in current_tags.items()
                                        if k not in to_unset}, **to_set}
                    if not module.check_mode:
                        arn = group["arn"].removesuffix(":*")
                        if to_unset:
                            client.untag_resource(resourceArn=arn, tagKeys=to_unset,
                                                  aws_retry=True)
                        if to_set:
                            client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)

        result = _describe(client, p["name"]) if not module.check_mode else group
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge log group {p['name']}")

    module.exit_json(
        changed=changed,
        log_group=camel_dict_to_snake_dict(result or {}),
        diff={"before": before, "after": after},
    )


if __name__ == "__main__":
    main()
