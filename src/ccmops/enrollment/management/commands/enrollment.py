"""`ccmops enrollment import FILE --practice SLUG`: bulk enrollment statuses from an EHR export."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from ccmops.enrollment.bulk import COLUMNS, import_statuses
from ccmops.errors import InvalidInput
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = f"Import enrollment statuses (CSV columns: {', '.join(COLUMNS)}); all or nothing."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file", type=Path)
        imp.add_argument("--practice", required=True)
        imp.add_argument("--user")

    def handle(self, *args, action, file: Path, practice, user, **options):
        org = practice_by_ref(practice)
        by = User.objects.filter(username=user).first() if user else None
        try:
            n = import_statuses(practice=org, text=file.read_text(encoding="utf-8"), file_label=file.name, by=by)
        except InvalidInput as exc:
            self.stderr.write(f"{file.name}: rejected, nothing imported:\n{exc}")
            sys.exit(2)
        self.stdout.write(f"{file.name}: {n} enrollment statuses imported into {org.name}")
