#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore an RDS DB instance to a point in time or from a snapshot, every setting given."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_instance_restore
short_description: Restore an RDS instance to a point in time or from a snapshot, all settings given
description:
  - Creates the DB instance I(db_instance_identifier) with C(RestoreDBInstanceToPointInTime) (from
    I(source_db_instance_identifier), at I(restore_time) or the latest restorable time) or with
    C(RestoreDBInstanceFromDBSnapshot) (from I(db_snapshot_identifier)).
  - Every setting is passed explicitly. AWS gives a restored instance the B(default) DB subnet
    group, security group and parameter group, and none of the source's tags, unless they are
    given (AWS API reference of both calls).
  - A point in time is checked against the source's restorable window before any call that
    changes something - from C(DescribeDBInstanceAutomatedBackups)'
    C(RestoreWindow.EarliestTime) (the source's creation time when AWS gives none) to its
    C(LatestRestorableTime) - and refused with one message naming the window.
  - The settings the restore calls cannot take (the maintenance window, Performance Insights; the
    storage autoscaling ceiling of a snapshot restore) are applied once the instance is available
    with C(ModifyDBInstance), immediately. That needs I(wait).
  - An instance I(db_instance_identifier) that exists already is not restored again (a re-run
    after a failed wait) - it is awaited and the settings above are applied where they differ.
  - C(amazon.aws.rds_instance) 11.x cannot do this - with C(creation_source=instance) it hands
    C(Tags) to boto3 as a dict (C(Parameter validation failed)) and silently drops
    C(preferred_maintenance_window) on both restore paths.
  - Supports check mode (the window is still checked).
options:
  db_instance_identifier:
    description: The new instance.
    type: str
    required: true
  source_db_instance_identifier:
    description: The instance to restore to a point in time (not with I(db_snapshot_identifier)).
    type: str
  restore_time:
    description:
      - The point in time, ISO 8601 (C(2026-12-07T09:30:00Z)); without an offset it is UTC.
      - Empty or omitted - the source's latest restorable time.
    type: str
    default: ""
  db_snapshot_identifier:
    description: The snapshot to restore from. Exclusive with I(source_db_instance_identifier).
    type: str
  db_instance_class:
    description: Instance class.
    type: str
    required: true
  db_subnet_group_name:
    description: DB subnet group.
    type: str
    required: true
  vpc_security_group_ids:
    description: VPC security groups.
    type: list
    elements: str
    required: true
  db_parameter_group_name:
    description: DB parameter group (the source's; AWS uses the engine's default otherwise).
    type: str
  option_group_name:
    description: Option group.
    type: str
  storage_type:
    description: Storage type.
    type: str
  allocated_storage:
    description: Storage in GiB (at least the source's).
    type: int
  max_allocated_storage:
    description: Storage autoscaling ceiling in GiB.
    type: int
  iops:
    description: Provisioned IOPS (io1, io2, gp3).
    type: int
  multi_az:
    description: Keep a standby in a second AZ.
    type: bool
    default: false
  publicly_accessible:
    description: Reachable from outside the VPC.
    type: bool
    default: false
  port:
    description: Port.
    type: int
  auto_minor_version_upgrade:
    description: Let AWS apply minor upgrades in the maintenance window.
    type: bool
    default: true
  backup_retention_period:
    description: Days automated backups are kept.
    type: int
  preferred_backup_window:
    description: Daily UTC backup window.
    type: str
  preferred_maintenance_window:
    description: Weekly UTC maintenance window (applied after the restore).
    type: str
  deletion_protection:
    description: Refuse deletion.
    type: bool
    default: false
  copy_tags_to_snapshot:
    description: Copy the instance's tags to its snapshots.
    type: bool
    default: false
  enable_cloudwatch_logs_exports:
    description: Log types exported to CloudWatch Logs.
    type: list
    elements: str
    default: []
  enable_performance_insights:
    description: Performance Insights (applied after the restore).
    type: bool
    default: false
  performance_insights_retention_period:
    description: Performance Insights retention in days.
    type: int
  tags:
    description: Tags of the new instance.
    type: dict
    default: {}
  wait:
    description: Wait until the instance is available, then apply what the restore cannot take.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each of the restore and the modification.
    type: int
    default: 2400
  poll_interval:
    description: Seconds between two looks at the instance.
    type: int
    default: 20
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore the database as it was at 09:30 UTC into a new instance
  booking.aws.rds_instance_restore:
    db_instance_identifier: booking-api-prod-postgres-restore-20261207094500
    source_db_instance_identifier: booking-api-prod-postgres
    restore_time: "2026-12-07T09:30:00Z"
    db_instance_class: db.t3.medium
    db_subnet_group_name: booking-api-prod-database
    vpc_security_group_ids: [sg-0123456789abcdef0]
    db_parameter_group_name: default.postgres15
    storage_type: gp2
    allocated_storage: 20
    max_allocated_storage: 100
    multi_az: true
    backup_retention_period: 7
    preferred_backup_window: "03:00-03:30"
    preferred_maintenance_window: "sun:04:00-sun:04:30"
    deletion_protection: true
    copy_tags_to_snapshot: true
    enable_cloudwatch_logs_exports: [postgresql]
    tags: {Project: booking-api, Environment: prod}
"""

RETURN = r"""
instance:
  description: The new instance as DescribeDBInstances gives it (snake_case keys, C(tags) a dict).
  returned: always
  type: dict
restored_to:
  description: The point in time restored to (ISO 8601, UTC), or the snapshot's identifier.
  returned: always
  type: str
  sample: "2026-12-07T09:30:00+00:00"
window:
  description: The source's restorable window (ISO 8601, UTC) for a point-in-time restore.
  returned: when source_db_instance_identifier is given
  type: dict
  sample: {earliest: "2026-12-01T03:12:00+00:00", latest: "2026-12-07T09:35:00+00:00"}
"""

import time
from datetime import UTC, datetime
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.booking.aws.plugins.module_utils.rds_instances import (
    describe_instance,
    instance_result,
)

# Module option -> API parameter, for what both restore calls take.
_RESTORE_PARAMETERS = {
    "db_instance_class": "DBInstanceClass",
    "db_subnet_group_name": "DBSubnetGroupName",
    "vpc_security_group_ids": "VpcSecurityGroupIds",
    "db_parameter_group_name": "DBParameterGroupName",
    "option_group_name": "OptionGroupName",
    "storage_type": "StorageType",
    "allocated_storage": "AllocatedStorage",
    "iops": "Iops",
    "multi_az": "MultiAZ",
    "publicly_accessible": "PubliclyAccessible",
    "port": "Port",
    "auto_minor_version_upgrade": "AutoMinorVersionUpgrade",
    "backup_retention_period": "BackupRetentionPeriod",
    "preferred_backup_window": "PreferredBackupWindow",
    "deletion_protection": "DeletionProtection",
    "copy_tags_to_snapshot": "CopyTagsToSnapshot",
    "enable_cloudwatch_logs_exports": "EnableCloudwatchLogsExports",
}


def parse_time(text: str) -> datetime:
    """An ISO 8601 date and time as an aware UTC datetime (naive means UTC, as RestoreTime)."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_time(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)



def restore_window(client: Any, source: dict[str, Any]) -> tuple[datetime, datetime | None]:
    """(earliest, latest) restorable times of `source`: the automated backup's RestoreWindow
    where AWS gives one, else the instance's creation time; its LatestRestorableTime."""
    earliest = None
    try:
        backups = client.describe_db_instance_automated_backups(
            aws_retry=True, DBInstanceIdentifier=source["DBInstanceIdentifier"]
        )["DBInstanceAutomatedBackups"]
    except is_boto3_error_code("DBInstanceAutomatedBackupNotFound"):
        backups = []
    # The instance's own backups: not a retained one of a deleted instance that had this name.
    backups = [b for b in backups
               if b.get("DBInstanceIdentifier", source["DBInstanceIdentifier"])
               == source["DBInstanceIdentifier"] and b.get("Status") != "retained"
               and b.get("DbiResourceId", source.get("DbiResourceId"))
               == source.get("DbiResourceId")]
    for backup in backups:
        start = _utc((backup.get("RestoreWindow") or {}).get("EarliestTime"))
        if start is not None and (earliest is None or start < earliest):
            earliest = start
    if earliest is None:
        earliest = _utc(source.get("InstanceCreateTime"))
    return earliest, _utc(source.get("LatestRestorableTime"))


def _wait_available(module: AnsibleAWSModule, client: Any, identifier: str) -> dict[str, Any]:
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        instance = describe_instance(client, identifier)
        if instance and instance["DBInstanceStatus"] == "available":
            return instance
        if time.monotonic() > deadline:
            status = instance["DBInstanceStatus"] if instance else "not found"
            module.fail_json(msg=f"{identifier} is still {status} after "
                                 f"{module.params['wait_timeout']} s")
        time.sleep(module.params["poll_interval"])


def modifications(instance: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    """ModifyDBInstance parameters for the settings the restore calls cannot take, where the
    instance differs from what was asked."""
    wanted: dict[str, Any] = {}
    if p["preferred_maintenance_window"] and (
            instance.get("PreferredMaintenanceWindow", "").lower()
            != p["preferred_maintenance_window"].lower()):
        wanted["PreferredMaintenanceWindow"] = p["preferred_maintenance_window"]
    if p["max_allocated_storage"] is not None and (
            instance.get("MaxAllocatedStorage") != p["max_allocated_storage"]):
        wanted["MaxAllocatedStorage"] = p["max_allocated_storage"]
    if bool(instance.get("PerformanceInsightsEnabled")) != p["enable_performance_insights"]:
        wanted["EnablePerformanceInsights"] = p["enable_performance_insights"]
    if p["enable_performance_insights"] and p["performance_insights_retention_period"] and (
            instance.get("PerformanceInsightsRetentionPeriod")
            != p["performance_insights_retention_period"]):
        wanted["EnablePerformanceInsights"] = True
        wanted["PerformanceInsightsRetentionPeriod"] = p["performance_insights_retention_period"]
    return wanted



def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "source_db_instance_identifier": {"type": "str"},
            "restore_time": {"type": "str", "default": ""},
            "db_snapshot_identifier": {"type": "str"},
            "db_instance_class": {"type": "str", "required": True},
            "db_subnet_group_name": {"type": "str", "required": True},
            "vpc_security_group_ids": {"type": "list", "elements": "str", "required": True},
            "db_parameter_group_name": {"type": "str"},
            "option_group_name": {"type": "str"},
            "storage_type": {"type": "str"},
            "allocated_storage": {"type": "int"},
            "max_allocated_storage": {"type": "int"},
            "iops": {"type": "int"},
            "multi_az": {"type": "bool", "default": False},
            "publicly_accessible": {"type": "bool", "default": False},
            "port": {"type": "int"},
            "auto_minor_version_upgrade": {"type": "bool", "default": True},
            "backup_retention_period": {"type": "int"},
            "preferred_backup_window": {"type": "str"},
            "preferred_maintenance_window": {"type": "str"},
            "deletion_protection": {"type": "bool", "default": False},
            "copy_tags_to_snapshot": {"type": "bool", "default": False},
            "enable_cloudwatch_logs_exports": {"type": "list", "elements": "str", "default": []},
            "enable_performance_insights": {"type": "bool", "default": False},
            "performance_insights_retention_period": {"type": "int"},
            "tags": {"type": "dict", "default": {}},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 2400},
            "poll_interval": {"type": "int", "default": 20},
        },
        required_one_of=[["source_db_instance_identifier", "db_snapshot_identifier"]],
        mutually_exclusive=[["source_db_instance_identifier", "db_snapshot_identifier"]],
        supports_check_mode=True,
    )
    p = module.params
    target = p["db_instance_identifier"]
    point_in_time = p["source_db_instance_identifier"] is not None

    # The inputs first, before any call.
    if p["restore_time"] and not point_in_time:
        module.fail_json(msg="restore_time is for a point-in-time restore "
                             "(source_db_instance_identifier), not a snapshot's")
    wanted_time = None
    if point_in_time and p["restore_time"]:
        try:
            wanted_time = parse_time(p["restore_time"])
        except ValueError:
            module.fail_json(msg=f"restore_time {p['restore_time']!r} is not an ISO 8601 date and "
                                 "time (e.g. 2026-12-07T09:30:00Z): nothing was changed")

    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    result: dict[str, Any] = {}
    changed = False
    try:
        instance = describe_instance(client, target)
        if instance is None:
            parameters: dict[str, Any] = {
                api: p[option] for option, api in _RESTORE_PARAMETERS.items()
                if p[option] is not None and p[option] != ""}
            if p["tags"]:
                parameters["Tags"] = ansible_dict_to_boto3_tag_list(p["tags"])
            if point_in_time:
                source = describe_instance(client, p["source_db_instance_identifier"])
                if source is None:
                    module.fail_json(msg=f"No DB instance {p['source_db_instance_identifier']} to "
                                         "restore from: nothing was changed")
                earliest, latest = restore_window(client, source)
                result["window"] = {"earliest": earliest.isoformat() if earliest else None,
                                    "latest": latest.isoformat() if latest else None}
                if latest is None:
                    module.fail_json(msg=f"{source['DBInstanceIdentifier']} has no latest "
                                         "restorable time (automated backups off, or still "
                                         "creating): nothing was changed", **result)
                if wanted_time is not None and not earliest <= wanted_time <= latest:
                    module.fail_json(
                        msg=f"restore_time {wanted_time.isoformat()} is outside the restorable "
                            f"window of {source['DBInstanceIdentifier']} "
                            f"({earliest.isoformat()} to {latest.isoformat()}): nothing was "
                            "changed", **result)
                result["restored_to"] = (wanted_time or latest).isoformat()
                parameters.update(SourceDBInstanceIdentifier=source["DBInstanceIdentifier"],
                                  TargetDBInstanceIdentifier=target)
                if wanted_time is not None:
                    parameters["RestoreTime"] = wanted_time
                else:
                    parameters["UseLatestRestorableTime"] = True
                if p["max_allocated_storage"] is not None:
                    parameters["MaxAllocatedStorage"] = p["max_allocated_storage"]
            else:
                result["restored_to"] = p["db_snapshot_identifier"]
                parameters.update(DBSnapshotIdentifier=p["db_snapshot_identifier"],
                                  DBInstanceIdentifier=target)
            changed = True
            if module.check_mode:
                module.exit_json(changed=True, instance={}, **result)
            if point_in_time:
                instance = client.restore_db_instance_to_point_in_time(**parameters)["DBInstance"]
            else:
                instance = client.restore_db_instance_from_db_snapshot(**parameters)["DBInstance"]
        else:
            result["restored_to"] = p["restore_time"] or p["db_snapshot_identifier"] or ""

        if p["wait"] and not module.check_mode:
            instance = _wait_available(module, client, target)
            modify = modifications(instance, p)
            if modify:
                changed = True
                client.modify_db_instance(aws_retry=True, DBInstanceIdentifier=target,
                                          ApplyImmediately=True, **modify)
                # AWS answers "modifying" a moment after the call, not at once.
                time.sleep(min(p["poll_interval"], 5))
                instance = _wait_available(module, client, target)
        elif module.check_mode and modifications(instance, p):
            changed = True
        instance = describe_instance(client, target) or instance
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to restore DB instance {target}")

    module.exit_json(changed=changed, instance=instance_result(instance), **result)


if __name__ == "__main__":
    main()
