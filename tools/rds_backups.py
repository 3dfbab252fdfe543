"""RDS point-in-time restore as AWS bounds it, on both data planes (issue 19).

moto 5.2 answers ``LatestRestorableTime`` with the current time and restores an instance to any
``RestoreTime`` at all, even one before the instance existed or in the future. AWS:

* ``LatestRestorableTime`` trails the present: RDS uploads the transaction logs to S3 about every
  5 minutes, and the latest restorable time is the last upload (RDS User Guide, "Restoring a DB
  instance to a specified time": "typically within the last five minutes"). Here it advances in
  steps of ``BOOKING_EMULATOR_RDS_LOG_UPLOAD_SECONDS`` (default 300) from the instance's creation;
  on the real data plane it is the time of the server's last archived log upload
  (tools/rds_postgres.py).
* RestoreDBInstanceToPointInTime takes a ``RestoreTime`` between the earliest restorable time
  (the backup retention period back from now, and never before the instance's first backup) and
  the latest restorable time, else ``InvalidRestoreFault`` (API reference of the action: "Must be
  before the latest restorable time for the DB instance"); ``RestoreTime`` and
  ``UseLatestRestorableTime`` together: ``InvalidParameterCombination``; an instance whose
  ``BackupRetentionPeriod`` is 0 has no point-in-time restore: ``PointInTimeRestoreNotEnabled``
  (the action's errors: PointInTimeRestoreNotEnabledFault, "SourceDBInstanceIdentifier refers to
  a DB instance with BackupRetentionPeriod equal to 0").
* DescribeDBInstanceAutomatedBackups reports each instance's ``RestoreWindow`` (EarliestTime,
  LatestTime), which moto leaves out: a restore tool reads the window there.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import rds_postgres  # beside this file


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def latest_restorable(instance: Any) -> datetime:
    """The last log upload: a server's own on the real data plane, else a step of the upload
    interval since the instance was created."""
    cluster = rds_postgres.cluster_of(instance.backend, instance.db_instance_identifier)
    if cluster is not None and cluster.latest_restorable is not None:
        return cluster.latest_restorable
    created = _aware(instance.created)
    interval = rds_postgres.log_upload_seconds()
    elapsed = (datetime.now(UTC) - created).total_seconds()
    return created + timedelta(seconds=interval * max(0, math.floor(elapsed / interval)))


def earliest_restorable(instance: Any) -> datetime:
    """The retention period back from now, but not before the first backup."""
    cluster = rds_postgres.cluster_of(instance.backend, instance.db_instance_identifier)
    first = (cluster.earliest_restorable if cluster is not None
             and cluster.earliest_restorable is not None else _aware(instance.created))
    retention = timedelta(days=int(instance.backup_retention_period or 0))
    return max(first, datetime.now(UTC) - retention)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply() -> None:
    """Patch moto's RDS models and backend (once per process)."""
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import DBInstance, DBInstanceAutomatedBackup, RDSBackend

    DBInstance.latest_restorable_time = property(latest_restorable)  # type: ignore[assignment]

    def restore_window(self: Any) -> dict[str, datetime] | None:
        instance = self.backend.databases.get(self.db_instance_identifier)
        if instance is None:
            return None
        return {"EarliestTime": earliest_restorable(instance),
                "LatestTime": latest_restorable(instance)}

    DBInstanceAutomatedBackup.restore_window = property(restore_window)  # type: ignore[attr-defined]

    to_time = RDSBackend.restore_db_instance_to_point_in_time

    def restore_db_instance_to_point_in_time(self: Any, source_db_identifier: str,
                                             target_db_identifier: str,
                                             overrides: dict[str, Any]) -> Any:
        source = self.describe_db_instances(db_instance_identifier=source_db_identifier)[0]
        restore_time = overrides.get("restore_time")
        if restore_time is not None and overrides.get("use_latest_restorable_time"):
            raise RDSClientError("InvalidParameterCombination",
                                 "Cannot specify both RestoreTime and UseLatestRestorableTime.")
        if not int(source.backup_retention_period or 0):
            raise RDSClientError(
                "PointInTimeRestoreNotEnabled",
                f"DB instance {source_db_identifier} has automated backups disabled "
                "(BackupRetentionPeriod 0): point-in-time restore is not enabled.")
        if restore_time is not None:
            moment = _aware(restore_time)
            earliest, latest = earliest_restorable(source), latest_restorable(source)
            if not earliest <= moment <= latest:
                raise RDSClientError(
                    "InvalidRestoreFault",
                    f"Cannot restore DB instance {source_db_identifier} to {_stamp(moment)}: "
                    f"the restore time must be within its restorable window, {_stamp(earliest)} "
                    f"to the latest restorable time {_stamp(latest)}.")
        return to_time(self, source_db_identifier, target_db_identifier, overrides)

    RDSBackend.restore_db_instance_to_point_in_time = restore_db_instance_to_point_in_time
