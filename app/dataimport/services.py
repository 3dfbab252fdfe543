"""Copy an existing PostgreSQL database into this app's database (manage.py import_database).

``database_import`` does the whole job in three phases, and each failure is one clear message
(``ImportRefused`` before anything is written, ``ImportFailed`` during the copy):

1. Preflight, read-only: both servers reachable; their major versions compatible (source <=
   target, source <= this pg_dump); the target empty (no relation in its ``public`` schema)
   unless ``force``; the source fits the target's allocated storage when it is given. What cannot
   be told from here: the target's real free space (RDS reports it only as the CloudWatch metric
   FreeStorageSpace) and the dump's size before it is written (compressed, without indexes).
2. Copy: ``pg_dump -Fc`` of the source into ``work_dir`` (Fargate's writable /tmp volume), in the
   very snapshot the source's rows are counted in (``pg_export_snapshot``), then
   ``pg_restore --jobs N --no-owner --no-acl --exit-on-error`` into the target, and ANALYZE.
   With ``force`` the target's ``public`` schema is dropped and made again first.
3. Verify: exact row counts per table, source (in the dump's snapshot) against target; the
   migrations of this release the target has not applied (``migrate --check``).

Connection secrets reach pg_dump and pg_restore as libpq environment variables (PGPASSWORD...),
never on a command line, and no message or report carries a password.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg import sql

CONNECT_TIMEOUT = 10
# libpq's URL query parameters passed on to pg_dump/pg_restore as their environment variables.
_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}
# Relations that make a database "not empty": tables, partitioned tables, views, materialized
# views, sequences, foreign tables.
_RELATION_KINDS = ("r", "p", "v", "m", "S", "f")
# Headroom on the target for the restore: indexes are rebuilt, and WAL and the server need room.
STORAGE_HEADROOM = 1.2


class ImportRefused(Exception):
    """A preflight check failed: nothing was written."""


class ImportFailed(Exception):
    """The copy itself failed (pg_dump, pg_restore or the cleaning of the target)."""


@dataclass(frozen=True)
class Database:
    """A PostgreSQL URL, split for libpq; ``label`` names it without its password."""

    url: str
    host: str
    port: int
    name: str
    user: str
    password: str
    query: dict[str, str]

    @classmethod
    def from_url(cls, url: str, role: str) -> Database:
        if not url:
            raise ImportRefused(f"No {role} database URL was given.")
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise ImportRefused(
                f"The {role} database URL must be postgres://user:password@host:port/name; "
                f"its scheme is {parts.scheme or 'missing'!r}.")
        name = unquote(parts.path.lstrip("/"))
        try:
            port = parts.port or 5432
        except ValueError as error:
            raise ImportRefused(f"The {role} database URL has a bad port: {error}.") from None
        if not parts.hostname or not name:
            raise ImportRefused(
                f"The {role} database URL must name a host and a database "
                f"(postgres://user:password@host:port/name).")
        return cls(url=url, host=parts.hostname, port=port, name=name,
                   user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                   query=dict(parse_qsl(parts.query)))

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}/{self.name}"

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        params = {"host": self.host, "port": self.port, "dbname": self.name,
                  "connect_timeout": CONNECT_TIMEOUT, **self.query, **kwargs}
        if self.user:
            params["user"] = self.user
        if self.password:
            params["password"] = self.password
        return psycopg.connect(**params)

    def libpq_env(self) -> dict[str, str]:
        """The environment pg_dump and pg_restore connect with (no secret in their argv)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update({"PGHOST": self.host, "PGPORT": str(self.port), "PGDATABASE": self.name,
                    "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT)})
        if self.user:
            env["PGUSER"] = self.user
        if self.password:
            env["PGPASSWORD"] = self.password
        for key, value in self.query.items():
            if key in _QUERY_ENV:
                env[_QUERY_ENV[key]] = value
        return env


@dataclass
class ImportReport:
    """What the import found and did; ``as_dict`` is the JSON report."""

    status: str = "refused"  # refused, failed, mismatch, ok
    error: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict[str, int | None]] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    unapplied_migrations: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "error": self.error, "source": self.source,
            "target": self.target, "checks": self.checks, "tables": self.tables,
            "mismatches": self.mismatches, "unapplied_migrations": self.unapplied_migrations,
            "seconds": self.seconds,
        }

    def summary(self) -> list[str]:
        """The report for a human, a line each."""
        lines = [f"Import {self.status}: {self.source.get('label', '?')} "
                 f"(PostgreSQL {self.source.get('major', '?')}) -> "
                 f"{self.target.get('label', '?')} (PostgreSQL {self.target.get('major', '?')})."]
        if self.error:
            lines.append(self.error)
        if self.tables:
            rows = sum(count["source"] or 0 for count in self.tables.values())
            lines.append(f"{len(self.tables)} tables, {rows} rows in the source; "
                         f"{len(self.mismatches)} with a different count in the target.")
        for name in self.mismatches:
            counts = self.tables[name]
            lines.append(f"  {name}: source {counts['source']}, target {counts['target']}")
        if self.unapplied_migrations:
            lines.append(f"The target lacks {len(self.unapplied_migrations)} migrations of this "
                         f"release ({', '.join(self.unapplied_migrations[:5])}"
                         f"{', ...' if len(self.unapplied_migrations) > 5 else ''}): "
                         "run `python manage.py migrate` next.")
        for note in self.checks.get("notes", []):
            lines.append(f"Note: {note}")
        return lines


