"""Background jobs in the API: a job's state, a practice's jobs, and the answer of an endpoint that starts one."""

from __future__ import annotations

import time
import uuid

from django.urls import reverse
from ninja import Router
from ninja.responses import Status

from ccmops.jobs.models import Job
from ccmops.patients.scope import request_scope

router = Router(tags=["jobs"])
MAX_WAIT_SECONDS = 20.0


def job_json(job: Job) -> dict:
    return {
        "id": str(job.id),
        "kind": job.kind,
        "label": job.label,
        "status": job.status,
        "practice_id": job.practice_id,
        "requested_by": job.requested_by.get_username() if job.requested_by_id else None,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "step": job.step,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "next_attempt_at": job.next_attempt_at,
        "result": job.result,
        "error": job.error or None,
        "download": reverse("job_download", args=[job.id]) if job.file_path else None,
        "url": f"/api/jobs/{job.id}",
    }


def answer(job: Job, *, wait_seconds: float, done=None, ok_status: int = 200):
    """Wait up to `wait_seconds` for the job: 200 with `done(job)` (or the job) once it succeeded, the refusal's
    status with its reason if it failed, 202 with the job (poll its `url`) while it waits or runs."""
    deadline = time.monotonic() + max(0.0, min(wait_seconds, MAX_WAIT_SECONDS))
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    if job.status == "succeeded":
        return Status(ok_status, done(job) if done else job_json(job))
    if job.status == "failed":
        return Status(job.error_status or 500, {"detail": job.error, "job": job_json(job)})
    return Status(202, job_json(job))


@router.get("/jobs/{job_id}", response={200: dict, 404: dict})
def get_job(request, job_id: uuid.UUID):
    """A job you asked for, or one of a practice you may see: progress, result or error."""
    return job_json(request_scope(request).job(job_id))


@router.get("/practices/{practice_id}/jobs", response={200: list[dict], 404: dict})
def practice_jobs(request, practice_id: int, limit: int = 50):
    practice = request_scope(request).practice(practice_id)
    jobs = Job.objects.filter(practice=practice).select_related("requested_by")[: max(1, min(limit, 200))]
    return [job_json(j) for j in jobs]
