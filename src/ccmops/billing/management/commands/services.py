"""`ccmops services import|list --practice SLUG`: services known to be billed elsewhere or outside ccmops."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from ccmops.billing.known import import_known_services
from ccmops.billing.models import KnownService
from ccmops.errors import CcmopsError, InvalidInput
from ccmops.organizations.models import User
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = (
        "Services known to be billed for a practice's patients besides its care-management claims (another "
        "practitioner's CCM, the practice's own TCM or PCM): import a CSV (mrn, code, date_of_service, optional "
        "practitioner_npi, source), all or nothing, or list them."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "list"])
        parser.add_argument("file", nargs="?", help="import: the CSV")
        parser.add_argument("--practice", required=True)
        parser.add_argument("--month", help="list: only services dated in this month (YYYY-MM)")
        parser.add_argument("--user", help="import: username recorded as having recorded them")
        parser.add_argument("--json", action="store_true", help="list: as JSON")

    def handle(self, *args, action, file, practice, month, user, **options):
        org = practice_by_ref(practice)
        try:
            if action == "import":
                if not file:
                    raise InvalidInput("file: give the CSV of known services")
                path = Path(file)
                if not path.is_file():
                    raise InvalidInput(f"file: {file} does not exist")
                by = User.objects.filter(username=user).first() if user else None
                if user and by is None:
                    raise InvalidInput(f"--user: no user {user!r}")
                done = import_known_services(
                    practice=org, text=path.read_text(encoding="utf-8-sig"), file_label=path.name, by=by
                )
                months = sorted({k.month for k in done.created})
                self.stdout.write(
                    f"{path.name}: {len(done.created)} service(s) recorded, {done.already_on_record} already on record"
                    + (f"; evaluate again: {', '.join(months)}" if months else "")
                )
                return
            services = (
                KnownService.objects.filter(practice=org).select_related("patient").order_by("date_of_service", "id")
            )
            if month:
                services = services.filter(date_of_service__startswith=month)
            rows = [
                {
                    "id": k.id,
                    "patient": str(k.patient),
                    "mrn": k.patient.mrn,
                    "code": k.code,
                    "date_of_service": k.date_of_service.isoformat(),
                    "practitioner_npi": k.practitioner_npi or None,
                    "source": k.source,
                    "withdrawn": k.withdrawn_at is not None,
                }
                for k in services
            ]
            if options.get("json"):
                self.stdout.write(json.dumps(rows, indent=1))
                return
            for r in rows:
                self.stdout.write(
                    f"{r['date_of_service']} {r['code']} {r['patient']} (MRN {r['mrn']}) "
                    f"NPI {r['practitioner_npi'] or 'not known'}: {r['source']}"
                    + (" [withdrawn]" if r["withdrawn"] else "")
                )
            self.stdout.write(f"{len(rows)} known service(s)")
        except CcmopsError as exc:
            self.stderr.write(str(exc))
            sys.exit(exc.exit_code if exc.exit_code != 1 else 2)