Runner = Callable[..., subprocess.CompletedProcess]


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def client_major(program: str = "pg_dump", run: Runner = _run) -> int:
    """The major version of the installed pg_dump ("pg_dump (PostgreSQL) 15.10 (Debian ...)")."""
    if shutil.which(program) is None:
        raise ImportRefused(f"{program} is not installed: the PostgreSQL client is needed.")
    done = run([program, "--version"], env=dict(os.environ))
    found = re.search(r"\)\s+(\d+)", done.stdout or "")
    if done.returncode != 0 or not found:
        raise ImportRefused(f"Could not read the version of {program}: {done.stdout.strip()}")
    return int(found.group(1))


def _connect(database: Database, role: str, **kwargs: Any) -> psycopg.Connection:
    try:
        return database.connect(**kwargs)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ImportRefused(
            f"The {role} database {database.label} is unreachable: {reason}. "
            "Nothing was written.") from None


def _one(connection: psycopg.Connection, query: str | sql.Composable, *args: Any) -> Any:
    return connection.execute(query, args or None).fetchone()[0]


def _relations(connection: psycopg.Connection, schemas: tuple[str, ...] | None = None,
               kinds: tuple[str, ...] = _RELATION_KINDS) -> list[tuple[str, str]]:
    """(schema, name) of the user relations of the given kinds, sorted."""
    query = """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = ANY(%s)
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%%' AND n.nspname NOT LIKE 'pg_toast_temp%%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
          AND (%s::text[] IS NULL OR n.nspname = ANY(%s::text[]))
        ORDER BY 1, 2"""
    names = list(schemas) if schemas else None
    return [tuple(row) for row in connection.execute(query, (list(kinds), names, names))]


def _count_rows(connection: psycopg.Connection, tables: list[tuple[str, str]]) -> dict[str, int]:
    return {f"{schema}.{name}": _one(connection, sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)))
            for schema, name in tables}


def _server(connection: psycopg.Connection, database: Database) -> dict[str, Any]:
    number = int(_one(connection, "SHOW server_version_num"))
    return {"label": database.label, "version": _one(connection, "SHOW server_version"),
            "major": number // 10000,
            "size_bytes": int(_one(connection, "SELECT pg_database_size(current_database())"))}


def check_versions(source_major: int, target_major: int, dump_major: int,
                   restore_major: int) -> None:
    """A dump restores into the same or a newer server; pg_dump must be at least the source's."""
    if source_major > target_major:
        raise ImportRefused(
            f"The source runs PostgreSQL {source_major}, the target {target_major}: a dump "
            "restores only into the same or a newer major version. Upgrade the target first. "
            "Nothing was written.")
    if source_major > min(dump_major, restore_major):
        raise ImportRefused(
            f"The source runs PostgreSQL {source_major}, this image's client is "
            f"pg_dump {dump_major}: pg_dump must be at least the source's major version. "
            "Nothing was written.")


