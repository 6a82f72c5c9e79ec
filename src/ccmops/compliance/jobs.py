"""Verifying a practice's audit chain as a job (the compliance reviewer's button on the audit page): every event's
keyed hash recomputed in order; the result — intact, or each problem — is kept with the job and recorded as an
audit event of its own."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from ccmops.compliance.audit import record_audit, verify_chain
from ccmops.compliance.models import AuditAction
from ccmops.jobs import service as jobs
from ccmops.jobs.kinds import job_kind
from ccmops.jobs.models import Job


@job_kind("audit-verify")
def verify(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="recomputing every event's keyed hash in order")
    report = verify_chain(practice_id)
    result = {"events_checked": report.checked, "intact": report.ok, "problems": list(report.problems[:200])}
    with transaction.atomic():
        record_audit(
            action=AuditAction.READ,
            user=ctx.job.requested_by,
            practice_id=practice_id,
            object_type="audit_chain",
            object_id=str(practice_id),
            outcome="success" if report.ok else "problems",
            detail={"events": report.checked, "problems": len(report.problems), "job": str(ctx.job.id)},
        )
        ctx.done(result)
    return result


def start_verification(*, practice, by, run_here: bool | None = None) -> Job:
    return jobs.start(
        "audit-verify",
        label=f"Audit chain verification — {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id},
        key=f"audit-verify:{practice.id}",
        return_url=reverse("audit_log"),
        run_here=run_here,
    )


def latest_verifications(practice_ids) -> list[Job]:
    """Each practice's latest verification (waiting, running or ended), for the audit page."""
    out = []
    for pid in sorted(practice_ids):
        job = (
            Job.objects.filter(kind="audit-verify", practice_id=pid).select_related("practice", "requested_by").first()
        )
        if job is not None:
            out.append(job)
    return out
