"""Enrollment, consent, initiating visit and care-plan API."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from ccmops.access.operating_model import Function
from ccmops.careplans.models import CarePlan
from ccmops.careplans.services import (
    approve,
    create_from_template,
    mark_reviewed,
    missing_of,
    record_share,
    save_version,
)
from ccmops.enrollment.consent_status import consent_status
from ccmops.enrollment.consents import record_consent, revoke_consent
from ccmops.enrollment.models import Consent, Enrollment
from ccmops.enrollment.services import change_status, log_outreach_attempt
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.organizations.models import Practitioner
from ccmops.patients.details import EDITORS as DETAIL_EDITORS
from ccmops.patients.details import change_details
from ccmops.patients.models import QmbPeriod
from ccmops.patients.scope import request_scope
from ccmops.patients.services import end_qmb, record_qmb, record_visit
from ccmops.patients.views import patient_for_any, qmb_patient

router = Router(tags=["enrollment"])


class QmbIn(Schema):
    start: dt.date
    end: dt.date | None = None
    source: str


class QmbEndIn(Schema):
    end: dt.date


class AttemptIn(Schema):
    program: str = "ccm"
    purpose: str = "enrollment"
    channel: str
    outcome: str
    note: str = ""


class StatusIn(Schema):
    program: str = "ccm"
    status: str
    reason: str = ""


class ConsentIn(Schema):
    program: str = "ccm"
    practitioner_npi: str
    method: str
    documented_at: dt.datetime
    elements: list[str]
    representative_name: str = ""
    representative_relationship: str = ""
    note: str = ""


class RevokeIn(Schema):
    revoked_at: dt.datetime
    reason: str


class VisitIn(Schema):
    date: dt.date
    kind: str
    code: str
    practitioner_npi: str
    care_management_discussed: bool


class PlanIn(Schema):
    content: dict
    lock_version: int
    change_summary: str = ""
    substantial_revision: bool = False


class LockIn(Schema):
    lock_version: int


class ShareIn(Schema):
    method: str
    recipient: str = "patient"


def _patient(request, patient_id: int, function: Function):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, function)
    return patient, grant


def _practitioner(patient, npi: str) -> Practitioner:
    p = Practitioner.objects.filter(practice_id=patient.practice_id, npi=npi).first()
    if p is None:
        raise InvalidInput(f"practitioner_npi: no practitioner {npi} in the patient's practice")
    return p


def _enrollments(patient) -> list[dict]:
    return [
        {
            "program": e.program,
            "status": e.status,
            "status_since": e.status_since,
            "reason": e.reason,
            "history": [
                {
                    "at": ev.at,
                    "from": ev.from_status,
                    "to": ev.to_status,
                    "reason": ev.reason,
                    "by": ev.by.username if ev.by else None,
                }
                for ev in e.events.all()
            ],
        }
        for e in Enrollment.objects.filter(patient=patient).prefetch_related("events__by")
    ]


def _plan(p: CarePlan) -> dict:
    latest = p.latest
    return {
        "id": p.id,
        "program": p.program,
        "kind": p.kind,
        "lock_version": p.lock_version,
        "in_force_version": p.in_force.number if p.in_force else None,
        "latest": {
            "number": latest.number,
            "status": latest.status,
            "content": latest.content,
            "missing": missing_of(latest),
            "next_review_due": latest.next_review_due,
        },
    }


@router.get("/patients/{patient_id}/enrollment", response=dict)
def get_enrollment(request, patient_id: int):
    patient = request_scope(request).patient(patient_id)
    return {
        "enrollments": _enrollments(patient),
        "consent": {p: consent_status(patient, p).message for p in ("ccm", "pcm", "apcm")},
    }


@router.post("/patients/{patient_id}/outreach-attempts", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_attempt(request, patient_id: int, payload: AttemptIn):
    function = Function.ENROLLMENT_CONSENT if payload.purpose == "enrollment" else Function.MONTHLY_OUTREACH
    patient, grant = _patient(request, patient_id, function)
    a = log_outreach_attempt(patient=patient, by=request.user, party_id=grant.via_organization_id, **payload.dict())
    return Status(201, {"id": a.id, "at": a.at, "outcome": a.outcome, "enrollments": _enrollments(patient)})


@router.post("/patients/{patient_id}/enrollment", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_status(request, patient_id: int, payload: StatusIn):
    patient, grant = _patient(request, patient_id, Function.ENROLLMENT_CONSENT)
    change_status(
        patient=patient,
        program=payload.program,
        to=payload.status,
        reason=payload.reason,
        by=request.user,
        party_id=grant.via_organization_id,
    )
    return {"enrollments": _enrollments(patient)}


@router.post("/patients/{patient_id}/consents", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_consent(request, patient_id: int, payload: ConsentIn):
    patient, grant = _patient(request, patient_id, Function.ENROLLMENT_CONSENT)
    c = record_consent(
        patient=patient,
        program=payload.program,
        practitioner=_practitioner(patient, payload.practitioner_npi),
        method=payload.method,
        documented_at=payload.documented_at,
        elements=payload.elements,
        obtained_by=request.user,
        party_id=grant.via_organization_id,
        representative_name=payload.representative_name,
        representative_relationship=payload.representative_relationship,
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": c.id,
            "program": c.program,
            "documented_at": c.documented_at,
            "elements": c.elements,
            "text_version": c.text_version.version,
        },
    )


@router.get("/patients/{patient_id}/consents", response=list[dict])
def list_consents(request, patient_id: int):
    patient = request_scope(request).patient(patient_id)
    out = []
    for c in Consent.objects.filter(patient=patient).select_related("practitioner", "revocation", "text_version"):
        r = getattr(c, "revocation", None)
        out.append(
            {
                "id": c.id,
                "program": c.program,
                "practitioner_npi": c.practitioner.npi,
                "method": c.method,
                "documented_at": c.documented_at,
                "elements": c.elements,
                "text_version": c.text_version.version,
                "revoked_at": r.revoked_at if r else None,
                "revocation_effective_at": r.effective_at if r else None,
            }
        )
    return out


@router.post("/consents/{consent_id}/revoke", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_revoke(request, consent_id: int, payload: RevokeIn):
    consent = Consent.objects.filter(id=consent_id).first()
    if consent is None:
        raise NotFound(NOT_FOUND)
    _patient(request, consent.patient_id, Function.ENROLLMENT_CONSENT)
    r = revoke_consent(consent=consent, revoked_at=payload.revoked_at, reason=payload.reason, by=request.user)
    return {"consent_id": consent.id, "revoked_at": r.revoked_at, "effective_at": r.effective_at}


@router.post("/patients/{patient_id}/visits", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_visit(request, patient_id: int, payload: VisitIn):
    patient, _ = _patient(request, patient_id, Function.ENROLLMENT_CONSENT)
    v = record_visit(
        patient=patient,
        day=payload.date,
        kind=payload.kind,
        code=payload.code,
        practitioner=_practitioner(patient, payload.practitioner_npi),
        care_management_discussed=payload.care_management_discussed,
        by=request.user,
    )
    return Status(201, {"id": v.id, "enrollments": _enrollments(patient)})


@router.post("/patients/{patient_id}/care-plans", response={201: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_plan(request, patient_id: int, program: str = "ccm"):
    patient, _ = _patient(request, patient_id, Function.CARE_PLANNING)
    return Status(201, _plan(create_from_template(patient=patient, program=program, by=request.user)))


def _plan_for(request, plan_id: int, function: Function) -> CarePlan:
    plan = CarePlan.objects.filter(id=plan_id).first()
    if plan is None:
        raise NotFound(NOT_FOUND)
    _patient(request, plan.patient_id, function)
    return plan


@router.get("/care-plans/{plan_id}", response={200: dict, 404: dict})
def get_plan(request, plan_id: int):
    plan = CarePlan.objects.filter(id=plan_id).first()
    if plan is None:
        raise NotFound(NOT_FOUND)
    request_scope(request).patient(plan.patient_id)
    return _plan(plan)


@router.put("/care-plans/{plan_id}", response={200: dict, 403: dict, 404: dict, 409: dict})
def put_plan(request, plan_id: int, payload: PlanIn):
    plan = _plan_for(request, plan_id, Function.CARE_PLANNING)
    save_version(
        plan=plan,
        content=payload.content,
        by=request.user,
        expected_lock=payload.lock_version,
        change_summary=payload.change_summary,
        substantial=payload.substantial_revision,
    )
    plan.refresh_from_db()
    return _plan(plan)


@router.post("/care-plans/{plan_id}/review", response={200: dict, 403: dict, 404: dict, 409: dict})
def post_review(request, plan_id: int, payload: LockIn):
    plan = _plan_for(request, plan_id, Function.CARE_PLANNING)
    mark_reviewed(version=plan.latest, by=request.user, expected_lock=payload.lock_version)
    plan.refresh_from_db()
    return _plan(plan)


@router.post("/care-plans/{plan_id}/approve", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_approve(request, plan_id: int, payload: LockIn):
    plan = _plan_for(request, plan_id, Function.CLINICAL_OVERSIGHT)
    approve(version=plan.latest, by=request.user, expected_lock=payload.lock_version)
    plan.refresh_from_db()
    return _plan(plan)


@router.post("/care-plans/{plan_id}/share", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_share(request, plan_id: int, payload: ShareIn):
    plan = _plan_for(request, plan_id, Function.CARE_PLANNING)
    if plan.in_force is None:
        raise InvalidInput("No approved version to share yet.")
    s = record_share(version=plan.in_force, method=payload.method, recipient=payload.recipient, by=request.user)
    return Status(201, {"version": s.version.number, "shared_at": s.shared_at, "method": s.method})


def _qmb_dict(q: QmbPeriod) -> dict:
    return {
        "id": q.id,
        "start": q.start,
        "end": q.end,
        "source": q.source,
        "recorded_at": q.recorded_at,
        "recorded_by": q.recorded_by.get_username() if q.recorded_by else None,
    }


@router.get("/patients/{patient_id}/qmb", response={200: list[dict], 403: dict, 404: dict})
def get_qmb(request, patient_id: int):
    """The patient's QMB periods (Medicaid pays their Medicare cost sharing: no patient share is billed)."""
    patient = request_scope(request).patient(patient_id)
    return [_qmb_dict(q) for q in patient.qmb_periods.select_related("recorded_by")]