def preflight(source: Database, target: Database, *, force: bool,
              target_storage_gb: float | None, work_dir: Path, report: ImportReport,
              dump_major: int, restore_major: int) -> None:
    """Every check before anything is written; raises ImportRefused with one message."""
    notes: list[str] = []
    with _connect(source, "source") as src:
        report.source = _server(src, source)
    with _connect(target, "target") as dst:
        report.target = _server(dst, target)
        occupied = _relations(dst, schemas=("public",))
    report.checks.update({"pg_dump_major": dump_major, "pg_restore_major": restore_major,
                          "target_relations": len(occupied), "force": force})
    check_versions(report.source["major"], report.target["major"], dump_major, restore_major)
    if occupied and not force:
        shown = ", ".join(f"{schema}.{name}" for schema, name in occupied[:5])
        raise ImportRefused(
            f"The target database {target.label} is not empty ({len(occupied)} relations in "
            f"its public schema: {shown}{', ...' if len(occupied) > 5 else ''}). Nothing was "
            "written. Run again with --force to drop its public schema and copy over it.")
    needed = int(report.source["size_bytes"] * STORAGE_HEADROOM)
    if target_storage_gb:
        allocated = int(target_storage_gb * 1024**3)
        report.checks["target_allocated_bytes"] = allocated
        if needed > allocated:
            raise ImportRefused(
                f"The source database is {report.source['size_bytes'] / 1024**3:.1f} GiB; with "
                f"{STORAGE_HEADROOM:.0%} for indexes and WAL that is more than the target's "
                f"{target_storage_gb:g} GiB of allocated storage. Grow the target first. "
                "Nothing was written.")
        notes.append("the target's allocated storage was checked against the source's size; "
                     "its free space (CloudWatch FreeStorageSpace) was not")
    else:
        notes.append("the target's storage was not checked (no --target-storage-gb)")
    if not work_dir.is_dir() or not os.access(work_dir, os.W_OK):
        raise ImportRefused(f"The dump directory {work_dir} is not a writable directory. "
                            "Nothing was written.")
    free = shutil.disk_usage(work_dir).free
    report.checks["work_dir_free_bytes"] = free
    if free < report.source["size_bytes"]:
        notes.append(f"{work_dir} has {free} bytes free, less than the source's "
                     f"{report.source['size_bytes']}: the dump is compressed and has no indexes, "
                     "so it may fit; the dump fails cleanly if it does not")
    report.checks["notes"] = notes


def _clean_target(target: Database) -> None:
    """--force: the target's public schema dropped with everything in it, and made again."""
    try:
        with target.connect(autocommit=True) as dst:
            dst.execute("DROP SCHEMA IF EXISTS public CASCADE")
            dst.execute("CREATE SCHEMA public")
    except psycopg.Error as error:
        raise ImportFailed(f"Could not clean the target's public schema: {error}") from None


