"""manage.py import_database against real databases on the test server: a "legacy" database
copied into an empty target (row counts compared), and the refusals before anything is written."""

from __future__ import annotations

import io
import json
import uuid

import psycopg
import pytest
from dataimport.management.commands.import_database import (
    EXIT_REFUSED,
    REPORT_KEY,
)
from dataimport.services import ImportRefused, check_versions
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from tests.factories import SalonFactory, ServiceFactory, StaffFactory, open_every_day

SOURCE_ENV, TARGET_ENV = "TEST_IMPORT_SOURCE_URL", "TEST_IMPORT_TARGET_URL"


def _server() -> dict[str, str]:
    db = settings.DATABASES["default"]
    return {"host": db.get("HOST") or "127.0.0.1", "port": str(db.get("PORT") or 5432),
            "user": db.get("USER") or "postgres", "password": db.get("PASSWORD") or ""}


def _url(name: str, port: str | None = None) -> str:
    server = _server()
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    return f"postgres://{auth}@{server['host']}:{port or server['port']}/{name}"


def _admin() -> psycopg.Connection:
    server = _server()
    return psycopg.connect(host=server["host"], port=server["port"], user=server["user"],
                           password=server["password"] or None, dbname="postgres",
                           autocommit=True)


@pytest.fixture
def databases():
    """Makes databases on the test server (optionally from a template); drops them afterwards."""
    made: list[str] = []

    def make(kind: str, template: str | None = None) -> str:
        name = f"import_{kind}_{uuid.uuid4().hex[:8]}"
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"'
                          + (f' TEMPLATE "{template}"' if template else ""))
        made.append(name)
        return name

    yield make
    with _admin() as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql(name: str, *statements: str) -> list:
    server = _server()
    with psycopg.connect(host=server["host"], port=server["port"], user=server["user"],
                         password=server["password"] or None, dbname=name,
                         autocommit=True) as conn:
        rows = []
        for statement in statements:
            cursor = conn.execute(statement)
            rows = cursor.fetchall() if cursor.description else rows
        return rows


def _legacy(databases) -> str:
    """A small legacy database: an extension, a sequence, a foreign key, a few rows."""
    name = databases("legacy")
    _sql(name,
         "CREATE EXTENSION IF NOT EXISTS btree_gist",
         "CREATE TABLE customer (id serial PRIMARY KEY, email text UNIQUE NOT NULL)",
         "CREATE TABLE visit (id serial PRIMARY KEY, customer_id int REFERENCES customer, "
         "during tstzrange, EXCLUDE USING gist (customer_id WITH =, during WITH &&))",
         "INSERT INTO customer (email) SELECT 'c' || i || '@example.com' "
         "FROM generate_series(1, 25) i",
         "INSERT INTO visit (customer_id, during) SELECT 1 + i % 25, "
         "tstzrange(now() + i * interval '1 hour', now() + i * interval '1 hour' + "
         "interval '30 minutes') FROM generate_series(1, 40) i")
    return name


def _import(monkeypatch, source: str, target: str, *args: str) -> tuple[dict, str]:
    monkeypatch.setenv(SOURCE_ENV, source)
    monkeypatch.setenv(TARGET_ENV, target)
    out = io.StringIO()
    try:
        call_command("import_database", "--source-env", SOURCE_ENV, "--target-env", TARGET_ENV,
                     *args, stdout=out)
    finally:
        lines = out.getvalue().strip().splitlines()
    report = json.loads(lines[-1])[REPORT_KEY]
    return report, out.getvalue()


def _refused(monkeypatch, source: str, target: str, *args: str) -> tuple[CommandError, dict]:
    out = io.StringIO()
    monkeypatch.setenv(SOURCE_ENV, source)
    monkeypatch.setenv(TARGET_ENV, target)
    with pytest.raises(CommandError) as raised:
        call_command("import_database", "--source-env", SOURCE_ENV, "--target-env", TARGET_ENV,
                     *args, stdout=out)
    report = json.loads(out.getvalue().strip().splitlines()[-1])[REPORT_KEY]
    return raised.value, report


