"""manage.py check_recovery --host <restored endpoint>: the disaster-recovery drill's check.

Prints one line ``RECOVERY_REPORT {json}`` (the drill reads it from the task's log stream) and
exits non-zero when the restored database cannot serve the app.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from recovery.services import RecoveryCheckError, check_restored_database

REPORT_PREFIX = "RECOVERY_REPORT "


class Command(BaseCommand):
    help = "Check that a restored copy of the database (at --host) can serve this release."

    def add_arguments(self, parser):
        parser.add_argument("--host", required=True, help="the restored instance's endpoint")
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--timeout", type=float, default=300,
                            help="seconds to wait for the database to answer")

    def handle(self, *args, **options):
        try:
            report = check_restored_database(options["host"], options["port"],
                                             options["timeout"])
        except RecoveryCheckError as error:
            self.stdout.write(REPORT_PREFIX + json.dumps(
                {"host": options["host"], "ok": False, "error": str(error)}))
            raise CommandError(str(error)) from error
        self.stdout.write(REPORT_PREFIX + json.dumps(report.as_dict(), sort_keys=True))
        if not report.ok:
            raise CommandError(
                "the restored database cannot serve this release: "
                f"{report.check_errors or report.unapplied_migrations}")
