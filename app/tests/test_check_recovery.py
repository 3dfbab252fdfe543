"""manage.py check_recovery: the disaster-recovery drill's check of a restored database.

The "restored" database here is the test database itself, reached as a connection of its own
(the command changes only the host), so what it counts must be committed: transactional tests.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from recovery.management.commands.check_recovery import REPORT_PREFIX
from recovery.services import ALIAS

from tests.factories import SalonFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", ALIAS])


@pytest.fixture(autouse=True)
def _restore_the_recovery_alias():
    """The command points the alias at its --host: back to the test database afterwards (the
    transactional test's teardown flushes every database it allowed)."""
    before = connections.settings[ALIAS]
    yield
    connections[ALIAS].close()
    del connections[ALIAS]
    connections.settings[ALIAS] = before


def _report(capsys) -> dict:
    [line] = [line for line in capsys.readouterr().out.splitlines()
              if line.startswith(REPORT_PREFIX)]
    return json.loads(line.removeprefix(REPORT_PREFIX))


def test_a_restored_database_that_serves_the_app_passes_with_its_counts(capsys):
    SalonFactory.create_batch(2)
    host = connection.settings_dict["HOST"] or "127.0.0.1"
    call_command("check_recovery", host=host, timeout=10)
    report = _report(capsys)
    assert report["ok"] is True
    assert report["host"] == host
    assert report["salons"] == 2
    assert report["appointments_last_day"] == 0
    assert report["check_errors"] == []
    assert report["unapplied_migrations"] == []
    assert report["answered_at"].endswith("+00:00")


def test_the_alias_is_made_where_the_settings_have_none(capsys):
    """Production settings declare no "recovery" database (the test settings do, to allow it)."""
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]
    call_command("check_recovery", host=connection.settings_dict["HOST"] or "127.0.0.1",
                 timeout=10)
    assert _report(capsys)["ok"] is True


def test_a_database_that_never_answers_fails_with_the_reason(capsys):
    with pytest.raises(CommandError, match="did not answer within"):
        call_command("check_recovery", host="127.0.0.1", port=1, timeout=0.5)
    report = _report(capsys)
    assert report["ok"] is False
    assert "did not answer" in report["error"]


def test_a_restored_database_behind_this_release_fails_naming_the_migration(capsys):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, app, name, applied FROM django_migrations "
                       "WHERE app = 'appointment' ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE id = %s", [row[0]])
    try:
        with pytest.raises(CommandError, match="cannot serve this release"):
            call_command("check_recovery", host="127.0.0.1", timeout=10)
        assert _report(capsys)["unapplied_migrations"] == [f"appointment.{row[2]}"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO django_migrations (id, app, name, applied) "
                           "VALUES (%s, %s, %s, %s)", row)
