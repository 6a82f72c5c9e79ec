"""Screening as a job: from the candidates page, the API and the CLI, and every night for each practice with
patients (new diagnoses, a birthday into Medicare age, coverage changes are picked up without anyone asking)."""

from __future__ import annotations

import datetime as dt

from ccmops.enrollment.screening import screen_practice
from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.jobs.service import start
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient


def summary_json(summary) -> dict:
    return {"patients": summary.patients, "changed": summary.changed, "counts": summary.counts}


@job_kind("screen")
def screen(ctx, *, practice_id: int, on: str | None = None) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    ctx.progress(step="screening patients for CCM, PCM and APCM")

    def progress(done: int, total: int) -> None:
        ctx.progress(done, total)

    summary = screen_practice(
        practice=practice,
        on=dt.date.fromisoformat(on) if on else None,
        by=ctx.job.requested_by,
        progress=progress,
        then=lambda s: ctx.done(summary_json(s)),
    )
    return summary_json(summary)


@scheduled("screen", every="day", at_hour=7)  # 07:00 UTC: the small hours in the practices' US time zones
def nightly_rescreening(now):
    with_patients = Patient.objects.values("practice_id").distinct()
    for practice in Organization.objects.filter(id__in=with_patients).order_by("id"):
        yield practice.id, {"practice_id": practice.id}, f"Nightly screening of {practice.name}"


def start_screening(*, practice, by, return_url: str = "", run_here: bool | None = None):
    return start(
        "screen",
        label=f"Screening of {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id},
        key=f"screen:{practice.id}",
        return_url=return_url,
        run_here=run_here,
    )
