"""`ccmops generate population --patients N [--seed S] [--out DIR]`: synthetic Bulk FHIR NDJSON."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ccmops.interop.generator import generate_population


class Command(BaseCommand):
    help = "Generate a synthetic population as Bulk FHIR NDJSON (deterministic by seed)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        pop = sub.add_parser("population", help="patients with conditions, encounters and coverage")
        pop.add_argument("--patients", type=int, required=True)
        pop.add_argument("--seed", type=int, default=1)
        pop.add_argument("--out", type=Path, default=None, help="directory (default: DATA_DIR/generated/seed-S-N)")
        pop.add_argument("--as-of", default="2026-11-01", help="reference date of the data (YYYY-MM-DD)")
        pop.add_argument("--npi", action="append", default=[], help="practitioner NPI for visits (repeatable)")

    def handle(self, *args, what, patients, seed, out, as_of, npi, **options):
        if patients < 1:
            raise CommandError("--patients: expected a positive number")
        try:
            as_of_date = dt.date.fromisoformat(as_of)
        except ValueError:
            raise CommandError(f"--as-of: expected YYYY-MM-DD, got {as_of!r}") from None
        out = out or Path(settings.CCMOPS_DATA_DIR) / "generated" / f"seed-{seed}-{patients}"
        counts = generate_population(out, patients=patients, seed=seed, as_of=as_of_date, npis=tuple(npi))
        self.stdout.write(
            f"wrote {counts.resources:,} resources to {out}: {counts.patients:,} patients, "
            f"{counts.conditions:,} conditions, {counts.encounters:,} encounters, {counts.coverages:,} coverages"
        )
