"""`ccmops rules load-fees FILE --year YYYY [--qp-conversion-factor CF]` and `ccmops rules fees`: load CMS's
Physician Fee Schedule relative value file (PPRRVU CSV) for a rule year, and list what prices each year
(R-2027-3). Reached as `ccmops fees load|list` too."""

from __future__ import annotations

import getpass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ccmops.billing.fees import fee_rows, load_fee_file
from ccmops.errors import InvalidInput


class Command(BaseCommand):
    help = "Load a CMS PPRRVU fee file for a rule year, or list what prices each year."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load a PPRRVU CSV for a year")
        load.add_argument("file")
        load.add_argument("--year", type=int, required=True)
        load.add_argument(
            "--qp-conversion-factor", default=None, help="the year's QP conversion factor (CMS's QPP file)"
        )
        sub.add_parser("list", help="what prices each rule year")

    def handle(self, *args, action, **options):
        if action == "list":
            for row in fee_rows():
                state = "provisional" if row["provisional"] else "final"
                self.stdout.write(f"CY{row['year']}: {row['in_force']} — CF {row['conversion_factor']} ({state})")
                for r in row["releases"]:
                    self.stdout.write(f"    loaded {r.loaded_at:%Y-%m-%d %H:%M} by {r.loaded_by or 'cli'}: {r.source}")
            return
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        qp = options["qp_conversion_factor"]
        try:
            qp_value = Decimal(qp) if qp is not None else None
        except InvalidOperation:
            raise CommandError(f"--qp-conversion-factor: expected dollars such as 33.5675, got {qp!r}") from None
        try:
            release = load_fee_file(
                text=text,
                name=path.name,
                year=options["year"],
                qp_conversion_factor=qp_value,
                actor=f"cli:{getpass.getuser()}",
            )
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"CY{release.year}: {release.source} loaded — {len(release.nonfacility_rvu)} codes, CF "
            f"{release.conversion_factor} (QP {release.conversion_factor_qp}). Open {release.year} months are priced "
            "with it at their next evaluation; closed months keep their amounts."
        )
