"""A month's evaluation and its approval as jobs (the month page, the API and `ccmops month close|approve`).

Evaluation is resumable by design: each step commits its decisions (upserts) and the cursor together, so a
re-run after a killed worker carries on from the cursor and ends with the decisions an uninterrupted run makes.
Approval is one transaction that also marks its job done."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import begin_evaluation, evaluate_in_processes, evaluate_step, summarize
from ccmops.billing.lookback import lookback
from ccmops.billing.packets import packets_zip
from ccmops.billing.payer_inbox import inbox_folder, sweep, waiting
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment
from ccmops.errors import Conflict
from ccmops.jobs import service as jobs
from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.jobs.models import ACTIVE, Job
from ccmops.months.models import MonthClose
from ccmops.months.month import Month, checked
from ccmops.organizations.models import Organization

JOB_STEP = 500  # patients per committed step: progress every second or so, little to redo after a crash


def summary_json(summary) -> dict:
    return {
        "month": summary.month,
        "patient_months": summary.patient_months,
        "ready": summary.ready,
        "needs_review": summary.needs_review,
        "nothing_billable": summary.nothing_billable,
        "claim_lines": summary.lines,
        "allowed": f"{summary.allowed:.2f}",
    }


@job_kind("evaluate")
def evaluate(ctx, *, practice_id: int, month: str, version: int | None = None, workers: int = 1) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    by = ctx.job.requested_by
    if version is None:
        close = begin_evaluation(practice=practice, month=month, by=by)
        ctx.remember(version=close.version)
    else:  # a later attempt: carry on with the evaluation this job began, if it is still under way
        close = MonthClose.objects.filter(practice=practice, month=month).first()
    if close is not None and close.status == "evaluating" and workers > 1:
        ctx.progress(close.progress_done, close.progress_total, step=f"deciding {month} in {workers} processes")
        evaluate_in_processes(practice=practice, month=month, workers=workers)
        close.refresh_from_db()
    while close is not None and close.status == "evaluating":
        ctx.progress(close.progress_done, close.progress_total, step=f"deciding {month}'s patient-months")
        close = evaluate_step(practice=practice, month=month, by=by, limit=JOB_STEP)
    if close is not None:
        ctx.progress(close.progress_done, close.progress_total, step="evaluated")
    return summary_json(summarize(practice, month))


@job_kind("approve", atomic=True)
def approve(ctx, *, practice_id: int, month: str, expected_version: int | None = None) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    ctx.progress(step=f"checking nothing changed since {month} was evaluated")
    close = approve_and_close(
        practice=practice, month=month, by=ctx.job.requested_by, expected_version=expected_version
    )
    return {"month": month, "closed": True, "version": close.version}


@scheduled("evaluate", every="day", at_hour=8)  # 08:00 UTC, after the nightly screening
def nightly_preview(now):
    """The month in progress evaluated every night for each practice with enrolled patients: the month page, the
    revenue and the billers' inboxes show where it stands before anyone asks (a preview: it is closed only after
    it has ended)."""
    with_enrollments = Enrollment.objects.values("practice_id").distinct()
    for practice in Organization.objects.filter(id__in=with_enrollments).order_by("id"):
        month = str(Month.current(practice.time_zone))
        params = {"practice_id": practice.id, "month": month, "workers": 1}
        yield practice.id, params, f"Nightly preview of {month} — {practice.name}"


def _refuse_while(practice, month: str, kind: str, then: str) -> None:
    other = Job.objects.filter(practice=practice, kind=kind, params__month=month, status__in=ACTIVE).first()
    if other is not None:
        raise Conflict(f"{other.label} is {other.get_status_display().lower()}; {then}")


def start_evaluation(*, practice, month: str, by, workers: int = 1, run_here: bool | None = None) -> Job:
    checked(month)
    _refuse_while(practice, month, "approve", "evaluate again once it has finished.")
    return jobs.start(
        "evaluate",
        label=f"Evaluation of {month} — {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id, "month": month, "workers": workers},
        key=f"evaluate:{practice.id}:{month}",
        return_url=reverse("month_page", args=[practice.id, month]),
        run_here=run_here,
    )


def start_approval(
    *, practice, month: str, by, expected_version: int | None = None, run_here: bool | None = None
) -> Job:
    checked(month)
    _refuse_while(practice, month, "evaluate", "approve once the results are in.")
    return jobs.start(
        "approve",
        label=f"Approval and close of {month} — {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id, "month": month, "expected_version": expected_version},
        key=f"approve:{practice.id}:{month}",
        return_url=reverse("month_page", args=[practice.id, month]),
        run_here=run_here,
    )


def month_job(practice, month: str, user=None) -> Job | None:
    """The month's evaluation or approval waiting or running, else the user's own last one that failed in the
    past hour (its error is what they need to read)."""
    jobs = Job.objects.filter(practice=practice, kind__in=("evaluate", "approve"), params__month=month)
    active = jobs.filter(status__in=ACTIVE).select_related("requested_by").first()
    if active is not None or user is None:
        return active
    recent = timezone.now() - dt.timedelta(hours=1)
    return jobs.filter(status="failed", requested_by=user, finished_at__gte=recent).first()


@job_kind("packets")
def packets(ctx, *, practice_id: int, month: str) -> dict:
    """Every patient-month's audit packet (HTML and PDF) of a month, as one zip to download."""
    practice = Organization.objects.get(pk=practice_id)
    archive = ctx.folder() / f"{practice.slug}-{month}-audit-packets.zip"
    part = archive.with_suffix(".part")
    ctx.progress(step="writing each patient-month's packet (HTML and PDF)")

    def progress(done: int, total: int) -> None:
        ctx.progress(done, total)

    packets_zip(practice, month, target=part, progress=progress, audit=False)
    part.replace(archive)
    ctx.attach(str(archive), archive.name)
    result = {"month": month, "packets": ctx.job.done, "file": archive.name}
    with transaction.atomic():
        record_audit(
            action=AuditAction.EXPORT,
            user=ctx.job.requested_by,
            practice_id=practice.id,
            object_type="audit_packets",
            object_id=month,
            detail={"job": str(ctx.job.id), "packets": ctx.job.done},
        )
        ctx.done(result)
    return result


