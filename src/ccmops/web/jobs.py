"""Job pages: a job's progress and outcome (polled by the page that started it), a practice's recent jobs, and
the download of a file a job produced."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import NotFound
from ccmops.jobs.models import Job
from ccmops.patients.scope import request_scope


def visible_job(request, job_id) -> Job:
    return request_scope(request).job(job_id)


@login_required
def job_page(request, job_id):
    job = visible_job(request, job_id)
    if request.htmx:
        if job.finished and request.GET.get("follow"):  # the page that waited for it shows the outcome
            response = HttpResponse(status=204)
            response["HX-Redirect"] = job.return_url or reverse("job_page", args=[job.id])
            return response
        context = {"job": job, "follow": bool(request.GET.get("follow")), "on_page": bool(request.GET.get("on_page"))}
        return render(request, "jobs/_job.html", context)
    return render(request, "jobs/job.html", {"job": job, "downloadable": _downloadable(request, job)})


def _downloadable(request, job: Job) -> bool:
    return bool(
        job.file_path
        and job.requested_by_id == request.user.id
        and job.file_expires_at
        and job.file_expires_at > timezone.now()
        and Path(job.file_path).is_file()
    )


@login_required
def job_download(request, job_id):
    """The file a job produced: only for the person who asked for it, until it expires; audited as an export."""
    job = visible_job(request, job_id)
    if not _downloadable(request, job):
        raise NotFound("This download has expired or is not yours; start the export again.")
    record_audit(
        action=AuditAction.EXPORT,
        user=request.user,
        practice_id=job.practice_id,
        object_type="job_file",
        object_id=str(job.id),
        detail={"file": job.file_name, "kind": job.kind},
    )
    return FileResponse(Path(job.file_path).open("rb"), as_attachment=True, filename=job.file_name)


@login_required
def practice_jobs(request, practice_id: int):
    practice = request_scope(request).practice(practice_id)
    jobs = Job.objects.filter(practice=practice).select_related("requested_by")[:100]
    return render(request, "jobs/list.html", {"practice": practice, "jobs": jobs})