def _check(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        lines = [line for line in (done.stderr or "").strip().splitlines() if line.strip()]
        tail = " | ".join(lines[-5:]) or f"exit code {done.returncode}"
        raise ImportFailed(f"{what} failed: {tail}")


@contextmanager
def _source_snapshot(source: Database) -> Iterator[tuple[psycopg.Connection, str | None]]:
    """A repeatable-read transaction on the source and its exported snapshot (pg_dump --snapshot
    dumps exactly what this transaction sees); None where the server cannot export one."""
    connection = _connect(source, "source")
    try:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            snapshot = _one(connection, "SELECT pg_export_snapshot()")
        except psycopg.Error:
            connection.rollback()
            connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = None
        yield connection, snapshot
    finally:
        connection.rollback()
        connection.close()


def _unapplied_migrations(target: Database) -> list[str]:
    """What `manage.py migrate --check` would apply on the target, as "app.migration"."""
    import environ
    from django.db.migrations.executor import MigrationExecutor
    from django.db.utils import ConnectionHandler

    handler = ConnectionHandler({"default": environ.Env.db_url_config(target.url)})
    connection = handler["default"]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    finally:
        connection.close()


def database_import(*, source_url: str, target_url: str, force: bool = False, jobs: int = 2,
                    target_storage_gb: float | None = None, work_dir: str | Path | None = None,
                    run: Runner = _run, report: ImportReport | None = None) -> ImportReport:
    """Copy the source database into the target and verify it (see the module's docstring).

    Returns the report (status ``ok`` or ``mismatch``); raises ImportRefused or ImportFailed with
    the report's ``status`` and ``error`` filled in.
    """
    report = report if report is not None else ImportReport()
    started = time.monotonic()
    try:
        source = Database.from_url(source_url, "source")
        target = Database.from_url(target_url, "target")
        if (source.host, source.port, source.name) == (target.host, target.port, target.name):
            raise ImportRefused(f"The source and the target are the same database "
                                f"({source.label}). Nothing was written.")
        if jobs < 1:
            raise ImportRefused(f"--jobs must be at least 1, not {jobs}.")
        directory = Path(work_dir or tempfile.gettempdir())
        preflight(source, target, force=force, target_storage_gb=target_storage_gb,
                  work_dir=directory, report=report, dump_major=client_major("pg_dump", run),
                  restore_major=client_major("pg_restore", run))
    except ImportRefused as error:
        report.status, report.error = "refused", str(error)
        raise
    report.seconds["preflight"] = round(time.monotonic() - started, 2)

    report.status = "failed"
    try:
        with tempfile.TemporaryDirectory(prefix="import-", dir=directory) as scratch, \
                _source_snapshot(source) as (src, snapshot):
            dump = Path(scratch) / "source.dump"
            mark = time.monotonic()
            argv = ["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={dump}"]
            if snapshot:
                argv.append(f"--snapshot={snapshot}")
            _check(run(argv, env=source.libpq_env()), "pg_dump of the source")
            report.source["dump_bytes"] = dump.stat().st_size
            report.checks["same_snapshot"] = snapshot is not None
            tables = _relations(src, kinds=("r", "p"))
            source_counts = _count_rows(src, tables)
            report.seconds["dump"] = round(time.monotonic() - mark, 2)

            if force:
                _clean_target(target)
            mark = time.monotonic()
            # Comments on extensions need their owner (on RDS, rdsadmin owns plpgsql): skipped.
            listing = run(["pg_restore", "--list", str(dump)], env=target.libpq_env())
            _check(listing, "Reading the dump's table of contents")
            entries = Path(scratch) / "restore.list"
            entries.write_text("".join(line + "\n" for line in listing.stdout.splitlines()
                                       if " COMMENT - EXTENSION " not in line))
            _check(run(["pg_restore", f"--jobs={jobs}", "--no-owner", "--no-acl",
                        "--exit-on-error", f"--use-list={entries}", f"--dbname={target.name}",
                        str(dump)], env=target.libpq_env()),
                   "pg_restore into the target")
            report.seconds["restore"] = round(time.monotonic() - mark, 2)
    except (ImportFailed, ImportRefused) as error:
        report.error = str(error)
        raise ImportFailed(str(error)) from None
    except psycopg.Error as error:
        report.error = f"The copy failed: {error}"
        raise ImportFailed(report.error) from None

    mark = time.monotonic()
    with _connect(target, "target", autocommit=True) as dst:
        dst.execute("ANALYZE")
        target_tables = set(_relations(dst, kinds=("r", "p")))
        target_counts = _count_rows(dst, [t for t in tables if t in target_tables])
    report.tables = {name: {"source": count, "target": target_counts.get(name)}
                     for name, count in source_counts.items()}
    report.mismatches = [name for name, counts in report.tables.items()
                         if counts["source"] != counts["target"]]
    report.unapplied_migrations = _unapplied_migrations(target)
    report.seconds["verify"] = round(time.monotonic() - mark, 2)
    report.seconds["total"] = round(time.monotonic() - started, 2)
    report.status = "mismatch" if report.mismatches else "ok"
    if report.mismatches:
        report.error = (f"{len(report.mismatches)} tables have other row counts in the target "
                        f"than in the source: {', '.join(report.mismatches[:5])}")
    return report
