"""`ccmops restore FILE --yes`: replace the SQLite database with a verified backup (the old one is kept)."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ccmops.compliance.audit import record_audit, verify_chain
from ccmops.compliance.backup import restore_database
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Restore the SQLite database from a `ccmops backup` file. The current database is saved beside it "
        "first. Stop the server before restoring. PostgreSQL: pg_restore, see docs/security.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="backup file written by `ccmops backup`")
        parser.add_argument("--yes", action="store_true", help="confirm replacing the current database")

    def handle(self, *args, file: str, yes: bool, **options):
        if not yes:
            raise InvalidInput("--yes: restoring replaces every record in the current database; confirm with --yes")
        r, saved = restore_database(Path(file))
        chain = verify_chain()
        if not chain.ok:  # never run on a log that fails verification: put the previous database back
            restore_database(saved)
            listed = "\n".join(chain.problems[:20])
            raise CommandError(
                f"{file}: its audit log fails verification ({len(chain.problems)} problem(s)); the previous database "
                f"was put back (also saved at {saved}).\n{listed}"
            )
        record_audit(
            action=AuditAction.UPDATE,
            username=f"cli:{getpass.getuser()}",
            object_type="database",
            object_id="restore",
            detail={"from": str(Path(file).resolve()), "previous_saved_to": str(saved), "chain_ok": chain.ok},
        )
        self.stdout.write(
            f"restored {r.rows:,} rows in {r.tables} tables from {file}; previous database saved to {saved}; "
            + (
                f"audit log intact ({chain.checked:,} events)"
                if chain.ok
                else f"audit log has {len(chain.problems)} problem(s): run `ccmops audit verify`"
            )
        )
