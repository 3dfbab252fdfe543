"""What a disaster-recovery drill asks of a restored database: does it answer the app?

The restored instance is a copy of the environment's database (same master user and password,
same database name) at another address, so the check connects with the app's own settings and
only the host (and port) changed, as a connection of its own (alias ``recovery``). It answers:
when the database first accepted a connection, whether Django's system checks pass against it,
whether every migration of this release is applied, and a few sanity counts (salons,
appointments created in the last day).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from appointment.models import Appointment
from django.core import checks
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import ConnectionDoesNotExist, OperationalError
from salon.models import Salon

ALIAS = "recovery"


class RecoveryCheckError(Exception):
    """The restored database cannot serve the app."""


@dataclass
class RecoveryReport:
    host: str
    answered_at: str = ""  # UTC, ISO 8601: when the database first accepted a connection
    waited_seconds: float = 0.0
    check_errors: list[str] = field(default_factory=list)
    unapplied_migrations: list[str] = field(default_factory=list)
    salons: int = 0
    appointments_last_day: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.answered_at) and not self.check_errors and not self.unapplied_migrations

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def use_restored_database(host: str, port: int | None = None) -> None:
    """Register the restored database as the connection ``recovery``: the app's settings with
    its host (and port) replaced."""
    settings = dict(connections.settings["default"])
    settings["HOST"] = host
    if port:
        settings["PORT"] = port
    settings["CONN_MAX_AGE"] = 0
    # A connection made with earlier settings goes; the production settings have no such alias.
    with contextlib.suppress(ConnectionDoesNotExist, AttributeError):
        connections[ALIAS].close()
        del connections[ALIAS]
    connections.settings[ALIAS] = settings


def wait_until_answering(timeout: float, poll: float = 2.0) -> float:
    """Seconds until the restored database accepts a connection; RecoveryCheckError after
    `timeout` seconds."""
    started = time.monotonic()
    while True:
        try:
            connections[ALIAS].ensure_connection()
            return time.monotonic() - started
        except OperationalError as error:
            if time.monotonic() - started >= timeout:
                raise RecoveryCheckError(
                    f"the restored database did not answer within {timeout:.0f} s: {error}"
                ) from error
            connections[ALIAS].close()
            time.sleep(poll)


def unapplied_migrations() -> list[str]:
    """Migrations of this release the restored database has not applied."""
    connection = connections[ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_restored_database(host: str, port: int | None = None,
                            timeout: float = 300) -> RecoveryReport:
    """The drill's check of the restored database at `host`."""
    use_restored_database(host, port)
    report = RecoveryReport(host=host)
    report.waited_seconds = round(wait_until_answering(timeout), 1)
    report.answered_at = datetime.now(UTC).isoformat(timespec="seconds")
    report.check_errors = [
        f"{message.id}: {message.msg}"
        for message in checks.run_checks(databases=[ALIAS], include_deployment_checks=False)
        if message.level >= checks.ERROR
    ]
    report.unapplied_migrations = unapplied_migrations()
    report.salons = Salon.objects.using(ALIAS).count()
    since = datetime.now(UTC) - timedelta(days=1)
    report.appointments_last_day = (
        Appointment.objects.using(ALIAS).filter(created_at__gte=since).count()
    )
    return report
