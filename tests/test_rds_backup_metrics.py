"""booking.aws.rds_backup_metrics: the backup lag (RPO) and snapshot age, published for alarms.

The figures are pure (backup_figures, no AWS); the module against the session's in-process
emulator publishes them to CloudWatch and reports them. Cost: a few module calls.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]
                       / "collections/ansible_collections/booking/aws/plugins/modules"))
from rds_backup_metrics import backup_figures

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=3)


def _instance(**fields):
    return {"InstanceCreateTime": CREATED, "BackupRetentionPeriod": 7,
            "LatestRestorableTime": NOW - timedelta(minutes=4), **fields}


def _snapshot(name: str, age: timedelta, status: str = "available"):
    return {"DBSnapshotIdentifier": name, "SnapshotCreateTime": NOW - age, "Status": status}


def test_working_backups_lag_minutes_and_the_newest_snapshot_counts():
    figures = backup_figures(_instance(), [
        _snapshot("rds:old", timedelta(hours=30)), _snapshot("rds:daily", timedelta(hours=5)),
        _snapshot("being-made", timedelta(minutes=1), status="creating")], NOW)
    assert figures == {"restore_lag_seconds": 240,
                       "latest_restorable_time": (NOW - timedelta(minutes=4)).isoformat(),
                       "snapshot_age_seconds": 5 * 3600, "newest_snapshot": "rds:daily"}


def test_without_automated_backups_or_snapshots_the_whole_life_is_unprotected():
    figures = backup_figures(_instance(BackupRetentionPeriod=0), [], NOW)
    assert figures["restore_lag_seconds"] == figures["snapshot_age_seconds"] == 3 * 86400
    assert figures["latest_restorable_time"] is None
    assert figures["newest_snapshot"] is None


def test_the_module_publishes_both_figures_for_the_alarms(fresh_emulator, ansible):
    rds = fresh_emulator.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="booking-api-local-postgres", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="booking", MasterUserPassword="a-Password-1",
                           BackupRetentionPeriod=7)
    args = {"db_instance_identifier": "booking-api-local-postgres", "namespace": "booking-test"}
    checked = ansible.module("booking.aws.rds_backup_metrics", args, check=True)
    assert checked["changed"] is True
    cloudwatch = fresh_emulator.client("cloudwatch")
    assert cloudwatch.list_metrics(Namespace="booking-test")["Metrics"] == []  # check mode

    result = ansible.module("booking.aws.rds_backup_metrics", args)
    assert result["changed"] is True
    assert 0 <= result["restore_lag_seconds"] < 60  # created just now: backed up at creation
    assert result["newest_snapshot"].startswith("rds:booking-api-local-postgres-")
    metrics = cloudwatch.list_metrics(Namespace="booking-test")["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == ["RestoreLagSeconds", "SnapshotAgeSeconds"]
    assert all(m["Dimensions"] == [{"Name": "DBInstanceIdentifier",
                                    "Value": "booking-api-local-postgres"}] for m in metrics)

    missing = ansible.module("booking.aws.rds_backup_metrics",
                             {**args, "db_instance_identifier": "no-such-db"})
    assert missing["failed"] is True
    assert missing["msg"] == "No DB instance no-such-db: nothing to measure."


def test_the_backup_check_playbook_publishes_the_environments_figures(fresh_emulator, ansible):
    rds = fresh_emulator.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="booking-api-local-postgres", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="booking", MasterUserPassword="a-Password-1",
                           BackupRetentionPeriod=7)
    run = ansible.playbook("playbooks/backup-check.yml")
    assert run.rc == 0, run.explain()
    assert "booking-api-local-postgres: a restore now would lose" in run.output
    metrics = fresh_emulator.client("cloudwatch").list_metrics(
        Namespace="booking-api-local")["Metrics"]
    assert sorted(m["MetricName"] for m in metrics) == ["RestoreLagSeconds", "SnapshotAgeSeconds"]
