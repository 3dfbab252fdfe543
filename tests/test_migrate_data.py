"""playbooks/migrate-data.yml on the emulator's light data plane: the refusals before any change
(no source URL, production unconfirmed, no release yet), check mode, and the copy task as the
scripted data plane runs it (its definition, secret and command; its exit code read). The copy
itself (manage.py import_database) is tested in app/tests/test_import_database.py; the run on
the real data plane is for tests/container."""

from __future__ import annotations

import json

import pytest
import release_env as env
from moto_ecs import RUNTIME

PLAYBOOK = "playbooks/migrate-data.yml"
FAMILY = f"{env.PREFIX}-migrate-data"
PARAMETER = "/booking-api/local/migration/source_database_url"
# AWS actions that change something: none may happen when the play refuses.
WRITES = ("Create", "Register", "Update", "Put", "Run", "Delete", "Tag", "Modify", "Deregister")


def _writes(emulator, since):
    return [f"{c.service}:{c.action}" for c in emulator.calls[since:]
            if c.action.startswith(WRITES) and not c.throttled]


def _release(aws) -> str:
    """What a release leaves for this play: a migrate task definition and the release record."""
    arn = aws("ecs").register_task_definition(
        family=f"{env.PREFIX}-migrate", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        executionRoleArn=f"arn:aws:iam::123456789012:role/{env.PREFIX}-task-execution",
        taskRoleArn=f"arn:aws:iam::123456789012:role/{env.PREFIX}-task",
        volumes=[{"name": "tmp"}],
        containerDefinitions=[{
            "name": "migrate", "image": f"127.0.0.1:5002/{env.PREFIX}:aaa111", "essential": True,
            "command": ["python", "manage.py", "migrate", "--noinput"],
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "secrets": [{"name": "DATABASE_URL", "valueFrom":
                         "arn:aws:ssm:us-east-1:123456789012:parameter/booking-api/local/"
                         "database_url"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{env.PREFIX}", "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "migrate"}},
        }])["taskDefinition"]["taskDefinitionArn"]
    aws("ssm").put_parameter(Name=f"{env.RECORD}/current", Type="String", Value=json.dumps(
        {"tag": "aaa111", "image": f"127.0.0.1:5002/{env.PREFIX}:aaa111",
         "task_definitions": {"migrate": arn}}))
    return arn


@pytest.fixture
def provisioned(fresh_emulator, aws):
    """The environment's network, cluster and database, nothing released."""
    env.provision(aws)
    yield aws
    RUNTIME.reset()


@pytest.fixture
def released(provisioned):
    _release(provisioned)
    return provisioned


def _flat(output: str) -> str:
    """The output with the YAML callback's line wrapping undone."""
    return " ".join(output.replace("'", " ").split())


def _family_revisions(aws) -> list[str]:
    return aws("ecs").list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]


def test_no_source_url_in_the_vault_is_one_message_without_any_aws_call(ansible, emulator):
    before = len(emulator.calls)
    result = ansible.playbook(PLAYBOOK, extra_vars={"vault_booking_migration_source_url": ""})
    assert result.rc != 0
    assert "No source database URL was given: set vault_booking_migration_source_url" in \
        result.output, result.explain()
    assert "Nothing was touched" in result.output
    assert emulator.calls[before:] == []


def test_a_malformed_source_url_is_refused_without_showing_it(ansible, emulator):
    before = len(emulator.calls)
    secret = "mysql://someone:hunter2-secret@db.example.com/legacy"
    result = ansible.playbook(PLAYBOOK, extra_vars={"vault_booking_migration_source_url": secret})
    assert result.rc != 0
    assert "The source database URL is not postgres://user:password@host:port/name" in \
        result.output, result.explain()
    assert "hunter2-secret" not in result.output
    assert emulator.calls[before:] == []


def test_production_needs_its_name_as_confirmation(ansible, emulator):
    before = len(emulator.calls)
    result = ansible.playbook(PLAYBOOK, extra_vars={"data_migration_environment": "prod",
                                                    "force": True})
    assert result.rc != 0
    assert "Refusing to copy a database into 'prod', nothing was touched: with force this " \
        "drops its database first" in result.output, result.explain()
    assert "-e migrate_data_confirm=prod" in result.output
    assert emulator.calls[before:] == []


