"""playbooks/restore.yml (the rds role's `restore` entry point) on the in-process emulator.

The environment is the release tests' minimal one (tests/release_env.py, boto3: network, load
balancer, cluster, repository) with release aaa111 deployed once, plus the database as the rds
role makes it (subnet group, security group, instance with the role's settings, made with boto3
here rather than by a site run); kept as an emulator snapshot each test starts from.

What is held: a restore (latest time, a point in time, a snapshot) makes a new instance with the
current one's settings, renames the current one <prefix>-postgres-pre-restore-<stamp> (tagged)
and the new one <prefix>-postgres, re-publishes the URL and starts new tasks of the recorded
release (forced deployments, record unchanged); restore_drop_old deletes the set-aside instance
with a final snapshot; every bad input fails with its message before any change; production is
refused without confirmation; --check changes nothing.

Cost: one deploy for the file (about 35 s), seven restore runs (about 15-30 s each with the
re-release), seven refused runs (4-10 s) and a few direct module calls: about 3 min on the shared,
loaded two-core machine (2026-12-07), most of it ansible-playbook start-up and the re-release.
"""

from __future__ import annotations

import datetime as dt

import pytest
import release_env as env
from harness import load_contract
from moto_ecs import RUNTIME
from test_release import ECR, deploy

PREFIX = env.PREFIX
INSTANCE = f"{PREFIX}-postgres"
NAMES = load_contract().resource_names(PREFIX)
URL_PARAMETER = "/booking-api/local/database_url"
TAGS = {"Project": "booking-api", "Environment": "local", "Name": INSTANCE}
# Calls that change an RDS instance: none may happen when an input is refused.
RDS_WRITES = {"CreateDBInstance", "ModifyDBInstance", "DeleteDBInstance",
              "RestoreDBInstanceToPointInTime", "RestoreDBInstanceFromDBSnapshot",
              "AddTagsToResource", "RemoveTagsFromResource"}
# The settings a restore must carry over (DescribeDBInstances keys).
SETTINGS = ("DBInstanceClass", "StorageType", "AllocatedStorage", "MaxAllocatedStorage",
            "StorageEncrypted", "MultiAZ", "BackupRetentionPeriod", "PreferredBackupWindow",
            "PreferredMaintenanceWindow", "DeletionProtection", "CopyTagsToSnapshot",
            "EnabledCloudwatchLogsExports", "PubliclyAccessible", "AutoMinorVersionUpgrade",
            "Engine")


def _database(aws):
    """The database as the rds role makes it, on the release environment's private subnets."""
    ec2, rds = aws("ec2"), aws("rds")
    rds.delete_db_instance(DBInstanceIdentifier=INSTANCE, SkipFinalSnapshot=True)
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": [
        f"{PREFIX}-private-a", f"{PREFIX}-private-b"]}])["Subnets"]
    vpc = subnets[0]["VpcId"]
    group = ec2.create_security_group(GroupName=NAMES["security_groups"]["postgres"],
                                      Description="postgres", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName=NAMES["db_subnet_group"],
                               DBSubnetGroupDescription="database subnets",
                               SubnetIds=[s["SubnetId"] for s in subnets])
    rds.create_db_parameter_group(DBParameterGroupName=f"{PREFIX}-pg15",
                                  DBParameterGroupFamily="postgres15", Description="custom")
    rds.create_db_instance(
        DBInstanceIdentifier=INSTANCE, Engine="postgres", EngineVersion="15.12",
        DBInstanceClass="db.t3.medium", MultiAZ=True, AllocatedStorage=20,
        MaxAllocatedStorage=100, StorageType="gp2", StorageEncrypted=True,
        DBSubnetGroupName=NAMES["db_subnet_group"], VpcSecurityGroupIds=[group],
        DBParameterGroupName=f"{PREFIX}-pg15", PubliclyAccessible=False, Port=5432,
        DBName="booking", MasterUsername="booking", MasterUserPassword="not-a-secret-1",
        BackupRetentionPeriod=7, PreferredBackupWindow="03:00-03:30",
        PreferredMaintenanceWindow="sun:04:00-sun:04:30", CopyTagsToSnapshot=True,
        DeletionProtection=True, EnableCloudwatchLogsExports=["postgresql"],
        AutoMinorVersionUpgrade=True,
        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()])


