"""`ccmops screen --practice SLUG [--json] [--on DATE]`: eligibility screening and risk ranking."""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from ccmops.enrollment.jobs import start_screening
from ccmops.enrollment.screening import screen_practice
from ccmops.jobs.follow import describe, queued
from ccmops.organizations.services import practice_by_ref
from ccmops.patients.models import ScreeningResult


class Command(BaseCommand):
    help = "Screen a practice's patients for CCM, PCM and APCM; rank eligible patients by risk."

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True)
        parser.add_argument("--on", help="screening date YYYY-MM-DD (default today)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="print every result as JSON")
        parser.add_argument("--top", type=int, default=15, help="candidates to list (text output)")
        parser.add_argument(
            "--workers", type=int, default=1, help="processes screening in parallel (PostgreSQL; default 1)"
        )
        parser.add_argument("--queue", action="store_true", help="hand the screening to the background workers")
        parser.add_argument("--wait", action="store_true", help="with --queue: follow the job with a progress bar")

    def handle(self, *args, practice, on, as_json: bool, top: int, workers: int, **options):
        org = practice_by_ref(practice)
        if options.get("queue"):
            job = queued(start_screening(practice=org, by=None, run_here=False), wait=options["wait"], out=self.stdout)
            if job is None:
                return
            self.stdout.write(describe(job))
            if job.status == "failed":
                raise CommandError(job.error)
            return
        try:
            day = dt.date.fromisoformat(on) if on else None
        except ValueError:
            raise CommandError(f"--on: expected YYYY-MM-DD, got {on!r}") from None
        if workers < 1:
            raise CommandError(f"--workers: expected 1 or more, got {workers}")
        summary = screen_practice(practice=org, on=day, workers=workers)
        rows = ScreeningResult.objects.filter(practice=org).select_related("patient").order_by("-risk_score")
        if as_json:
            out = {
                "practice": org.slug,
                "patients": summary.patients,
                "changed": summary.changed,
                "counts": summary.counts,
                "results": [
                    {
                        "patient_id": r.patient_id,
                        "mrn": r.patient.mrn,
                        "name": r.patient.full_name,
                        "ccm": r.ccm,
                        "pcm": r.pcm,
                        "apcm": r.apcm,
                        "conditions": r.conditions,
                        "initiating_visit_needed": r.initiating_visit_needed,
                        "risk_score": r.risk_score,
                        "risk": r.risk,
                        "reasons": r.reasons,
                    }
                    for r in rows.iterator(chunk_size=2000)
                ],
            }
            sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")
            return
        console = Console()
        counts = summary.counts
        by = f" by {summary.processes} processes" if summary.processes > 1 else ""
        console.print(
            f"[bold]{org.name}[/bold]: {summary.patients:,} patients screened{by}, "
            f"{summary.changed:,} results new or changed"
        )
        for program in ("ccm", "pcm", "apcm"):
            parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(counts[program].items()))
            console.print(f"  {program.upper()}: {parts}")
        table = Table(title=f"Top {top} CCM candidates by risk")
        for col in ("MRN", "Patient", "Risk", "HCC RAF", "Conditions", "Initiating visit"):
            table.add_column(col)
        for r in rows.filter(ccm="eligible")[:top]:
            table.add_row(
                r.patient.mrn,
                r.patient.full_name,
                f"{r.risk_score:.2f}",
                f"{r.risk.get('raf', 0):.2f}",
                ", ".join(r.conditions),
                "needed" if r.initiating_visit_needed else "not needed",
            )
        console.print(table)
