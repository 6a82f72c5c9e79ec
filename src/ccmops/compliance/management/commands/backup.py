"""`ccmops backup FILE`: a consistent, verified snapshot of the embedded SQLite database, taken online."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand

from ccmops.compliance.audit import record_audit
from ccmops.compliance.backup import backup_database
from ccmops.compliance.models import AuditAction


class Command(BaseCommand):
    help = "Back up the SQLite database to FILE (never overwrites). PostgreSQL: pg_dump, see docs/security.md."

    def add_arguments(self, parser):
        parser.add_argument("file", help="new file to write, e.g. var/backups/ccmops-2026-11-27.sqlite3")

    def handle(self, *args, file: str, **options):
        # Recorded first, so the backup itself carries the event that it was taken.
        record_audit(
            action=AuditAction.EXPORT,
            username=f"cli:{getpass.getuser()}",
            object_type="database",
            object_id="backup",
            detail={"file": str(Path(file).resolve())},
        )
        r = backup_database(Path(file))
        self.stdout.write(
            f"backed up to {r.path}: {r.bytes:,} bytes, {r.tables} tables, {r.rows:,} rows, "
            f"{r.audit_events:,} audit events (integrity check ok)"
        )