@pytest.mark.django_db(transaction=True)
def test_copies_a_database_of_this_app_and_the_counts_match(databases, monkeypatch):
    salon = SalonFactory()
    open_every_day(salon)
    staff = StaffFactory(salon=salon)
    ServiceFactory(salon=salon, staff=[staff])
    test_database = connection.settings_dict["NAME"]
    connections.close_all()  # a template must have no other session
    legacy = databases("legacy", template=test_database)
    target = databases("target")

    report, output = _import(monkeypatch, _url(legacy), _url(target), "--jobs", "2")

    assert report["status"] == "ok", output
    assert report["mismatches"] == []
    assert report["unapplied_migrations"] == []  # the legacy database is this release's schema
    assert report["tables"]["public.salon_salon"] == {"source": 1, "target": 1}
    assert report["tables"]["public.salon_openinghours"]["target"] == 7
    assert report["tables"]["public.django_migrations"]["source"] > 10
    assert report["checks"]["same_snapshot"] is True
    assert report["source"]["major"] == report["target"]["major"]
    assert "Import ok" in output
    assert _sql(target, "SELECT count(*) FROM salon_salon") == [(1,)]


@pytest.mark.django_db
def test_copies_a_legacy_database_and_reports_the_missing_migrations(databases, monkeypatch):
    legacy, target = _legacy(databases), databases("target")

    report, output = _import(monkeypatch, _url(legacy), _url(target), "--jobs", "1")

    assert report["status"] == "ok", output
    assert report["tables"] == {"public.customer": {"source": 25, "target": 25},
                                "public.visit": {"source": 40, "target": 40}}
    # Not this app's schema: every migration is still to apply, and the summary says so.
    assert "salon.0001_initial" in report["unapplied_migrations"]
    assert "run `python manage.py migrate` next" in output
    # The sequences came along: the next id follows the copied rows.
    assert _sql(target, "INSERT INTO customer (email) VALUES ('new@example.com') "
                        "RETURNING id") == [(26,)]


@pytest.mark.django_db
def test_unreachable_source_is_one_clear_error_and_nothing_is_written(databases, monkeypatch):
    target = databases("target")
    error, report = _refused(monkeypatch, _url("legacy", port="1"), _url(target))
    assert error.returncode == EXIT_REFUSED
    assert str(error).startswith("The source database 127.0.0.1:1/legacy is unreachable")
    assert "Nothing was written" in str(error)
    assert report["status"] == "refused"
    assert _sql(target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


@pytest.mark.django_db
def test_missing_source_url_is_refused(databases, monkeypatch):
    error, _ = _refused(monkeypatch, "", _url(databases("target")))
    assert error.returncode == EXIT_REFUSED
    assert str(error) == "No source database URL was given."


@pytest.mark.django_db
def test_non_empty_target_is_refused_then_force_copies_over_it(databases, monkeypatch):
    legacy, target = _legacy(databases), databases("target")
    _sql(target, "CREATE TABLE leftover (id int)", "INSERT INTO leftover VALUES (1)")

    error, report = _refused(monkeypatch, _url(legacy), _url(target))
    assert error.returncode == EXIT_REFUSED
    assert "is not empty (1 relations in its public schema: public.leftover)" in str(error)
    assert "--force" in str(error)
    assert _sql(target, "SELECT count(*) FROM leftover") == [(1,)]  # untouched

    report, output = _import(monkeypatch, _url(legacy), _url(target), "--force")
    assert report["status"] == "ok", output
    assert report["tables"]["public.visit"] == {"source": 40, "target": 40}
    assert _sql(target, "SELECT to_regclass('public.leftover') IS NULL") == [(True,)]


@pytest.mark.django_db
def test_too_small_target_storage_is_refused(databases, monkeypatch):
    legacy, target = _legacy(databases), databases("target")
    error, _ = _refused(monkeypatch, _url(legacy), _url(target), "--target-storage-gb", "0.001")
    assert error.returncode == EXIT_REFUSED
    assert "more than the target's 0.001 GiB of allocated storage" in str(error)


@pytest.mark.parametrize(("source", "target", "client", "message"), [
    (16, 15, 16, "PostgreSQL 16, the target 15: a dump restores only into the same or a newer"),
    (16, 16, 15, "pg_dump must be at least the source's major version"),
])
def test_source_newer_than_the_target_or_the_client_is_refused(source, target, client, message):
    with pytest.raises(ImportRefused, match=message):
        check_versions(source, target, client, client)
    check_versions(15, 16, 16, 16)  # an upgrade on the way: accepted
