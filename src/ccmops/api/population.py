"""Population API: imports, screening, enrollment candidates."""

from __future__ import annotations

from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from ccmops.access.operating_model import Function
from ccmops.access.policy import Role
from ccmops.api.jobs import answer, job_json
from ccmops.enrollment.candidates import candidate_queryset
from ccmops.enrollment.jobs import start_screening
from ccmops.enrollment.services import start_outreach
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.interop.jobs import start_fhir_export, start_import
from ccmops.interop.models import ImportRun
from ccmops.interop.runner import save_upload
from ccmops.interop.services import fail_abandoned
from ccmops.patients.scope import practice_for, request_scope

router = Router(tags=["population"])


def _run(r: ImportRun) -> dict:
    return {
        "id": r.id,
        "practice_id": r.practice_id,
        "kind": r.kind,
        "file_name": r.file_name,
        "status": r.status,
        "counts": r.counts,
        "problems": r.problems,
        "warnings": r.warnings,
        "unclassified_codes": r.unclassified_codes,
        "done": r.done,
        "total": r.total,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
    }


def _identification_practice(request, practice_id: int):
    return practice_for(request, practice_id, Function.IDENTIFICATION)


@router.post("/practices/{practice_id}/imports", response={201: dict, 202: dict, 403: dict, 404: dict, 422: dict})
def create_import(request, practice_id: int, kind: str, file: UploadedFile = File(...), wait_seconds: float = 5.0):  # noqa: B008
    """Import a FHIR Bundle (`kind=fhir`), a C-CDA document such as a CCD (`kind=ccda`), Bulk FHIR NDJSON or zip
    (`kind=bulk`) or CSV (`kind=csv`) as a
    background job, waiting up to `wait_seconds` (at most 20). All or nothing: 201 with the report when imported,
    422 with every problem when the file is rejected, 202 with the report and its `job` while it runs (poll
    `/api/practices/{id}/imports/{run}` or the job's `url`)."""
    practice = _identification_practice(request, practice_id)
    if kind not in dict(ImportRun.KINDS):
        raise InvalidInput("kind: expected fhir, ccda, bulk or csv")
    path = save_upload(practice, kind, file)
    run, job = start_import(practice=practice, kind=kind, path=path, label=file.name, by=request.user)
    answer(job, wait_seconds=wait_seconds)  # waits for it, within the budget
    run.refresh_from_db()
    job.refresh_from_db()
    if run.status == "rejected":
        return Status(422, {"detail": "rejected; nothing was imported", "report": _run(run), "job": job_json(job)})
    if run.status == "succeeded":
        return Status(201, _run(run) | {"job": job_json(job)})
    return Status(202, _run(run) | {"job": job_json(job)})


@router.get("/practices/{practice_id}/imports", response=list[dict])
def list_imports(request, practice_id: int):
    practice = _identification_practice(request, practice_id)
    fail_abandoned(practice)
    return [_run(r) for r in ImportRun.objects.filter(practice=practice)[:100]]


@router.get("/practices/{practice_id}/imports/{run_id}", response={200: dict, 404: dict})
def get_import(request, practice_id: int, run_id: int):
    practice = _identification_practice(request, practice_id)
    run = ImportRun.objects.filter(practice=practice, id=run_id).first()
    if run is None:
        raise NotFound(NOT_FOUND)
    return _run(run)


@router.post("/practices/{practice_id}/screen", response={200: dict, 202: dict, 403: dict, 404: dict, 500: dict})
def screen(request, practice_id: int, wait_seconds: float = 5.0):
    """Screen every patient of the practice for CCM, PCM and APCM as a background job (replaces the previous
    screening): 200 with the counts when done within `wait_seconds` (at most 20), 202 with the job while it runs."""
    practice = _identification_practice(request, practice_id)
    job = start_screening(practice=practice, by=request.user)
    return answer(job, wait_seconds=wait_seconds, done=lambda j: {**j.result, "job": str(j.id)})


@router.post("/practices/{practice_id}/exports/fhir", response={200: dict, 202: dict, 403: dict, 404: dict, 500: dict})
def export_fhir(request, practice_id: int, wait_seconds: float = 5.0):
    """Every patient of the practice as FHIR R4 (Bulk NDJSON in a zip) — a background job for the program owner or a
    system administrator. The job's `download` link serves the file to whoever asked, for 24 hours (audited)."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, frozenset({Role.PROGRAM_OWNER, Role.SYSTEM_ADMIN}), "Exporting every patient")
    job = start_fhir_export(practice=practice, by=request.user)
    return answer(job, wait_seconds=wait_seconds)


@router.get("/practices/{practice_id}/candidates", response={200: list[dict], 403: dict, 404: dict, 422: dict})
def candidates(
    request,
    practice_id: int,
    program: str = "ccm",
    status: str = "eligible",
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=100_000_000),
    sort: str = "risk",
    q: str = "",
):
    practice = _identification_practice(request, practice_id)
    program, rows = candidate_queryset(practice, {"program": program, "status": status, "sort": sort, "q": q})
    limit = max(1, min(limit, 1000))
    return [
        {
            "patient_id": r.patient_id,
            "mrn": r.patient.mrn,
            "name": r.patient.full_name,
            "status": getattr(r, program),
            "risk_score": r.risk_score,
            "risk": r.risk,
            "conditions": r.conditions,
            "initiating_visit_needed": r.initiating_visit_needed,
            "last_visit": r.last_visit,
            "reasons": r.reasons.get(program, []),
            "decided_on": r.decided_on,  # the screening that last changed this result
        }
        for r in rows[offset : offset + limit]
    ]


@router.post("/practices/{practice_id}/enrollments", response={201: dict, 403: dict, 404: dict, 422: dict})
def create_enrollment_outreach(request, practice_id: int, patient_id: int, program: str = "ccm"):
    """Start enrollment outreach for a candidate."""
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    if patient.practice_id != practice_id:
        raise NotFound(NOT_FOUND)
    grant = scope.require(patient.practice_id, Function.ENROLLMENT_CONSENT)
    if program not in ("ccm", "pcm", "apcm"):
        raise InvalidInput("program: expected ccm, pcm or apcm")
    e = start_outreach(patient=patient, program=program, by=request.user, party_id=grant.via_organization_id)
    return Status(
        201, {"patient_id": patient.id, "program": e.program, "status": e.status, "status_since": e.status_since}
    )
