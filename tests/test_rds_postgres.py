"""RDS PostgreSQL instances as real servers (tools/rds_postgres.py, BOOKING_EMULATOR_RDS=postgres).

Against an emulator process of its own with the switch on: CreateDBInstance starts a PostgreSQL
server for the instance, reachable with the master password (and only with it) at the loopback
address behind the instance's endpoint name; ModifyDBInstance changes the password; DeleteDBInstance
and the emulator's end stop the server. Cost: one emulator process, two servers (initdb about 2 s
each).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import boto3
import pytest
from harness import emulator_process

pytestmark = pytest.mark.skipif(
    shutil.which("psql") is None or not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    reason="needs PostgreSQL's client and server binaries (the machine's PostgreSQL 15 has them)")

PASSWORD = "first-Password-1"


@pytest.fixture(scope="module")
def rds_emulator(tmp_path_factory):
    calls = tmp_path_factory.mktemp("rds-postgres") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_RDS="postgres",
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
