"""manage.py import_database: copy an existing PostgreSQL database into this app's database.

The work is dataimport.services.database_import; this command reads the options, prints a human
summary and, last, the JSON report on one line of stdout ({"import_database_report": {...}}),
whatever the outcome. Exit codes: 0 copied and verified, 1 the copy failed, 2 refused by the
preflight (nothing written), 3 copied but the row counts differ.
"""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError

from dataimport.services import ImportFailed, ImportRefused, ImportReport, database_import

REPORT_KEY = "import_database_report"
EXIT_FAILED, EXIT_REFUSED, EXIT_MISMATCH = 1, 2, 3


class Command(BaseCommand):
    help = (
        "Copy the PostgreSQL database at SOURCE_DATABASE_URL into DATABASE_URL's (pg_dump -Fc, "
        "pg_restore --jobs), then compare row counts per table. Refuses a non-empty target "
        "unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source-env", default="SOURCE_DATABASE_URL",
            help="Environment variable holding the source URL (default SOURCE_DATABASE_URL).")
        parser.add_argument(
            "--target-env", default="DATABASE_URL",
            help="Environment variable holding the target URL (default DATABASE_URL).")
        parser.add_argument(
            "--force", action="store_true",
            help="Drop the target's public schema (everything in it) before the copy.")
        parser.add_argument(
            "--jobs", type=int, default=int(os.environ.get("IMPORT_JOBS", "2")),
            help="Parallel jobs of pg_restore (default IMPORT_JOBS or 2).")
        parser.add_argument(
            "--target-storage-gb", type=float,
            default=float(os.environ["TARGET_STORAGE_GB"]) if os.environ.get(
                "TARGET_STORAGE_GB") else None,
            help="The target's allocated storage in GiB (default TARGET_STORAGE_GB): the "
                 "source must fit in it.")
        parser.add_argument(
            "--work-dir", default=os.environ.get("TMPDIR") or "/tmp",
            help="Writable directory for the dump (default TMPDIR or /tmp).")

    def handle(self, *args, **options):
        report = ImportReport()
        code = 0
        try:
            database_import(
                source_url=os.environ.get(options["source_env"], ""),
                target_url=os.environ.get(options["target_env"], ""),
                force=options["force"], jobs=options["jobs"],
                target_storage_gb=options["target_storage_gb"], work_dir=options["work_dir"],
                report=report)
        except ImportRefused:
            code = EXIT_REFUSED
        except ImportFailed:
            code = EXIT_FAILED
        else:
            code = EXIT_MISMATCH if report.mismatches else 0
        for line in report.summary():
            self.stdout.write(line)
        self.stdout.write(json.dumps({REPORT_KEY: report.as_dict()}, sort_keys=True))
        if code:
            raise CommandError(report.error, returncode=code)
