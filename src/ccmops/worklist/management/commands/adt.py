"""`ccmops adt import FILE --practice SLUG`: care transitions from an HL7 v2 ADT file (A01, A03, A04)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from ccmops.errors import InvalidInput
from ccmops.organizations.services import practice_by_ref
from ccmops.worklist.adt import import_adt


class Command(BaseCommand):
    help = "Import care transitions (ED visits, admissions, discharges) from an HL7 v2 ADT file; all or nothing."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file", type=Path)
        imp.add_argument("--practice", required=True)

    def handle(self, *args, action, file: Path, practice, **options):
        org = practice_by_ref(practice)
        try:
            n = import_adt(practice=org, text=file.read_text(encoding="utf-8", errors="replace"), file_label=file.name)
        except InvalidInput as exc:
            self.stderr.write(f"{file.name}: rejected, nothing imported:\n{exc}")
            sys.exit(2)
        self.stdout.write(f"{file.name}: {n} care transitions recorded in {org.name}, each with a follow-up task")
