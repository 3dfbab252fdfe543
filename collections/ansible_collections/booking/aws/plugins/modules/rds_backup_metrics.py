#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How far behind a DB instance's backups are, published as CloudWatch metrics."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_backup_metrics
short_description: Publish how far behind a DB instance's backups are (RPO) as CloudWatch metrics
description:
  - RDS publishes no metric for its backups. C(LatestRestorableTime) (how much data a
    point-in-time restore would lose now) and the newest snapshot are only in the API. This
    module reads both and publishes them as two metrics in I(namespace) with the dimension
    C(DBInstanceIdentifier), for the monitoring role's alarms
    (C(<db>-restore-lag), C(<db>-snapshot-age)).
  - C(RestoreLagSeconds) is now minus C(LatestRestorableTime). RDS uploads transaction logs about
    every 5 minutes, so it stays under about 300 s while backups work; an instance without
    automated backups (retention 0) or whose log uploads stopped grows without bound (counted from
    the instance's creation when it has no latest restorable time at all).
  - C(SnapshotAgeSeconds) is now minus the creation time of the instance's newest available
    snapshot, automated or manual (RDS takes an automated one a day in the backup window).
  - Publishing writes data points, so it reports C(changed); in check mode it reads and reports
    only.
options:
  db_instance_identifier:
    description: The DB instance.
    type: str
    required: true
  namespace:
    description: The CloudWatch namespace of the two metrics.
    type: str
    required: true
  publish:
    description: Publish the metrics (false reads and reports only).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the backup lag of the environment's database
  booking.aws.rds_backup_metrics:
    db_instance_identifier: booking-api-prod-postgres
    namespace: BookingApi
"""

RETURN = r"""
restore_lag_seconds:
  description: Seconds since the latest restorable time (the data a restore would lose now).
  returned: always
  type: int
latest_restorable_time:
  description: The instance's latest restorable time (ISO 8601), or null without one.
  returned: always
  type: str
snapshot_age_seconds:
  description: Seconds since the newest available snapshot was created (or the instance, if none).
  returned: always
  type: int
newest_snapshot:
  description: The newest available snapshot's identifier, or null.
  returned: always
  type: str
"""

from datetime import UTC, datetime
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.backup_metrics import (
    RESTORE_LAG_METRIC,
    SNAPSHOT_AGE_METRIC,
)


@AWSRetry.jittered_backoff()
def _instance(client: Any, identifier: str) -> dict[str, Any]:
    return client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


@AWSRetry.jittered_backoff()
def _snapshots(client: Any, identifier: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("describe_db_snapshots").paginate(
        DBInstanceIdentifier=identifier)
    return pages.build_full_result().get("DBSnapshots", [])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def backup_figures(instance: dict[str, Any], snapshots: list[dict[str, Any]],
                   now: datetime) -> dict[str, Any]:
    """The two figures for `instance` at `now` (pure: tests/test_rds_backup_metrics.py)."""
    created = _aware(instance["InstanceCreateTime"])
    latest = instance.get("LatestRestorableTime")
    if not int(instance.get("BackupRetentionPeriod") or 0):
        latest = None  # no automated backups: no point-in-time restore at all
    lag_from = _aware(latest) if latest else created
    available = [s for s in snapshots
                 if s.get("Status") == "available" and s.get("SnapshotCreateTime")]
    newest = max(available, key=lambda s: _aware(s["SnapshotCreateTime"]), default=None)
    age_from = _aware(newest["SnapshotCreateTime"]) if newest else created
    return {
        "restore_lag_seconds": max(0, int((now - lag_from).total_seconds())),
        "latest_restorable_time": _aware(latest).isoformat() if latest else None,
        "snapshot_age_seconds": max(0, int((now - age_from).total_seconds())),
        "newest_snapshot": newest["DBSnapshotIdentifier"] if newest else None,
    }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "publish": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    identifier = module.params["db_instance_identifier"]
    rds = module.client("rds")
    try:
        instance = _instance(rds, identifier)
        snapshots = _snapshots(rds, identifier)
    except rds.exceptions.DBInstanceNotFoundFault:
        module.fail_json(msg=f"No DB instance {identifier}: nothing to measure.")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read the backups of {identifier}")
    now = datetime.now(UTC)
    figures = backup_figures(instance, snapshots, now)
    publish = module.params["publish"]
    if publish and not module.check_mode:
        dimensions = [{"Name": "DBInstanceIdentifier", "Value": identifier}]
        try:
            module.client("cloudwatch").put_metric_data(
                Namespace=module.params["namespace"],
                MetricData=[
                    {"MetricName": RESTORE_LAG_METRIC, "Dimensions": dimensions, "Timestamp": now,
                     "Value": figures["restore_lag_seconds"], "Unit": "Seconds"},
                    {"MetricName": SNAPSHOT_AGE_METRIC, "Dimensions": dimensions, "Timestamp": now,
                     "Value": figures["snapshot_age_seconds"], "Unit": "Seconds"},
                ])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to publish the backup metrics of {identifier}")
    module.exit_json(changed=publish, **figures)


if __name__ == "__main__":
    main()
