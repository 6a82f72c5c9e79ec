"""The model-fit assessment as a job: the practice's measured figures (months of its own work) are read and the
assessment kept in one transaction with the job's done mark."""

from __future__ import annotations

from django.urls import reverse

from ccmops.assessment import services
from ccmops.jobs import service as jobs
from ccmops.jobs.kinds import job_kind
from ccmops.jobs.models import Job
from ccmops.organizations.models import Organization


@job_kind("assessment", atomic=True)
def assessment(ctx, *, practice_id: int, questionnaire: dict, source: str, use_measured: bool = False) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    if use_measured and "measured" not in questionnaire:
        ctx.progress(step="reading the practice's completed months")
        measured = services.measured_figures(practice).get("measured")
        if measured:
            questionnaire, source = {**questionnaire, "measured": measured}, "measured"
    ctx.progress(step="assessing the operating models against the practice's figures")
    record = services.run(practice=practice, questionnaire=questionnaire, by=ctx.job.requested_by, source=source)
    ctx.show_when_done(reverse("assessment_detail", args=[record.id]))
    return {"assessment": record.id, "recommended": record.recommended}


def start_assessment(
    *, practice, questionnaire: dict, source: str, by, use_measured: bool = False, run_here: bool | None = None
) -> Job:
    return jobs.start(
        "assessment",
        label=f"Model-fit assessment — {practice.name}",
        practice=practice,
        by=by,
        params={
            "practice_id": practice.id,
            "questionnaire": questionnaire,
            "source": source,
            "use_measured": use_measured,
        },
        run_here=run_here,
    )
