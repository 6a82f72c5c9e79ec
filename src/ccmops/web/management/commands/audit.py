"""`ccmops audit verify [--practice SLUG]`: recompute the audit log's keyed hash chains (one per practice, plus
chain 0 for events of no practice) and check them against the signed checkpoints; report any altered, deleted,
reordered, moved or truncated event. `ccmops audit checkpoint`: write a signed checkpoint of every chain head."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from ccmops.compliance.audit import checkpoint, verify_chain
from ccmops.compliance.audit_keys import checkpoints_file
from ccmops.organizations.models import Organization


class Command(BaseCommand):
    help = "Audit log tools. `verify` exits 1 when any event was altered, deleted, reordered or moved."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the hash chains (and against the signed checkpoints)")
        verify.add_argument("--practice", help="verify only this practice's chain (its slug)")
        sub.add_parser(
            "checkpoint",
            help="write a signed checkpoint of every chain head outside the database (run it from cron; ship the file)",
        )

    def handle(self, *args, action: str, practice: str | None = None, **options):
        if action == "checkpoint":
            record = checkpoint()
            self.stdout.write(
                f"audit checkpoint of {len(record['chains'])} chain(s) at {record['at']} written to "
                f"{checkpoints_file()} (key {record['key_id']})"
            )
            return
        practice_id = None
        if practice:
            org = Organization.objects.filter(slug=practice).first()
            if org is None:
                raise CommandError(f"--practice: no organization with slug {practice!r}")
            practice_id = org.id
        report = verify_chain(practice_id)
        where = f"{practice}'s chain" if practice else f"{report.chains} chain(s)"
        if report.ok:
            self.stdout.write(f"audit log intact: {report.checked} events in {where} verified")
            return
        for problem in report.problems:
            self.stdout.write(problem)
        self.stdout.write(
            f"audit log FAILED verification: {len(report.problems)} problem(s) in {report.checked} events ({where})"
        )
        sys.exit(1)
