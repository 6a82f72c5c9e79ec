"""`ccmops audit verify`: recompute the audit log's hash chain and report any altered or deleted event."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from ccmops.compliance.audit import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `verify` exits 1 when any event was altered, deleted or reordered."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chain")

    def handle(self, *args, action: str, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"audit log intact: {report.checked} events verified")
            return
        for problem in report.problems:
            self.stdout.write(problem)
        self.stdout.write(
            f"audit log FAILED verification: {len(report.problems)} problem(s) in {report.checked} events"
        )
        sys.exit(1)
