#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container Insights and tags of an existing ECS cluster (not in community.aws.ecs_cluster)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_cluster_settings
short_description: Manage the Container Insights setting and the tags of an existing ECS cluster
description:
  - Sets the C(containerInsights) cluster setting of an ECS cluster (C(disabled), C(enabled) or
    C(enhanced)) and its tags. C(community.aws.ecs_cluster) creates the cluster and its capacity
    providers but manages neither.
  - The setting is changed with the C(UpdateCluster) API (its C(settings) field); only
    C(containerInsights) is sent, so any other cluster setting is left alone.
  - The cluster must exist and be C(ACTIVE). In check mode a missing cluster is reported as a
    change (an earlier task of the same run would have created it) instead of a failure.
  - Supports check mode and diff mode.
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  container_insights:
    description:
      - The C(containerInsights) setting. C(enabled) is CloudWatch Container Insights (cluster-
        and service-level metrics); C(enhanced) adds task- and container-level metrics, priced
        by observations; C(disabled) turns both off.
      - When omitted the setting is left as it is.
    type: str
    choices: [disabled, enabled, enhanced]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Turn on Container Insights and tag the cluster
  booking.aws.ecs_cluster_settings:
    cluster: booking-api-prod-cluster
    container_insights: enabled
    tags:
      Project: booking-api
      Environment: prod
    purge_tags: true
"""

RETURN = r"""
cluster:
  description: The cluster after the change (snake_case keys; tags as a dict); empty when it
    does not exist (check mode only).
  returned: always
  type: dict
  sample:
    cluster_name: booking-api-prod-cluster
    cluster_arn: arn:aws:ecs:us-east-1:123456789012:cluster/booking-api-prod-cluster
    status: ACTIVE
    settings: [{name: containerInsights, value: enabled}]
    tags: {Project: booking-api}
container_insights:
  description: The C(containerInsights) value after the change (null if AWS reports none).
  returned: always
  type: str
  sample: enabled
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.ecs_tags import (
    apply_tag_changes,
    ecs_tags,
    tag_changes,
)

SETTING = "containerInsights"


def _describe(client: Any, cluster: str) -> dict[str, Any] | None:
    """The ACTIVE cluster with its settings and tags, or None."""
    response = client.describe_clusters(
        aws_retry=True, clusters=[cluster], include=["SETTINGS", "TAGS"])
    active = [c for c in response.get("clusters", []) if c.get("status") == "ACTIVE"]
    return active[0] if active else None


def _insights(cluster: dict[str, Any]) -> str | None:
    for setting in cluster.get("settings") or []:
        if setting.get("name") == SETTING:
            return setting.get("value")
    return None


def _tags(cluster: dict[str, Any]) -> dict[str, str]:
    return ecs_tags(cluster.get("tags"))


def _shown(cluster: dict[str, Any] | None) -> dict[str, Any]:
    if not cluster:
        return {}
    return {"container_insights": _insights(cluster), "tags": _tags(cluster)}


def _result(cluster: dict[str, Any] | None) -> dict[str, Any]:
    if not cluster:
        return {}
    out = camel_dict_to_snake_dict({k: v for k, v in cluster.items() if k != "tags"})
    out["tags"] = _tags(cluster)
    return out


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "container_insights": {
                "type": "str", "choices": ["disabled", "enabled", "enhanced"]},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())

    try:
        existing = _describe(client, p["cluster"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to describe ECS cluster {p['cluster']}")

    wanted = {
        "container_insights": p["container_insights"],
        "tags": p["tags"],
    }

    if existing is None:
        if not module.check_mode:
            module.fail_json(msg=f"ECS cluster {p['cluster']} does not exist or is not ACTIVE;"
                                 " create it first (community.aws.ecs_cluster)")
        # Check mode: the cluster would have been created by an earlier task of this run.
        module.warn(f"ECS cluster {p['cluster']} does not exist (yet): reporting the settings"
                    " it would get")
        after = {k: v for k, v in wanted.items() if v is not None}
        module.exit_json(changed=True, cluster={}, container_insights=p["container_insights"],
                         diff={"before": {}, "after": after})

    before = _shown(existing)
    arn = existing["clusterArn"]
    insights_change = (p["container_insights"] is not None
                       and _insights(existing) != p["container_insights"])
    to_set, to_unset = tag_changes(_tags(existing), p["tags"], p["purge_tags"])
    changed = bool(insights_change or to_set or to_unset)

    result_cluster = existing
    if changed and not module.check_mode:
        try:
            if insights_change:
                client.update_cluster(
                    aws_retry=True, cluster=arn,
                    settings=[{"name": SETTING, "value": p["container_insights"]}])
            apply_tag_changes(client, arn, to_set, to_unset)
            result_cluster = _describe(client, arn) or existing
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to update ECS cluster {p['cluster']}")

    if not changed:
        after = before
    elif not module.check_mode:
        after = _shown(result_cluster)
    else:  # check mode: what a real run would leave behind
        tags_after = dict(before["tags"])
        for key in to_unset:
            tags_after.pop(key, None)
        tags_after.update(to_set)
        after = {
            "container_insights": p["container_insights"] if insights_change
            else before["container_insights"],
            "tags": tags_after,
        }

    module.exit_json(
        changed=changed,
        cluster=_result(result_cluster),
        container_insights=after.get("container_insights"),
        diff={"before": before, "after": after},
    )


if __name__ == "__main__":
    main()
