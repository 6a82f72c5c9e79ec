"""`ccmops export fhir --practice SLUG --out DIR`: a practice's CCM record as a FHIR Bulk Data export (NDJSON per
resource type), for its EHR, a new partner or another system; audited as an export of the whole practice."""

from __future__ import annotations

import getpass
import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.interop.fhir_export import export_practice
from ccmops.interop.jobs import start_fhir_export
from ccmops.jobs.follow import describe, queued
from ccmops.jobs.service import raise_failure
from ccmops.organizations.services import practice_by_ref


class Command(BaseCommand):
    help = "Export a practice's CCM record (patients, conditions, consents, care plans, goals) as Bulk FHIR NDJSON."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        fhir = sub.add_parser("fhir", help="FHIR R4 NDJSON, one file per resource type, validated")
        fhir.add_argument("--practice", required=True, help="the practice's slug or id")
        fhir.add_argument("--out", type=Path, required=True, help="directory to write (created if missing)")
        fhir.add_argument("--queue", action="store_true", help="run it as a job of the background workers")
        fhir.add_argument("--wait", action="store_true", help="with --queue: follow the job, then unpack into --out")

    def handle(self, *args, what: str, practice: str, out: Path, **options):
        chosen = practice_by_ref(practice)
        if options.get("queue"):
            job = queued(
                start_fhir_export(practice=chosen, by=None, run_here=False), wait=options["wait"], out=self.stdout
            )
            if job is None:
                return
            raise_failure(job)
            out.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(job.file_path) as z:
                z.extractall(out)
            self.stdout.write(f"{describe(job)}\nunpacked into {out}")
            return

        def progress(done: int, total: int) -> None:
            if done % 1000 == 0 or done == total:
                self.stderr.write(f"  {done:,} of {total:,} patients")

        counts = export_practice(chosen, out, progress=progress)
        with transaction.atomic():
            record_audit(
                action=AuditAction.EXPORT,
                username=f"cli:{getpass.getuser()}",
                practice_id=chosen.id,
                object_type="fhir_export",
                object_id=chosen.slug,
                detail={"folder": str(out), "counts": counts},
            )
        shown = ", ".join(f"{n:,} {t}" for t, n in counts.items())
        self.stdout.write(f"wrote {shown} to {out}")
