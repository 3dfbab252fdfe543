"""RDS PostgreSQL instances as real servers (tools/rds_postgres.py, BOOKING_EMULATOR_RDS=postgres).

Against an emulator process of its own with the switch on: CreateDBInstance starts a PostgreSQL
server for the instance, reachable with the master password (and only with it) at the loopback
address behind the instance's endpoint name; ModifyDBInstance changes the password; DeleteDBInstance
and the emulator's end stop the server. Backups are real (issue 19): a point-in-time restore has
exactly the rows committed by its time, a snapshot the rows at its taking, and a rename moves the
endpoint name. Cost: one emulator process, about ten short-lived servers (initdb and a base backup
about 2 s each), the log uploaded every 2 s; about 40 s in all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from harness import emulator_process

pytestmark = pytest.mark.skipif(
    shutil.which("psql") is None or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="needs PostgreSQL's client and server binaries (the machine's PostgreSQL 15 has them)")

PASSWORD = "first-Password-1"
UPLOAD_SECONDS = 2  # the log upload interval (AWS: about 5 minutes)


@pytest.fixture(scope="module")
def rds_emulator(tmp_path_factory):
    calls = tmp_path_factory.mktemp("rds-postgres") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_RDS="postgres",
                          BOOKING_EMULATOR_RDS_LOG_UPLOAD_SECONDS=str(UPLOAD_SECONDS),
                          BOOKING_EMULATOR_STRICT="off") as url:
        yield url


def _rds(url: str):
    return boto3.client("rds", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")


def _endpoints(url: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{url}/_emulator/endpoints", timeout=10) as response:
        return json.loads(response.read())


def _query(address: str, password: str, sql: str,
           database: str = "booking") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", f"postgresql://booking_admin@{address}:5432/{database}", "-qAtc", sql],
        env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"},
        capture_output=True, text=True, timeout=30, check=False)


def test_an_instance_is_a_server_behind_its_endpoint(rds_emulator):
    rds = _rds(rds_emulator)
    [instance] = [rds.create_db_instance(
        DBInstanceIdentifier="booking-real", Engine="postgres", EngineVersion="15.12",
        DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="booking_admin",
        MasterUserPassword=PASSWORD, DBName="booking")["DBInstance"]]
    endpoint = rds.describe_db_instances(DBInstanceIdentifier="booking-real")[
        "DBInstances"][0]["Endpoint"]["Address"]
    address = _endpoints(rds_emulator)[endpoint]
    assert address.startswith("198.18."), address  # an endpoint address (tools/local_net.py)
    assert instance["DBName"] == "booking"

    answered = _query(address, PASSWORD, "select current_user, current_database()")
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip() == "booking_admin|booking"
    refused = _query(address, "not-the-password", "select 1")
    assert refused.returncode != 0
    assert "password authentication failed" in refused.stderr

    rds.modify_db_instance(DBInstanceIdentifier="booking-real",
                           MasterUserPassword="second-Password-2", ApplyImmediately=True)
    assert _query(address, "second-Password-2", "select 1").returncode == 0
    assert _query(address, PASSWORD, "select 1").returncode != 0

    rds.delete_db_instance(DBInstanceIdentifier="booking-real", SkipFinalSnapshot=True)
    assert endpoint not in _endpoints(rds_emulator)
    gone = _query(address, "second-Password-2", "select 1")
    assert gone.returncode != 0
    assert "password authentication failed" not in gone.stderr  # no server answers


def test_other_engines_stay_records(rds_emulator):
    rds = _rds(rds_emulator)
    rds.create_db_instance(DBInstanceIdentifier="booking-mysql", Engine="mysql",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="admin", MasterUserPassword=PASSWORD)
    endpoint = rds.describe_db_instances(DBInstanceIdentifier="booking-mysql")[
        "DBInstances"][0]["Endpoint"]["Address"]
    assert endpoint not in _endpoints(rds_emulator)


def _create(rds, identifier: str) -> str:
    """A postgres instance with 7 days of backups; its endpoint address."""
    rds.create_db_instance(
        DBInstanceIdentifier=identifier, Engine="postgres", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="booking_admin", MasterUserPassword=PASSWORD,
        DBName="booking", BackupRetentionPeriod=7)
    return _address(rds, identifier)


def _address(rds, identifier: str) -> str:
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return instance["Endpoint"]["Address"]


def _rows(url: str, rds, identifier: str) -> list[str]:
    answered = _query(_endpoints(url)[_address(rds, identifier)], PASSWORD,
                      "select name from booking order by id")
    assert answered.returncode == 0, answered.stderr
    return answered.stdout.split()


def _latest_restorable(rds, identifier: str):
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    return instance["LatestRestorableTime"]


def _wait_restorable(rds, identifier: str, moment) -> None:
    """Until the log holding everything before `moment` is uploaded (AWS: up to 5 minutes)."""
    deadline = time.monotonic() + 30
    while _latest_restorable(rds, identifier) < moment:
        assert time.monotonic() < deadline, "the latest restorable time did not advance"
        time.sleep(0.5)


def _insert(url: str, rds, identifier: str, *names: str) -> None:
    values = ", ".join(f"('{name}')" for name in names)
    answered = _query(_endpoints(url)[_address(rds, identifier)], PASSWORD,
                      "create table if not exists booking (id serial primary key, name text); "
                      f"insert into booking (name) values {values}")
    assert answered.returncode == 0, answered.stderr


def test_a_point_in_time_restore_has_exactly_the_rows_committed_by_its_time(rds_emulator):
    rds = _rds(rds_emulator)
    _create(rds, "booking-pitr")
    _insert(rds_emulator, rds, "booking-pitr", "before-1", "before-2")
    time.sleep(1.1)  # the restore time falls between the two writes, to the second
    noted = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    _insert(rds_emulator, rds, "booking-pitr", "after-1")
    # A write is not restorable until its log is uploaded: the window ends before it.
    assert _latest_restorable(rds, "booking-pitr") < datetime.now(UTC)
    _wait_restorable(rds, "booking-pitr", datetime.now(UTC))

    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="booking-pitr", TargetDBInstanceIdentifier="booking-at-noted",
        RestoreTime=noted)
    assert _rows(rds_emulator, rds, "booking-at-noted") == ["before-1", "before-2"]
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="booking-pitr", TargetDBInstanceIdentifier="booking-latest",
        UseLatestRestorableTime=True)
    assert _rows(rds_emulator, rds, "booking-latest") == ["before-1", "before-2", "after-1"]
    # The restored instance is an instance of its own: it takes writes and backs them up.
    _insert(rds_emulator, rds, "booking-at-noted", "restored-1")
    assert _rows(rds_emulator, rds, "booking-pitr") == ["before-1", "before-2", "after-1"]

    with pytest.raises(ClientError) as raised:  # after the latest restorable time
        rds.restore_db_instance_to_point_in_time(
            SourceDBInstanceIdentifier="booking-pitr", TargetDBInstanceIdentifier="booking-late",
            RestoreTime=datetime.now(UTC) + timedelta(minutes=1))
    assert raised.value.response["Error"]["Code"] == "InvalidRestoreFault"
    for identifier in ("booking-pitr", "booking-at-noted", "booking-latest"):
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)


def test_snapshots_keep_the_rows_of_their_time_after_the_instance_is_gone(rds_emulator):
    rds = _rds(rds_emulator)
    _create(rds, "booking-snap")
    _insert(rds_emulator, rds, "booking-snap", "first")
    rds.create_db_snapshot(DBInstanceIdentifier="booking-snap", DBSnapshotIdentifier="manual-1")
    _insert(rds_emulator, rds, "booking-snap", "second")
    rds.delete_db_instance(DBInstanceIdentifier="booking-snap",
                           FinalDBSnapshotIdentifier="booking-snap-final")

    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-manual",
                                             DBSnapshotIdentifier="manual-1")
    assert _rows(rds_emulator, rds, "from-manual") == ["first"]
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="from-final",
                                             DBSnapshotIdentifier="booking-snap-final")
    assert _rows(rds_emulator, rds, "from-final") == ["first", "second"]
    for identifier in ("from-manual", "from-final"):
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
    for snapshot in ("manual-1", "booking-snap-final"):
        rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot)


def test_a_restored_instance_renamed_to_the_old_identifier_answers_at_its_endpoint(rds_emulator):
    """RDS User Guide, "Renaming a DB instance": replace an instance by a restored one."""
    rds = _rds(rds_emulator)
    endpoint = _create(rds, "booking-live")
    _insert(rds_emulator, rds, "booking-live", "kept")
    _wait_restorable(rds, "booking-live", datetime.now(UTC))
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="booking-live", TargetDBInstanceIdentifier="booking-new",
        UseLatestRestorableTime=True)
    _insert(rds_emulator, rds, "booking-live", "only-in-the-old")

    rds.modify_db_instance(DBInstanceIdentifier="booking-live",
                           NewDBInstanceIdentifier="booking-live-old", ApplyImmediately=True)
    rds.modify_db_instance(DBInstanceIdentifier="booking-new",
                           NewDBInstanceIdentifier="booking-live", ApplyImmediately=True)
    assert _address(rds, "booking-live") == endpoint
    assert _rows(rds_emulator, rds, "booking-live") == ["kept"]
    assert _rows(rds_emulator, rds, "booking-live-old") == ["kept", "only-in-the-old"]
    assert _address(rds, "booking-live-old") in _endpoints(rds_emulator)
    for identifier in ("booking-live", "booking-live-old"):
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