@pytest.fixture(scope="module")
def deployed_state(emulator, ansible):
    """release aaa111 deployed on the minimal environment with the database, once per file."""
    yield env.released_snapshot(emulator, lambda tag: deploy(ansible, tag), tags=("aaa111",),
                                prepare=_database)
    RUNTIME.reset()


@pytest.fixture
def deployed(emulator, deployed_state):
    emulator.restore(deployed_state)
    RUNTIME.rollout_seconds = 0.5
    yield emulator.client
    RUNTIME.reset()


def restore(ansible, *args, **extra):
    return ansible.playbook("playbooks/restore.yml", *args, extra_vars={**ECR, **extra})


def _instances(aws):
    return {i["DBInstanceIdentifier"]: i for i in aws("rds").describe_db_instances()["DBInstances"]}


def _tags(aws, instance):
    listed = aws("rds").list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
    return {t["Key"]: t["Value"] for t in listed}


def _rds_writes(emulator, since):
    return [c.action for c in emulator.calls[since:]
            if c.service == "rds" and c.action in RDS_WRITES]


def _assert_switched(aws, before):
    """<prefix>-postgres is a new instance with the old one's settings; the old one is set aside."""
    instances = _instances(aws)
    set_aside = [name for name in instances
                 if name.startswith(NAMES["db_instance_pre_restore_prefix"])]
    assert len(set_aside) == 1, sorted(instances)
    old, new = instances[set_aside[0]], instances[INSTANCE]
    assert old["InstanceCreateTime"] == before["InstanceCreateTime"], "the old one is set aside"
    assert new["InstanceCreateTime"] > before["InstanceCreateTime"], "the name is the new one's"
    assert not [n for n in instances if n.startswith(NAMES["db_instance_restore_prefix"])]
    for key in SETTINGS:
        assert new.get(key) == before.get(key), key
    assert new["DBSubnetGroup"]["DBSubnetGroupName"] == NAMES["db_subnet_group"]
    assert ([g["VpcSecurityGroupId"] for g in new["VpcSecurityGroups"]]
            == [g["VpcSecurityGroupId"] for g in before["VpcSecurityGroups"]])
    assert ([g["DBParameterGroupName"] for g in new["DBParameterGroups"]] == [f"{PREFIX}-pg15"])
    assert _tags(aws, new) == TAGS
    old_tags = _tags(aws, old)
    assert old_tags["Purpose"] == "pre-restore"
    assert old_tags["ReplacedBy"].startswith(NAMES["db_instance_restore_prefix"])
    url = aws("ssm").get_parameter(Name=URL_PARAMETER, WithDecryption=True)["Parameter"]["Value"]
    assert f"@{new['Endpoint']['Address']}:5432/booking" in url
    return old, old_tags


