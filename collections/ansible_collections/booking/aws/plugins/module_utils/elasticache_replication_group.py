# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an ElastiCache replication group the way our modules report it.

DescribeReplicationGroups leaves out what AWS keeps per member cluster (engine version, security
groups, subnet group, maintenance window); those are read from the first member cluster.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
)


def describe_group(client: Any, group_id: str) -> dict[str, Any] | None:
    """The replication group as AWS describes it, or None when there is none."""
    try:
        groups = client.describe_replication_groups(
            aws_retry=True, ReplicationGroupId=group_id)["ReplicationGroups"]
    except is_boto3_error_code("ReplicationGroupNotFoundFault"):
        return None
    return groups[0] if groups else None


def describe_member(client: Any, group: dict[str, Any]) -> dict[str, Any] | None:
    """The group's first member cache cluster (None if it cannot be described yet)."""
    members = group.get("MemberClusters") or []
    if not members:
        return None
    try:
        clusters = client.describe_cache_clusters(
            aws_retry=True, CacheClusterId=members[0])["CacheClusters"]
    except is_boto3_error_code("CacheClusterNotFound"):
        return None
    return clusters[0] if clusters else None


def read_tags(client: Any, arn: str) -> dict[str, str]:
    tags = client.list_tags_for_resource(aws_retry=True, ResourceName=arn).get("TagList", [])
    return boto3_tag_list_to_ansible_dict(tags)


def summarize(group: dict[str, Any], member: dict[str, Any] | None,
              tags: dict[str, str] | None) -> dict[str, Any]:
    """One flat, snake_case view of a replication group (the modules' return value)."""
    node_group = (group.get("NodeGroups") or [{}])[0]
    primary = node_group.get("PrimaryEndpoint") or {}
    reader = node_group.get("ReaderEndpoint") or {}
    pending = group.get("PendingModifiedValues") or {}
    summary: dict[str, Any] = {
        "replication_group_id": group["ReplicationGroupId"],
        "arn": group.get("ARN"),
        "status": group.get("Status"),
        "description": group.get("Description"),
        "engine": group.get("Engine"),
        "cache_node_type": group.get("CacheNodeType"),
        "cluster_mode": group.get("ClusterMode", "disabled"),
        "automatic_failover": group.get("AutomaticFailover"),
        "multi_az": group.get("MultiAZ"),
        "snapshot_retention_limit": group.get("SnapshotRetentionLimit"),
        "snapshot_window": group.get("SnapshotWindow"),
        "at_rest_encryption_enabled": group.get("AtRestEncryptionEnabled", False),
        "transit_encryption_enabled": group.get("TransitEncryptionEnabled", False),
        "auth_token_enabled": group.get("AuthTokenEnabled", False),
        "member_clusters": group.get("MemberClusters", []),
        "member_availability_zones": [
            m.get("PreferredAvailabilityZone") for m in node_group.get("NodeGroupMembers", [])],
        "primary_endpoint": {"address": primary.get("Address"), "port": primary.get("Port")},
        "reader_endpoint": {"address": reader.get("Address"), "port": reader.get("Port")},
        "pending_modified_values": pending,
        # Per member cluster on AWS; None when the member cluster cannot be described.
        "engine_version": None,
        "security_group_ids": None,
        "cache_subnet_group_name": None,
        "preferred_maintenance_window": None,
    }
    if member:
        summary.update({
            "engine_version": member.get("EngineVersion"),
            "security_group_ids": sorted(
                sg["SecurityGroupId"] for sg in member.get("SecurityGroups", [])),
            "cache_subnet_group_name": member.get("CacheSubnetGroupName"),
            "preferred_maintenance_window": member.get("PreferredMaintenanceWindow"),
        })
    if tags is not None:
        summary["tags"] = tags
    return summary


def read(client: Any, group_id: str) -> dict[str, Any] | None:
    """describe_group + describe_member + read_tags, summarized; None when absent."""
    group = describe_group(client, group_id)
    if group is None:
        return None
    member = describe_member(client, group)
    tags = read_tags(client, group["ARN"]) if group.get("ARN") else {}
    return summarize(group, member, tags)


__all__ = ["describe_group", "describe_member", "read", "read_tags", "summarize"]
