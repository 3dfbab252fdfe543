"""deploy.yml and rollback.yml when something goes wrong: each fails with one clear message and
leaves the running services and the release record as they were."""

from __future__ import annotations

import pytest
import release_env as env
from moto_ecs import RUNTIME
from test_release import deploy, rollback

# AWS actions that change something: none may happen when bad input is refused.
WRITES = ("Create", "Register", "Update", "Put", "Run", "Delete", "Tag", "Modify")


def _provision_with_two_images(aws):
    env.provision(aws)
    RUNTIME.rollout_seconds = 0.5
    env.push(aws, "aaa111")
    env.push(aws, "bbb222")


@pytest.fixture
def released(fresh_emulator, aws):
    """A provisioned environment with aaa111 and bbb222 pushed, nothing released yet."""
    _provision_with_two_images(aws)
    return aws


@pytest.fixture(scope="module")
def running_a_state(emulator, ansible):
    """release aaa111 deployed once for the file (a deploy is the costly part: ~30 s), kept as an
    emulator snapshot that each test starts from."""
    yield env.released_snapshot(emulator, lambda tag: deploy(ansible, tag))
    RUNTIME.reset()


@pytest.fixture
def running_a(emulator, running_a_state):
    """An environment running release aaa111, with bbb222 pushed but not released."""
    emulator.restore(running_a_state)
    yield emulator.client
    RUNTIME.reset()


def _writes(emulator, since):
    return [f"{c.service}:{c.action}" for c in emulator.calls[since:]
            if c.action.startswith(WRITES) and not c.throttled]


def test_unknown_tag_is_refused_before_anything_is_touched(ansible, released, emulator):
    before = len(emulator.calls)
    result = deploy(ansible, "not-pushed")
    assert result.rc != 0
    assert "booking-api-local:not-pushed is not in the registry" in result.output
    assert _writes(emulator, before) == []
    assert env.record(released) == {}


@pytest.mark.parametrize(("extra", "message"), [
    ({}, "deploy.yml needs the image to release: -e image_tag=<git sha>"),
    ({"image_tag": "bad tag!"}, "image_tag 'bad tag!' is not a valid image tag"),
])
def test_missing_or_malformed_tag_is_refused_without_aws_calls(ansible, released, emulator,
                                                               extra, message):
    before = len(emulator.calls)
    result = ansible.playbook("playbooks/deploy.yml", extra_vars={"release_registry": "",
                                                                  **extra})
    assert result.rc != 0
    assert message in result.output
    assert emulator.calls[before:] == []


def test_failed_migration_aborts_with_the_services_untouched(ansible, running_a, emulator):
    aws = running_a
    before_services, before_record = env.running(aws), env.record(aws)
    RUNTIME.script_exit_code("booking-api-local-migrate", 1)
    result = deploy(ansible, "bbb222")
    assert result.rc != 0
    assert "exit codes {'migrate': 1}" in result.output
    assert env.running(aws) == before_services
    assert env.record(aws) == before_record
    assert [d["rolloutState"] for d in env.service(aws, "web")["deployments"]] == ["COMPLETED"]


def test_failed_rollout_is_rolled_back_by_the_circuit_breaker(ansible, running_a, emulator):
    aws = running_a
    before_services, before_record = env.running(aws), env.record(aws)
    RUNTIME.script_rollout("booking-api-local-web", "FAILED")
    result = deploy(ansible, "bbb222")
    assert result.rc != 0
    assert "circuit breaker rolled booking-api-local-web back to" in result.output, \
        result.explain()
    assert env.running(aws)["web"] == before_services["web"]
    assert env.record(aws) == before_record
    # The worker's rollout succeeded: the services are half moved. The AWX workflow's failure
    # path re-applies the recorded release, whatever image_tag the workflow carries.
    assert env.running(aws)["worker"] != before_services["worker"]
    repaired = rollback(ansible, image_tag="bbb222", release_rollback_target="current")
    assert repaired.rc == 0, repaired.explain()
    assert env.running(aws) == before_services
    assert env.record(aws)["tag"] == "aaa111"


def test_rollback_without_a_previous_release_says_so(ansible, running_a, emulator):
    before = len(emulator.calls)
    result = rollback(ansible)
    assert result.rc != 0
    assert "No previous release is recorded under /booking-api/local/release/previous" in \
        result.output
    assert _writes(emulator, before) == []


def test_snapshot_before_migrations_that_change_the_schema(ansible, running_a, emulator):
    aws = running_a
    # migrate --check exits 1: migrations to apply; then the migration itself succeeds.
    RUNTIME.script_exit_code("booking-api-local-migrate", 1)
    RUNTIME.script_exit_code("booking-api-local-migrate", 0)
    result = deploy(ansible, "bbb222", release_snapshot_before_migrate=True)
    assert result.rc == 0, result.explain()
    snapshots = aws("rds").describe_db_snapshots(
        DBInstanceIdentifier="booking-api-local-postgres", SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == ["booking-api-local-pre-bbb222"]
    assert env.record(aws)["tag"] == "bbb222"