def test_restore_switches_redeploys_and_drops_the_old_instance(deployed, emulator, ansible):
    aws = deployed
    before = _instances(aws)[INSTANCE]
    record = env.record(aws)
    started = {name: env.service(aws, name)["deployments"][0]["id"] for name in env.SERVICES}

    run = restore(ansible)
    assert run.rc == 0, run.explain()
    old, old_tags = _assert_switched(aws, before)
    assert old_tags["RestoredTo"] == before["LatestRestorableTime"].astimezone(
        dt.UTC).isoformat()
    # New tasks of the same release: each service got a forced deployment, the record stayed.
    for name in env.SERVICES:
        assert env.service(aws, name)["deployments"][0]["id"] != started[name], name
        assert env.service(aws, name)["taskDefinition"] == record["task_definitions"][name]
    assert env.record(aws) == record
    # Deletion protection came over from the current instance.
    assert _instances(aws)[INSTANCE]["DeletionProtection"] is True

    # A dry run on the restored environment: no error, no change made.
    since = len(emulator.calls)
    checked = restore(ansible, "--check", restore_drop_old=True)
    assert checked.rc == 0, checked.explain()
    assert not _rds_writes(emulator, since)

    # The old instance goes on request alone, with a final snapshot, tagged as such.
    dropped = restore(ansible, restore_drop_old=True)
    assert dropped.rc == 0, dropped.explain()
    instances = _instances(aws)
    assert sorted(instances) == [INSTANCE]
    snapshots = aws("rds").describe_db_snapshots(
        DBInstanceIdentifier=old["DBInstanceIdentifier"])["DBSnapshots"]
    finals = [s for s in snapshots
              if s["DBSnapshotIdentifier"].startswith(old["DBInstanceIdentifier"] + "-final-")]
    assert len(finals) == 1, snapshots
    tags = {t["Key"]: t["Value"] for t in aws("rds").list_tags_for_resource(
        ResourceName=finals[0]["DBSnapshotArn"])["TagList"]}
    assert tags["Purpose"] == "final-snapshot"


def test_restore_from_a_snapshot_and_to_a_point_in_time(deployed, ansible):
    aws = deployed
    # Before any release (no tasks to move): the re-release is skipped, the rest runs.
    aws("ssm").delete_parameters(Names=[f"{env.RECORD}/current", f"{env.RECORD}/previous"])
    before = _instances(aws)[INSTANCE]
    aws("rds").create_db_snapshot(DBInstanceIdentifier=INSTANCE, DBSnapshotIdentifier="before-x")
    run = restore(ansible, restore_snapshot="before-x")
    assert run.rc == 0, run.explain()
    _, old_tags = _assert_switched(aws, before)
    assert old_tags["RestoredTo"] == "before-x"
    assert "No release is recorded" in run.output, run.explain()

    # Then to a point in time inside the restored instance's window, dropping both set-aside
    # instances (the one before and the one this run sets aside) in the same run.
    current = _instances(aws)[INSTANCE]
    when = current["LatestRestorableTime"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    again = restore(ansible, restore_time=when, restore_drop_old=True)
    assert again.rc == 0, again.explain()
    instances = _instances(aws)
    assert sorted(instances) == [INSTANCE], "the restore's and the earlier set-aside are dropped"
    assert instances[INSTANCE]["InstanceCreateTime"] > current["InstanceCreateTime"]
    for key in SETTINGS:
        assert instances[INSTANCE].get(key) == current.get(key), key
    snapshots = aws("rds").describe_db_snapshots()["DBSnapshots"]
    finals = [s["DBSnapshotIdentifier"] for s in snapshots
              if "-pre-restore-" in s["DBSnapshotIdentifier"]
              and "-final-" in s["DBSnapshotIdentifier"]]
    assert len(finals) == 2, finals


def _future(hours):
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"restore_time": "yesterday at noon"}, "is not an ISO 8601 date and time"),
        ({"restore_time": "2001-01-01T00:00:00Z"}, "is outside the restorable window"),
        ({"restore_time": "2026-12-07T09:30:00Z", "restore_snapshot": "x"},
         "Give either restore_time"),
        ({"restore_snapshot": "no-such-snapshot"}, "No snapshot no-such-snapshot"),
        ({"restore_snapshot": "of-another"}, "is of another-db, not of"),
        ({"restore_drop_old": "maybe"}, "restore_drop_old"),
        ({"booking_env": "prod"}, "run again with -e restore_confirm=prod"),
    ],
    ids=["not-iso", "too-early", "time-and-snapshot", "unknown-snapshot",
         "snapshot-of-another-instance", "not-a-bool", "prod-unconfirmed"],
)
def test_bad_input_fails_before_any_change(deployed, emulator, ansible, extra, message):
    aws = deployed
    if extra.get("restore_snapshot") == "of-another":
        aws("rds").create_db_instance(DBInstanceIdentifier="another-db", Engine="postgres",
                                      DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                      MasterUsername="x", MasterUserPassword="not-a-secret-2")
        aws("rds").create_db_snapshot(DBInstanceIdentifier="another-db",
                                      DBSnapshotIdentifier="of-another")
    since = len(emulator.calls)
    run = restore(ansible, **extra)
    assert run.rc != 0, run.explain()
    assert message in run.output, run.explain()
    assert "nothing was" in run.output.lower() or message == "restore_drop_old", run.explain()
    assert not _rds_writes(emulator, since)
    assert sorted(n for n in _instances(aws) if n.startswith(PREFIX)) == [INSTANCE]


