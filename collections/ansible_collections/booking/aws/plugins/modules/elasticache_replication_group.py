#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage an ElastiCache (Redis OSS / Valkey) replication group (no collection module does)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_group
short_description: Manage an ElastiCache replication group (cluster mode disabled)
description:
  - Creates, modifies and deletes an ElastiCache replication group with cluster mode disabled
    (one shard, a primary and its replicas), with at-rest and in-transit encryption and an AUTH
    token. C(community.aws.elasticache) manages only single cache clusters.
  - Creation does not wait unless I(wait=true); a new group is C(creating) for several minutes.
  - Compared and modified in place when they differ - description, node type, automatic
    failover, Multi-AZ, snapshot retention and window, security groups, engine version and
    maintenance window. Modifications are applied immediately unless I(apply_immediately=false).
  - Set only at creation (a difference is reported as a warning, never applied) - number of
    cache clusters, their AZs, subnet group, port, encryption settings, KMS key, AUTH token.
    The AUTH token is write-only on AWS, so it cannot be compared; it is sent on create only.
  - Security groups, engine version, subnet group and maintenance window are read from the
    group's first member cluster. When that cluster cannot be described they are not compared,
    and the module warns.
  - Supports check mode and diff mode.
options:
  replication_group_id:
    description: The replication group's identifier (lowercase, at most 40 characters).
    type: str
    required: true
    aliases: [name]
  description:
    description: The group's description. Required when I(state=present).
    type: str
  engine:
    description: The cache engine.
    type: str
    choices: [redis, valkey]
    default: redis
  engine_version:
    description:
      - Engine version, e.g. C(7.1). A shorter version matches any longer one it prefixes
        (C(7.1) matches C(7.1.0)).
    type: str
  cache_node_type:
    description: Node type of every node, e.g. C(cache.t3.micro). Required on create.
    type: str
  num_cache_clusters:
    description: Number of nodes (primary plus replicas), set on create.
    type: int
    default: 2
  preferred_cache_cluster_azs:
    description: AZ of each node, primary first; set on create.
    type: list
    elements: str
  cache_subnet_group_name:
    description: Cache subnet group the nodes are placed in; set on create.
    type: str
  security_group_ids:
    description: VPC security groups of the nodes.
    type: list
    elements: str
  port:
    description: Port the nodes accept connections on; set on create.
    type: int
    default: 6379
  automatic_failover_enabled:
    description: Promote a replica automatically when the primary fails.
    type: bool
    default: true
  multi_az_enabled:
    description: Multi-AZ (needs automatic failover).
    type: bool
    default: true
  at_rest_encryption_enabled:
    description: Encrypt data at rest; set on create.
    type: bool
    default: true
  kms_key_id:
    description: KMS key for encryption at rest (default the AWS managed key); set on create.
    type: str
  transit_encryption_enabled:
    description: TLS between clients and nodes; set on create.
    type: bool
    default: true
  auth_token:
    description:
      - Redis AUTH token (16 to 128 printable characters); needs I(transit_encryption_enabled).
      - Sent on create only (it cannot be read back).
    type: str
  snapshot_retention_limit:
    description: Days automatic snapshots are kept (0 turns them off).
    type: int
  snapshot_window:
    description: Daily UTC window of automatic snapshots, e.g. C(03:00-04:00).
    type: str
  preferred_maintenance_window:
    description: Weekly UTC maintenance window, e.g. C(sun:05:00-sun:06:00).
    type: str
  apply_immediately:
    description: Apply modifications now rather than in the next maintenance window.
    type: bool
    default: true
  final_snapshot_identifier:
    description: Name of a final snapshot taken when the group is deleted.
    type: str
  wait:
    description: Wait until the group is C(available) (or gone, with I(state=absent)).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
  state:
    description: Whether the replication group should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Redis 7 primary and replica in two AZs, encrypted, with AUTH
  booking.aws.elasticache_replication_group:
    replication_group_id: booking-api-prod-redis
    description: booking-api-prod cache and rate limits
    engine_version: "7.1"
    cache_node_type: cache.t3.micro
    num_cache_clusters: 2
    preferred_cache_cluster_azs: [us-east-1a, us-east-1b]
    cache_subnet_group_name: booking-api-prod-redis
    security_group_ids: [sg-0123456789abcdef0]
    auth_token: "{{ vault_booking_redis_auth_token }}"
    snapshot_retention_limit: 7
    snapshot_window: "03:00-04:00"
    preferred_maintenance_window: "sun:05:00-sun:06:00"
    tags:
      Project: booking-api
  no_log: true

- name: Delete it
  booking.aws.elasticache_replication_group:
    replication_group_id: booking-api-prod-redis
    state: absent
