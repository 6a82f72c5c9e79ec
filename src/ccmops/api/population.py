"""Population API: imports, screening, enrollment candidates."""

from __future__ import annotations

from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from ccmops.access.operating_model import Function
from ccmops.enrollment.candidates import candidate_queryset
from ccmops.enrollment.screening import screen_practice
from ccmops.enrollment.services import start_outreach
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.interop.models import ImportRun
from ccmops.interop.runner import save_upload
from ccmops.interop.services import ImportRejected, Source, fail_abandoned, import_source
from ccmops.patients.scope import request_scope

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
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require(practice.id, Function.IDENTIFICATION)
    return practice


@router.post("/practices/{practice_id}/imports", response={201: dict, 403: dict, 404: dict, 422: dict})
def create_import(request, practice_id: int, kind: str, file: UploadedFile = File(...)):  # noqa: B008
    """Import a FHIR Bundle (`kind=fhir`), Bulk FHIR NDJSON or zip (`kind=bulk`) or CSV (`kind=csv`). All or
    nothing: 422 with every problem when the file is rejected."""
    practice = _identification_practice(request, practice_id)
    if kind not in ("fhir", "bulk", "csv"):
        raise InvalidInput("kind: expected fhir, bulk or csv")
    path = save_upload(practice, kind, file)
    try:
        run = import_source(practice=practice, source=Source(kind, path, file.name), by=request.user)
    except ImportRejected as exc:
        return Status(422, {"detail": "rejected; nothing was imported", "report": _run(exc.run)})
    return Status(201, _run(run))


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


@router.post("/practices/{practice_id}/screen", response={200: dict, 403: dict, 404: dict})
def screen(request, practice_id: int):
    """Screen every patient of the practice for CCM, PCM and APCM (replaces the previous screening)."""
    practice = _identification_practice(request, practice_id)
    summary = screen_practice(practice=practice, by=request.user)
    return {"patients": summary.patients, "changed": summary.changed, "counts": summary.counts}


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
