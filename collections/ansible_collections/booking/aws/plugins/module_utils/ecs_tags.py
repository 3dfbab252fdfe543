# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tags of ECS resources (clusters, services, task definitions): one TagResource/UntagResource
convention - lower-case ``key``/``value`` lists - for every module of ours that manages them."""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)


def ecs_tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    """ECS's tag list as a dict."""
    return boto3_tag_list_to_ansible_dict(tag_list or [], "key", "value")


def tag_changes(current: dict[str, str], wanted: dict[str, str] | None,
                purge: bool) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove); nothing when `wanted` is None (tags not managed)."""
    if wanted is None:
        return {}, []
    return compare_aws_tags(current, wanted, purge)


def apply_tag_changes(client: Any, arn: str, to_set: dict[str, str], to_unset: list[str]) -> None:
    if to_unset:
        client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_unset)
    if to_set:
        client.tag_resource(aws_retry=True, resourceArn=arn,
                            tags=ansible_dict_to_boto3_tag_list(to_set, "key", "value"))