"""

RETURN = r"""
replication_group:
  description: The group after the module ran (as it would be in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    replication_group_id: {description: Identifier., type: str, returned: success}
    arn: {description: ARN., type: str, returned: success}
    status:
      description: C(creating), C(available), C(modifying), C(deleting)...
      type: str
      returned: success
    primary_endpoint:
      description: Address and port of the primary (read/write) endpoint.
      type: dict
      returned: success
      sample: {address: master.booking-api-prod-redis.abc123.use1.cache.amazonaws.com, port: 6379}
    reader_endpoint:
      description: Address and port of the reader endpoint.
      type: dict
      returned: success
    member_clusters: {description: The node (cache cluster) IDs., type: list, returned: success}
    member_availability_zones: {description: AZ of each node., type: list, returned: success}
    engine_version:
      description: From the first member cluster; null when it cannot be described.
      type: str
      returned: success
    security_group_ids:
      description: From the first member cluster; null when it cannot be described.
      type: list
      returned: success
    tags: {description: The group's tags., type: dict, returned: success}
"""

import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    compare_aws_tags,
)
from ansible_collections.booking.aws.plugins.module_utils.elasticache_replication_group import (
    read,
)

# module option -> (summary key, ModifyReplicationGroup parameter)
_MODIFIABLE = {
    "description": ("description", "ReplicationGroupDescription"),
    "cache_node_type": ("cache_node_type", "CacheNodeType"),
    "automatic_failover_enabled": ("automatic_failover", "AutomaticFailoverEnabled"),
    "multi_az_enabled": ("multi_az", "MultiAZEnabled"),
    "snapshot_retention_limit": ("snapshot_retention_limit", "SnapshotRetentionLimit"),
    "snapshot_window": ("snapshot_window", "SnapshotWindow"),
    "security_group_ids": ("security_group_ids", "SecurityGroupIds"),
    "engine_version": ("engine_version", "EngineVersion"),
    "preferred_maintenance_window": ("preferred_maintenance_window",
                                     "PreferredMaintenanceWindow"),
}
# Read from the member cluster: unknown (None) when it cannot be described.
_FROM_MEMBER = ("security_group_ids", "engine_version", "preferred_maintenance_window")


def _current(option: str, group: dict[str, Any]) -> Any:
    """The group's value of a module option, in the option's own terms."""
    key = _MODIFIABLE[option][0]
    pending = group.get("pending_modified_values") or {}
    if option == "cache_node_type" and pending.get("CacheNodeType"):
        return pending["CacheNodeType"]
    if option == "engine_version" and pending.get("EngineVersion"):
        return pending["EngineVersion"]
    if option == "automatic_failover_enabled":
        status = pending.get("AutomaticFailoverStatus") or group[key]
        return status in ("enabled", "enabling")
    if option == "multi_az_enabled":
        return group[key] == "enabled"
    return group.get(key)


def _same(option: str, current: Any, desired: Any) -> bool:
    if option == "security_group_ids":
        return sorted(current) == sorted(desired)
    if option == "engine_version":
        return current == desired or str(current).startswith(f"{desired}.")
    if option == "preferred_maintenance_window":
        return str(current).lower() == str(desired).lower()
    return current == desired


def _changes(module: AnsibleAWSModule, group: dict[str, Any]) -> dict[str, Any]:
    """{option: desired} for every given option whose current value differs."""
    p = module.params
    unknown = []
    changes = {}
    for option in _MODIFIABLE:
        desired = p[option]
        if desired is None:
            continue
        current = _current(option, group)
        if current is None and option in _FROM_MEMBER:
            unknown.append(option)
            continue
        if not _same(option, current, desired):
            changes[option] = desired
    if unknown:
        module.warn(
            f"Could not describe member cluster(s) {group.get('member_clusters')} of "
            f"{group['replication_group_id']}: {', '.join(unknown)} not compared.")
    return changes


def _warn_create_only(module: AnsibleAWSModule, group: dict[str, Any]) -> None:
    p = module.params
    differs = []
    if len(group["member_clusters"]) != p["num_cache_clusters"]:
        differs.append(f"num_cache_clusters ({len(group['member_clusters'])} nodes exist)")
    for option in ("at_rest_encryption_enabled", "transit_encryption_enabled"):
        if bool(group[option]) != p[option]:
            differs.append(f"{option} (is {group[option]})")
    subnet_group = group.get("cache_subnet_group_name")
    wanted_subnet_group = p["cache_subnet_group_name"]
    if wanted_subnet_group and subnet_group and subnet_group != wanted_subnet_group:
        differs.append(f"cache_subnet_group_name (is {subnet_group})")
    if group["primary_endpoint"].get("port") and group["primary_endpoint"]["port"] != p["port"]:
        differs.append(f"port (is {group['primary_endpoint']['port']})")
    if differs:
        module.warn(
            f"Replication group {group['replication_group_id']} differs in settings that can only "
            f"be set at creation (not changed): {'; '.join(differs)}.")


def _shown(group: dict[str, Any] | None) -> dict[str, Any]:
    """What the diff shows of a group."""
    if not group:
        return {}
    keys = ("description", "engine", "engine_version", "cache_node_type", "member_clusters",
            "automatic_failover", "multi_az", "snapshot_retention_limit", "snapshot_window",
            "preferred_maintenance_window", "security_group_ids", "cache_subnet_group_name",
            "at_rest_encryption_enabled", "transit_encryption_enabled", "auth_token_enabled",
            "tags")
    return {k: group.get(k) for k in keys}


def _predicted(module: AnsibleAWSModule, group: dict[str, Any] | None,
               changes: dict[str, Any], tags: dict[str, str] | None) -> dict[str, Any]:
    """The group as a real run would leave it (for check mode)."""
    p = module.params
    if group is None:
        group = {
            "replication_group_id": p["replication_group_id"], "status": "creating",
            "engine": p["engine"], "member_clusters": [],
            "at_rest_encryption_enabled": p["at_rest_encryption_enabled"],
            "transit_encryption_enabled": p["transit_encryption_enabled"],
            "auth_token_enabled": bool(p["auth_token"]),
            "cache_subnet_group_name": p["cache_subnet_group_name"],
            "primary_endpoint": {}, "reader_endpoint": {}, "tags": {},
        }
        changes = {o: p[o] for o in _MODIFIABLE if p[o] is not None}
    predicted = dict(group)
    for option, desired in changes.items():
        key = _MODIFIABLE[option][0]
        if option in ("automatic_failover_enabled", "multi_az_enabled"):
            desired = "enabled" if desired else "disabled"
        predicted[key] = sorted(desired) if option == "security_group_ids" else desired
    if tags is not None:
        predicted["tags"] = tags
    return predicted


def _wait(module: AnsibleAWSModule, client: Any, waiter: str) -> None:
    delay = 15
    try:
        client.get_waiter(waiter).wait(
            ReplicationGroupId=module.params["replication_group_id"],
            WaiterConfig={"Delay": delay,
                          "MaxAttempts": max(1, module.params["wait_timeout"] // delay)})
    except botocore.exceptions.WaiterError as e:
        module.fail_json_aws(e, msg=f"Timed out waiting for {waiter}")


def _create(module: AnsibleAWSModule, client: Any) -> None:
    p = module.params
    request: dict[str, Any] = {
        "ReplicationGroupId": p["replication_group_id"],
        "ReplicationGroupDescription": p["description"],
        "Engine": p["engine"],
        "CacheNodeType": p["cache_node_type"],
        "NumCacheClusters": p["num_cache_clusters"],
        "Port": p["port"],
        "AutomaticFailoverEnabled": p["automatic_failover_enabled"],
        "MultiAZEnabled": p["multi_az_enabled"],
        "AtRestEncryptionEnabled": p["at_rest_encryption_enabled"],
        "TransitEncryptionEnabled": p["transit_encryption_enabled"],
    }
    optional = {
        "EngineVersion": p["engine_version"],
        "PreferredCacheClusterAZs": p["preferred_cache_cluster_azs"],
        "CacheSubnetGroupName": p["cache_subnet_group_name"],
        "SecurityGroupIds": p["security_group_ids"],
        "KmsKeyId": p["kms_key_id"],
        "AuthToken": p["auth_token"],
        "SnapshotRetentionLimit": p["snapshot_retention_limit"],
        "SnapshotWindow": p["snapshot_window"],
        "PreferredMaintenanceWindow": p["preferred_maintenance_window"],
    }
    request.update({k: v for k, v in optional.items() if v is not None})
    if p["tags"]:
        request["Tags"] = ansible_dict_to_boto3_tag_list(p["tags"])
    client.create_replication_group(aws_retry=True, **request)


def _modify(module: AnsibleAWSModule, client: Any, group: dict[str, Any],
            changes: dict[str, Any]) -> None:
    if group.get("status") != "available":
        # AWS refuses modifications while the group is creating or modifying.
        _wait(module, client, "replication_group_available")
    request = {_MODIFIABLE[o][1]: v for o, v in changes.items()}
    client.modify_replication_group(
        aws_retry=True, ReplicationGroupId=module.params["replication_group_id"],
        ApplyImmediately=module.params["apply_immediately"], **request)


def _retag(client: Any, arn: str, to_set: dict[str, str], to_unset: list[str]) -> None:
    if to_unset:
        client.remove_tags_from_resource(aws_retry=True, ResourceName=arn, TagKeys=to_unset)
    if to_set:
        client.add_tags_to_resource(aws_retry=True, ResourceName=arn,
                                    Tags=ansible_dict_to_boto3_tag_list(to_set))


def _absent(module: AnsibleAWSModule, client: Any, group: dict[str, Any] | None) -> None:
    p = module.params
    before = _shown(group)
    if group is None or group.get("status") == "deleting":
        module.exit_json(changed=False, replication_group=group or {},
                         diff={"before": before, "after": before})
    if not module.check_mode:
        request: dict[str, Any] = {"ReplicationGroupId": p["replication_group_id"],
                                   "RetainPrimaryCluster": False}
        if p["final_snapshot_identifier"]:
            request["FinalSnapshotIdentifier"] = p["final_snapshot_identifier"]
        client.delete_replication_group(aws_retry=True, **request)
        if p["wait"]:
            _wait(module, client, "replication_group_deleted")
    module.exit_json(changed=True, replication_group={}, diff={"before": before, "after": {}})


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "replication_group_id": {"type": "str", "required": True, "aliases": ["name"]},
            "description": {"type": "str"},
            "engine": {"type": "str", "default": "redis", "choices": ["redis", "valkey"]},
            "engine_version": {"type": "str"},
            "cache_node_type": {"type": "str"},
            "num_cache_clusters": {"type": "int", "default": 2},
            "preferred_cache_cluster_azs": {"type": "list", "elements": "str"},
            "cache_subnet_group_name": {"type": "str"},
            "security_group_ids": {"type": "list", "elements": "str"},
            "port": {"type": "int", "default": 6379},
            "automatic_failover_enabled": {"type": "bool", "default": True},
            "multi_az_enabled": {"type": "bool", "default": True},
            "at_rest_encryption_enabled": {"type": "bool", "default": True},
            "kms_key_id": {"type": "str"},
            "transit_encryption_enabled": {"type": "bool", "default": True},
            "auth_token": {"type": "str", "no_log": True},
            "snapshot_retention_limit": {"type": "int"},
            "snapshot_window": {"type": "str"},
            "preferred_maintenance_window": {"type": "str"},
            "apply_immediately": {"type": "bool", "default": True},
            "final_snapshot_identifier": {"type": "str"},
            "wait": {"type": "bool", "default": False},
            "wait_timeout": {"type": "int", "default": 1800},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[("state", "present", ["description", "cache_node_type"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "present":
        if p["multi_az_enabled"] and not p["automatic_failover_enabled"]:
            module.fail_json(msg="multi_az_enabled needs automatic_failover_enabled")
        if p["auth_token"] and not p["transit_encryption_enabled"]:
            module.fail_json(msg="auth_token needs transit_encryption_enabled")
    client = module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())

    try:
        group = read(client, p["replication_group_id"])
        if p["state"] == "absent":
            _absent(module, client, group)

        if group is not None and group.get("status") == "deleting":
            module.fail_json(msg=f"Replication group {p['replication_group_id']} is being "
                                 "deleted; run again when it is gone.")
        before = _shown(group)
        if group is None:
            changes: dict[str, Any] = {}
            tags_to_set, tags_to_unset = {}, []
            new_tags = p["tags"] or {}
            changed = True
            if not module.check_mode:
                _create(module, client)
        else:
            _warn_create_only(module, group)
            changes = _changes(module, group)
            new_tags = None
            tags_to_set, tags_to_unset = {}, []
            if p["tags"] is not None:
                tags_to_set, tags_to_unset = compare_aws_tags(
                    group.get("tags", {}), p["tags"], p["purge_tags"])
                if tags_to_set or tags_to_unset:
                    new_tags = p["tags"] if p["purge_tags"] else {**group.get("tags", {}),
                                                                  **p["tags"]}
            changed = bool(changes or tags_to_set or tags_to_unset)
            if changed and not module.check_mode:
                if changes:
                    _modify(module, client, group, changes)
                _retag(client, group["arn"], tags_to_set, tags_to_unset)

        if module.check_mode or not changed:
            after = _predicted(module, group, changes, new_tags) if changed else group
        else:
            if p["wait"]:
                _wait(module, client, "replication_group_available")
            after = read(client, p["replication_group_id"])
            if group is None and after is None:  # eventually consistent right after create
                time.sleep(5)
                after = read(client, p["replication_group_id"])
        settling = group is not None and group.get("status") != "available"
        if not changed and p["wait"] and not module.check_mode and settling:
            _wait(module, client, "replication_group_available")
            after = read(client, p["replication_group_id"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge replication group "
                                    f"{p['replication_group_id']}")

    module.exit_json(changed=changed, replication_group=after or {},
                     diff={"before": before, "after": _shown(after)})


if __name__ == "__main__":
    main()
