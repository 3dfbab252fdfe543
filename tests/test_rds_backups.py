"""tools/rds_backups.py: point-in-time restore held to AWS's restorable window (light data plane).

moto alone reports the current time as LatestRestorableTime and restores to any time at all; AWS
trails the present by its log upload interval (about 5 minutes) and refuses a RestoreTime outside
the window. Each test fails on moto unpatched. Cost: the session's in-process emulator, no server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

INSTANCE = dict(Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                MasterUsername="booking_admin", MasterUserPassword="a-Password-1")


@pytest.fixture
def rds(fresh_emulator, monkeypatch):
    monkeypatch.setenv("BOOKING_EMULATOR_RDS_LOG_UPLOAD_SECONDS", "300")  # AWS's interval
    client = fresh_emulator.client("rds")
    client.create_db_instance(DBInstanceIdentifier="booking", BackupRetentionPeriod=7,
                              **INSTANCE)
    return client


def _error(call, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"]


def test_the_latest_restorable_time_trails_the_present_by_the_log_upload(rds):
    [instance] = rds.describe_db_instances(DBInstanceIdentifier="booking")["DBInstances"]
    # Created just now: nothing uploaded since the first backup (moto says "now").
    assert instance["LatestRestorableTime"] == instance["InstanceCreateTime"]
    [backup] = rds.describe_db_instance_automated_backups(
        DBInstanceIdentifier="booking")["DBInstanceAutomatedBackups"]
    assert backup["RestoreWindow"]["EarliestTime"] == instance["InstanceCreateTime"]
    assert backup["RestoreWindow"]["LatestTime"] == instance["LatestRestorableTime"]


def test_a_restore_time_outside_the_window_is_refused_as_on_aws(rds):
    now = datetime.now(UTC)
    for moment in (now + timedelta(seconds=30), now - timedelta(days=1)):
        code = _error(rds.restore_db_instance_to_point_in_time,
                      SourceDBInstanceIdentifier="booking", TargetDBInstanceIdentifier="copy",
                      RestoreTime=moment)
        assert code == "InvalidRestoreFault"
    assert not [i for i in rds.describe_db_instances()["DBInstances"]
                if i["DBInstanceIdentifier"] == "copy"]
    assert _error(rds.restore_db_instance_to_point_in_time, SourceDBInstanceIdentifier="booking",
                  TargetDBInstanceIdentifier="copy", RestoreTime=now,
                  UseLatestRestorableTime=True) == "InvalidParameterCombination"


def test_the_latest_restorable_time_and_a_time_inside_the_window_restore(rds):
    [instance] = rds.describe_db_instances(DBInstanceIdentifier="booking")["DBInstances"]
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="booking", TargetDBInstanceIdentifier="at-time",
        RestoreTime=instance["LatestRestorableTime"])
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="booking", TargetDBInstanceIdentifier="latest",
        UseLatestRestorableTime=True)
    names = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert {"at-time", "latest"} <= names


def test_no_point_in_time_restore_without_automated_backups(fresh_emulator):
    rds = fresh_emulator.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="no-backups", BackupRetentionPeriod=0, **INSTANCE)
    assert _error(rds.restore_db_instance_to_point_in_time,
                  SourceDBInstanceIdentifier="no-backups", TargetDBInstanceIdentifier="copy",
                  UseLatestRestorableTime=True) == "PointInTimeRestoreNotEnabled"