def start_packets(*, practice, month: str, by, run_here: bool | None = None) -> Job:
    checked(month)
    return jobs.start(
        "packets",
        label=f"Audit packets of {month} — {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id, "month": month},
        key=f"packets:{practice.id}:{month}:{getattr(by, 'id', '-')}",
        run_here=run_here,
    )


@job_kind("lookback")
def look_back(ctx, *, practice_id: int, start: str, end: str) -> dict:
    """Closed months re-decided under today's rules (nothing written but the audit event): the result is the
    look back itself, which its page renders."""
    practice = Organization.objects.get(pk=practice_id)
    ctx.progress(step=f"deciding the closed months {start} to {end} again under today's rules")
    found = lookback(practice=practice, start=start, end=end, by=ctx.job.requested_by)
    return found.as_dict()


def start_lookback(*, practice, start: str, end: str, by, return_url: str, run_here: bool | None = None) -> Job:
    return jobs.start(
        "lookback",
        label=f"Look back {start} to {end} — {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id, "start": start, "end": end},
        key=f"lookback:{practice.id}:{start}:{end}",
        return_url=return_url,
        run_here=run_here,
    )


@job_kind("payer-inbox")
def payer_inbox(ctx, *, practice_id: int) -> dict:
    """Read the files waiting in the practice's payer inbox (`payer_inbox`); resumable by design: each file is read
    in its own transaction and moved after."""
    practice = Organization.objects.get(pk=practice_id)
    result = sweep(practice, by=ctx.job.requested_by, progress=lambda n, total: ctx.progress(n, total, step="reading"))
    return {k: len(v) for k, v in result.items()} | {"failed_files": result["failed"][:20]}


@scheduled("payer-inbox", every="hour")
def payer_inbox_sweeps(now):
    """Every hour, each practice whose payer inbox holds a file ready to read."""
    for practice in Organization.objects.filter(kind="practice").order_by("id"):
        if waiting(inbox_folder(practice)):
            yield practice.id, {"practice_id": practice.id}, f"Payer inbox — {practice.name}"
