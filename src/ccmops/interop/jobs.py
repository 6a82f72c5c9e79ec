"""Imports and the whole-practice FHIR export as jobs.

An import is resumable by design: a file small enough is written in one transaction (a killed worker leaves
nothing and the next attempt imports it whole), a larger one in chunks that a later attempt resumes from its
checkpoint; an attempt that finds its run already succeeded only reports it. The export writes its files under
temporary names and renames them when complete, and records its audit event with the job's done mark."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from django.db import transaction
from django.urls import reverse

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.interop.fhir_export import export_practice
from ccmops.interop.models import ImportRun
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.jobs.kinds import job_kind
from ccmops.jobs.models import Job
from ccmops.jobs.service import inline, run_now, start
from ccmops.organizations.models import Organization


def run_json(run: ImportRun) -> dict:
    return {"import_run": run.id, "status": run.status, "records": run.total, **{
        k: v for k, v in run.counts.items() if isinstance(v, int)
    }}  # fmt: skip


@job_kind("import")
def run_import(ctx, *, run_id: int, kind: str, path: str, label: str) -> dict:
    run = ImportRun.objects.select_related("practice", "created_by").get(pk=run_id)
    if run.status == "succeeded":  # an earlier attempt finished the work; its done mark was lost
        return run_json(run)
    source = Source(kind, Path(path), label)
    ctx.progress(step="reading and checking the file")
    ImportRun.objects.filter(pk=run.pk, status="queued").update(status="validating")
    run.refresh_from_db()
    if run.sha256 == "pending":
        run.sha256 = source.digest()
        run.save(update_fields=["sha256"])

    def progress(done: int, total: int) -> None:
        ctx.progress(done, total, step="writing records")

    try:
        run = import_source(practice=run.practice, source=source, by=run.created_by, run=run, progress=progress)
    except ImportRejected as exc:
        raise InvalidInput(
            f"{label} was rejected with {len(exc.run.problems)} problem(s); nothing was imported (the import "
            "report lists each)."
        ) from None
    return run_json(run)


def start_import(*, practice, kind: str, path: Path, label: str, by) -> tuple[ImportRun, Job]:
    """The report row and its job, in one transaction: the page shows the row at once, a worker fills it."""
    with transaction.atomic():
        run = ImportRun.objects.create(
            practice=practice, kind=kind, file_name=label, sha256="pending", created_by=by, status="queued"
        )
        job = start(
            "import",
            label=f"Import of {label}",
            practice=practice,
            by=by,
            params={"run_id": run.id, "kind": kind, "path": str(path), "label": label},
            return_url=reverse("import_detail", args=[practice.id, run.id]),
            run_here=False,
        )
    job = _run_if_inline(job)
    run.refresh_from_db()
    return run, job


def _run_if_inline(job: Job) -> Job:
    if inline():
        run_now(job)
        job.refresh_from_db()
    return job


@job_kind("fhir-export")
def fhir_export(ctx, *, practice_id: int) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    folder = ctx.folder()
    if (folder / "ndjson").exists():  # an earlier attempt's files: start again (they are rewritten in full)
        shutil.rmtree(folder / "ndjson")
    ctx.progress(step="writing each patient's record as FHIR R4")

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            ctx.progress(done, total)

    counts = export_practice(practice, folder / "ndjson", progress=progress)
    ctx.progress(step="packing the files")
    archive = folder / f"{practice.slug}-fhir-export.zip"
    with zipfile.ZipFile(archive.with_suffix(".part"), "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted((folder / "ndjson").iterdir()):
            z.write(f, f.name)
    archive.with_suffix(".part").replace(archive)
    shutil.rmtree(folder / "ndjson")
    ctx.attach(str(archive), archive.name)
    result = {"resources": counts, "file": archive.name}
    with transaction.atomic():
        record_audit(
            action=AuditAction.EXPORT,
            user=ctx.job.requested_by,
            practice_id=practice.id,
            object_type="fhir_export",
            object_id=practice.slug,
            detail={"job": str(ctx.job.id), "counts": counts},
        )
        ctx.done(result)
    return result


def start_fhir_export(*, practice, by, run_here: bool | None = None) -> Job:
    return start(
        "fhir-export",
        label=f"FHIR export of {practice.name}",
        practice=practice,
        by=by,
        params={"practice_id": practice.id},
        key=f"fhir-export:{practice.id}:{getattr(by, 'id', '-')}",
        run_here=run_here,
    )
