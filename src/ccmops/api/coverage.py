"""Coverage, date of death and confirmed diagnosis codes through the API (patients/coverage.py)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from ccmops.errors import NOT_FOUND, NotFound
from ccmops.patients.coverage import (
    claim_status,
    confirm_diagnosis,
    end_coverage,
    record_coverage,
    record_death,
    withdraw_coverage,
)
from ccmops.patients.models import CoverageRecord, PatientCondition
from ccmops.patients.scope import request_scope
from ccmops.patients.views import DIAGNOSIS_CONFIRMERS, patient_for_any, qmb_patient

router = Router(tags=["coverage"])


class CoverageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    payer: str
    start: dt.date | None = None
    end: dt.date | None = None
    medicare_secondary: bool = False
    source: str


class EndIn(Schema):
    model_config = ConfigDict(extra="forbid")
    end: dt.date


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str


class DeathIn(Schema):
    model_config = ConfigDict(extra="forbid")
    deceased_on: dt.date | None
    source: str


class CodeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    code: str


def _coverage_dict(r: CoverageRecord) -> dict:
    return {
        "id": r.id,
        "payer": r.payer,
        "start": r.start,
        "end": r.end,
        "medicare_secondary": r.medicare_secondary,
        "source": r.source,
        "imported": not r.source_id.startswith("manual:"),
        "recorded_at": r.recorded_at,
        "recorded_by": r.recorded_by.get_username() if r.recorded_by else None,
    }


def _coverage_for(request, record_id: int) -> CoverageRecord:
    record = CoverageRecord.objects.filter(id=record_id).first()
    if record is None:
        raise NotFound(NOT_FOUND)
    qmb_patient(request, record.patient_id)
    return record


@router.get("/patients/{patient_id}/coverage", response={200: dict, 403: dict, 404: dict})
def get_coverage(request, patient_id: int):
    """The patient's coverage on record and date of death (R-COV-1, R-COV-2)."""
    patient = request_scope(request).patient(patient_id)
    return {
        "deceased_on": patient.deceased_on,
        "coverage": [_coverage_dict(r) for r in patient.coverages.select_related("recorded_by")],
    }


@router.post("/patients/{patient_id}/coverage", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_coverage(request, patient_id: int, payload: CoverageIn):
    """Record coverage with its source (billing or enrollment staff); payer: one of `patients.vocabulary.PAYERS`."""
    patient = qmb_patient(request, patient_id)
    r = record_coverage(patient=patient, by=request.user, **payload.dict())
    return Status(201, _coverage_dict(r))


@router.post("/coverage/{record_id}/end", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_coverage_end(request, record_id: int, payload: EndIn):
    return _coverage_dict(end_coverage(record=_coverage_for(request, record_id), end=payload.end, by=request.user))


@router.post("/coverage/{record_id}/withdraw", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_coverage_withdraw(request, record_id: int, payload: ReasonIn):
    """Remove coverage entered by hand by mistake (the audit keeps what it said)."""
    withdraw_coverage(record=_coverage_for(request, record_id), reason=payload.reason, by=request.user)
    return {"withdrawn": record_id}


@router.post("/patients/{patient_id}/death", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_death(request, patient_id: int, payload: DeathIn):
    """Record the date of death, or clear a wrong one (`deceased_on: null`), with its source."""
    patient = qmb_patient(request, patient_id)
    record_death(patient=patient, on=payload.deceased_on, source=payload.source, by=request.user)
    return {"deceased_on": patient.deceased_on}


@router.post("/conditions/{condition_id}/confirm", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_confirm(request, condition_id: int, payload: CodeIn):
    """A coder or the practitioner confirms the ICD-10-CM code a SNOMED CT problem goes on claims as (R-DX-3)."""
    condition = PatientCondition.objects.filter(id=condition_id).first()
    if condition is None:
        raise NotFound(NOT_FOUND)
    patient_for_any(request, condition.patient_id, DIAGNOSIS_CONFIRMERS)
    c = confirm_diagnosis(condition=condition, code=payload.code, by=request.user)
    return {"id": c.id, "snomed": c.code, "on_claims": claim_status(c)}