def test_no_release_yet_is_refused_before_any_change(ansible, provisioned, emulator):
    before = len(emulator.calls)
    result = ansible.playbook(PLAYBOOK)
    assert result.rc != 0
    assert "No release is recorded under /booking-api/local/release/current: release one " \
        "first" in result.output, result.explain()
    assert _writes(emulator, before) == []


def test_check_mode_changes_nothing_and_says_what_it_would_run(ansible, released, emulator):
    before = len(emulator.calls)
    result = ansible.playbook(PLAYBOOK, "--check", extra_vars={"force": True})
    assert result.rc == 0, result.explain()
    assert f"would write {PARAMETER}, register {FAMILY} and run: python manage.py " \
        "import_database --jobs 2 --target-storage-gb 20 --force" in _flat(result.output)
    assert _writes(emulator, before) == []
    assert _family_revisions(released) == []


def test_the_copy_task_runs_in_the_release_with_the_source_url_as_its_secret(ansible, released,
                                                                            emulator):
    aws = released
    result = ansible.playbook(PLAYBOOK, extra_vars={"force": "true",
                                                    "data_migration_log_wait_seconds": 0})
    assert result.rc == 0, result.explain()
    # The source URL: a SecureString under the environment's path, never in the output.
    parameter = aws("ssm").get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"].startswith("postgres://legacy:")
    assert parameter["Value"] not in result.output
    # The copy's own family: the migrate definition's image, roles and volume, another command,
    # the source URL as one more secret, its own log stream prefix.
    [revision] = _family_revisions(aws)
    definition = aws("ecs").describe_task_definition(taskDefinition=revision)["taskDefinition"]
    [container] = definition["containerDefinitions"]
    assert container["name"] == "import"
    assert container["image"] == f"127.0.0.1:5002/{env.PREFIX}:aaa111"
    assert container["command"] == ["python", "manage.py", "import_database"]
    assert [s["name"] for s in container["secrets"]] == ["DATABASE_URL", "SOURCE_DATABASE_URL"]
    assert container["secrets"][1]["valueFrom"].endswith(f":parameter{PARAMETER}")
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate-data"
    assert definition["executionRoleArn"].endswith(f"role/{env.PREFIX}-task-execution")
    assert [v["name"] for v in definition["volumes"]] == ["tmp"]
    # The task: in the services' network, the flags as overrides.
    ecs = aws("ecs")
    arns = {arn for status in ("RUNNING", "STOPPED")
            for arn in ecs.list_tasks(cluster=env.CLUSTER, desiredStatus=status)["taskArns"]}
    [task] = [t for t in ecs.describe_tasks(cluster=env.CLUSTER, tasks=sorted(arns))["tasks"]
              if t["taskDefinitionArn"] == revision]
    assert task["overrides"]["containerOverrides"][0]["command"] == [
        "python", "manage.py", "import_database", "--jobs", "2", "--target-storage-gb", "20",
        "--force"]
    assert task["startedBy"].startswith("migrate-data by ")
    # The scripted data plane writes no logs: the exit code alone tells the outcome.
    assert "no report line in migrate-data/import/" in _flat(result.output)

    # A second run reuses the revision.
    again = ansible.playbook(PLAYBOOK, extra_vars={"data_migration_log_wait_seconds": 0})
    assert again.rc == 0, again.explain()
    assert _family_revisions(aws) == [revision]


def test_a_refused_copy_fails_with_the_tasks_meaning(ansible, released, emulator):
    RUNTIME.script_exit_code(FAMILY, 2)
    result = ansible.playbook(PLAYBOOK, extra_vars={"data_migration_log_wait_seconds": 0})
    assert result.rc != 0
    assert "failed (the preflight refused the copy, nothing was written)" in \
        _flat(result.output), result.explain()
    assert "the log stream migrate-data/import/" in _flat(result.output)