@router.post("/patients/{patient_id}/qmb", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_qmb(request, patient_id: int, payload: QmbIn):
    """Record a QMB period (billing or enrollment staff); 422 when it overlaps one already recorded."""
    patient = qmb_patient(request, patient_id)
    q = record_qmb(patient=patient, start=payload.start, end=payload.end, source=payload.source, by=request.user)
    return Status(201, _qmb_dict(q))


@router.post("/qmb/{period_id}/end", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_qmb_end(request, period_id: int, payload: QmbEndIn):
    q = QmbPeriod.objects.filter(id=period_id).first()
    if q is None:
        raise NotFound(NOT_FOUND)
    qmb_patient(request, q.patient_id)
    return _qmb_dict(end_qmb(period=q, end=payload.end, by=request.user))


class DetailsIn(Schema):
    """The details to correct (any of them); an empty string clears one."""

    model_config = ConfigDict(extra="forbid")
    phone: str | None = None
    preferred_language: str | None = None
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    medicare_id: str | None = None
    time_zone: str | None = None


@router.patch("/patients/{patient_id}/details", response={200: dict, 403: dict, 404: dict, 422: dict})
def patch_details(request, patient_id: int, payload: DetailsIn):
    """Correct a patient's contact details or MBI (those who work with the patient); the answer names the fields
    that changed. The audit log records which fields changed, not their values."""
    patient = patient_for_any(request, patient_id, DETAIL_EDITORS)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return {"changed": change_details(patient=patient, changes=changes, by=request.user)}