def test_prod_needs_confirmation_then_a_current_instance(deployed, emulator, ansible):
    # booking_env=prod points the names at another environment, which has no database here:
    # confirmed, the run gets past the guard and stops at the missing current instance.
    since = len(emulator.calls)
    run = restore(ansible, booking_env="prod", restore_confirm="prod")
    assert run.rc != 0
    assert "No DB instance booking-api-prod-postgres to restore" in run.output, run.explain()
    assert "Nothing was changed" in run.output, run.explain()
    assert not _rds_writes(emulator, since)


def _module_args(**extra):
    return {"db_instance_identifier": f"{INSTANCE}-restore-x", "db_instance_class": "db.t3.medium",
            "db_subnet_group_name": NAMES["db_subnet_group"], "vpc_security_group_ids": [],
            "poll_interval": 1, **extra}


@pytest.mark.parametrize(
    ("restore_time", "message"),
    [("2026-13-01T00:00:00Z", "is not an ISO 8601 date and time"),
     (_future(2), "is outside the restorable window"),
     (_future(-24 * 365 * 30), "is outside the restorable window")],
    ids=["no-such-month", "too-late", "too-early"])
def test_the_module_checks_the_time_before_restoring(deployed, emulator, ansible, restore_time,
                                                     message):
    since = len(emulator.calls)
    result = ansible.module("booking.aws.rds_instance_restore", _module_args(
        source_db_instance_identifier=INSTANCE, restore_time=restore_time))
    assert result.get("failed"), result
    assert message in result["msg"], result["msg"]
    assert "nothing was changed" in result["msg"], result["msg"]
    assert not _rds_writes(emulator, since)


def test_the_rename_module_is_idempotent_and_refuses_a_taken_name(deployed, ansible):
    aws = deployed
    args = {"db_instance_identifier": INSTANCE, "new_db_instance_identifier": f"{INSTANCE}-x",
            "poll_interval": 1, "add_tags": {"Purpose": "test"}}
    checked = ansible.module("booking.aws.rds_instance_rename", args, check=True)
    assert checked["changed"], checked
    assert INSTANCE in _instances(aws)
    first = ansible.module("booking.aws.rds_instance_rename", args)
    assert first["changed"], first
    assert first["instance"]["tags"]["Purpose"] == "test", first
    again = ansible.module("booking.aws.rds_instance_rename", args)
    assert not again["changed"], again
    # Another name than INSTANCE: moto names an instance's first automated snapshot by the minute
    # (rds:<id>-<yyyy-mm-dd-hh-mm>) and refuses a second one of the same name.
    aws("rds").create_db_instance(DBInstanceIdentifier=f"{INSTANCE}-y", Engine="postgres",
                                  DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                  MasterUsername="x", MasterUserPassword="not-a-secret-2")
    taken = ansible.module("booking.aws.rds_instance_rename", {
        **args, "db_instance_identifier": f"{INSTANCE}-x",
        "new_db_instance_identifier": f"{INSTANCE}-y"})
    assert taken.get("failed"), taken
    assert "exists already" in taken["msg"], taken


def test_contract_names_the_restore_instances():
    assert NAMES["db_instance_restore_prefix"] == f"{INSTANCE}-restore-"
    assert NAMES["db_instance_pre_restore_prefix"] == f"{INSTANCE}-pre-restore-"
