"""Month close, review, claims and packets API."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status

from ccmops.access.operating_model import Function
from ccmops.api.jobs import answer
from ccmops.billing.adjustments import open_impacts, resolve, resolve_unchanged, resolved_adjustments
from ccmops.billing.evaluation import summarize
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.fhir_claims import claims_bundle
from ccmops.billing.jobs import start_approval, start_evaluation, start_lookback, start_packets
from ccmops.billing.known import record_known_service, record_known_services, withdraw_known_service
from ccmops.billing.models import ClaimBatch, KnownService, PatientMonthDecision
from ccmops.billing.remittance import mark_rejected, mark_submitted, record_remittance
from ccmops.billing.revenue import month_revenue
from ccmops.billing.review import override
from ccmops.billing.views import auditing_practice, known_service_in_scope, known_service_patient
from ccmops.errors import NOT_FOUND, NotFound
from ccmops.months.models import MonthClose
from ccmops.months.month import checked
from ccmops.patients.scope import practice_for, request_scope

router = Router(tags=["billing"])


class OverrideIn(Schema):
    action: str
    reason: str


class RejectIn(Schema):
    reason: str


class RemitLineIn(Schema):
    claim_id: str
    code: str
    status: str  # paid | denied | adjusted
    paid_amount: str = "0"
    note: str = ""


class RemittanceIn(Schema):
    lines: list[RemitLineIn]
    source: str = "api"


class ResolveAdjustmentsIn(Schema):
    adjustment_ids: list[int]
    outcome: str  # no_change | corrected | not_billed
    note: str = ""
    reference: str = ""


def _practice(request, practice_id: int):
    return practice_for(request, practice_id, Function.BILLING)


@router.get("/practices/{practice_id}/lookback", response={200: dict, 202: dict, 403: dict, 404: dict, 422: dict})
def get_lookback(
    request,
    practice_id: int,
    start: str = Query(..., alias="from"),
    end: str = Query(..., alias="to"),
    wait_seconds: float = 10.0,
):
    """Closed months from `from` to `to` (YYYY-MM) re-decided under today's rules and facts, nothing changed:
    every patient-month that would be billed differently now, with rule IDs and amounts. Runs as a job: 200 with
    the look back when done within `wait_seconds` (at most 20), 202 with the job while it runs (its result is the
    same document)."""
    practice = auditing_practice(request, practice_id)
    checked(start, "from")
    checked(end, "to")
    job = start_lookback(practice=practice, start=start, end=end, by=request.user, return_url="")

    def found(j) -> dict:
        r = j.result
        return {
            "from": r["start"],
            "to": r["end"],
            "months": r["months"],
            "skipped": r["skipped"],
            "patient_months": r["patient_months"],
            "net_difference": r["total_difference"],
            "differences": r["differences"],
            "job": str(j.id),
        }

    return answer(job, wait_seconds=wait_seconds, done=found)


@router.post(
    "/practices/{practice_id}/months/{month}/close",
    response={200: dict, 202: dict, 403: dict, 404: dict, 409: dict, 422: dict, 500: dict},
)
def post_close(request, practice_id: int, month: str, wait_seconds: float = 2.0, workers: int = 1):
    """Evaluate the month as a background job (joining one under way), waiting up to `wait_seconds` (at most 20):
    200 with the summary when done, 202 with the job while it runs — poll `/api/jobs/{id}`."""
    practice = _practice(request, practice_id)
    job = start_evaluation(practice=practice, month=month, by=request.user, workers=max(1, min(workers, 8)))
    return answer(job, wait_seconds=wait_seconds, done=lambda j: _close_state(practice, month) | {"job": str(j.id)})


def _close_state(practice, month: str) -> dict:
    close = MonthClose.objects.get(practice=practice, month=month)
    s = summarize(practice, month)
    return {
        "month": month,
        "status": close.status,
        "version": close.version,
        "progress_done": close.progress_done,
        "progress_total": close.progress_total,
        **s.__dict__,
        "allowed": str(s.allowed),
    }


@router.get("/practices/{practice_id}/months/{month}/decisions", response={200: list[dict], 403: dict, 404: dict})
def get_decisions(request, practice_id: int, month: str, review: str = ""):
    q = PatientMonthDecision.objects.filter(practice=_practice(request, practice_id), month=month)
    if review:
        q = q.filter(review=review)
    return [
        {
            "id": d.id,
            "patient_id": d.patient_id,
            "status": d.status,
            "review": d.review,
            "override": d.override_action or None,
            "decision": d.decision,
        }
        for d in q
    ]


@router.post("/decisions/{decision_id}/override", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_override(request, decision_id: int, payload: OverrideIn):
    d = PatientMonthDecision.objects.filter(id=decision_id).first()
    if d is None:
        raise NotFound(NOT_FOUND)
    _practice(request, d.practice_id)
    d = override(decision=d, action=payload.action, reason=payload.reason, by=request.user)
    return {"id": d.id, "review": d.review, "override": d.override_action}


@router.post(
    "/practices/{practice_id}/months/{month}/packets", response={200: dict, 202: dict, 403: dict, 404: dict, 422: dict}
)
def post_packets(request, practice_id: int, month: str, wait_seconds: float = 5.0):
    """Every audit packet of the month (HTML and PDF per patient-month) as one zip, built by a background job; its
    `download` link serves the file to whoever asked, for 24 hours (audited)."""
    practice = _practice(request, practice_id)
    return answer(start_packets(practice=practice, month=month, by=request.user), wait_seconds=wait_seconds)


@router.post(
    "/practices/{practice_id}/months/{month}/approve",
    response={200: dict, 202: dict, 403: dict, 404: dict, 409: dict, 422: dict, 500: dict},
)
def post_approve(request, practice_id: int, month: str, version: int | None = None, wait_seconds: float = 10.0):
    """Approve and close (a job: it checks that nothing changed since the evaluation); pass the `version` you
    reviewed (from the close response) to be refused with 409 if the month was re-evaluated since."""
    practice = _practice(request, practice_id)
    job = start_approval(practice=practice, month=month, by=request.user, expected_version=version)

    def closed(j) -> dict:
        c = MonthClose.objects.select_related("closed_by").get(practice=practice, month=month)
        return {
            "month": c.month,
            "status": c.status,
            "closed_at": c.closed_at,
            "closed_by": c.closed_by.get_username(),
            "job": str(j.id),
        }

    return answer(job, wait_seconds=wait_seconds, done=closed)


@router.get("/practices/{practice_id}/months/{month}/revenue", response={200: dict, 400: dict, 403: dict, 404: dict})
def get_revenue(request, practice_id: int, month: str):
    r = month_revenue(_practice(request, practice_id), month)
    return {
        "month": month,
        "captured": str(r.captured),
        "captured_at_close": str(r.captured_at_close),
        "corrections": str(r.corrections),
        "corrected_patients": r.corrected_patients,
        "potential": str(r.potential),
        "capture_rate": r.capture_rate,
        "patient_share": str(r.patient_share),
        "patients": r.patients,
        "billed_patients": r.billed_patients,
        "by_code": {k: {"units": v["units"], "allowed": str(v["allowed"])} for k, v in r.by_code.items()},
        "fee_source": r.fee_source,
        "provisional": r.provisional,
    }


@router.post(
    "/practices/{practice_id}/months/{month}/claims", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict}
)
def post_claims(request, practice_id: int, month: str, test: bool = False):
    """Produce the month's 837P (validated with pyx12); the file is in `content`, its total is the practice's
    charges, and `held_out` names every claim kept out of it with the reasons. `?test=true`: a test file."""
    b = export_837p(practice=_practice(request, practice_id), month=month, by=request.user, test=test)
    return {
        "control_number": b.control_number,
        "claims": b.claims,
        "lines": b.lines,
        "total": str(b.total),
        "test": b.test,
        "held_out": b.held_out,
        "content": b.content,
    }


@router.get(
    "/practices/{practice_id}/months/{month}/claims.fhir.json",
    response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict},
)
def get_fhir_claims(request, practice_id: int, month: str):
    """The closed month's claims as a FHIR R4 collection Bundle (Claim, Patient, Coverage, Organization,
    Practitioner), validated with fhir.resources R4B; the same claims, lines and amounts as the 837P."""
    return claims_bundle(practice=_practice(request, practice_id), month=month, by=request.user)


@router.get("/practices/{practice_id}/months/{month}/charges.csv", response={200: None, 403: dict, 404: dict})
def get_charges(request, practice_id: int, month: str):
    return HttpResponse(
        charges_csv(practice=_practice(request, practice_id), month=month, by=request.user), content_type="text/csv"
    )


@router.get("/practices/{practice_id}/months/{month}/adjustments", response={200: dict, 403: dict, 404: dict})
def get_adjustments(request, practice_id: int, month: str):
    """Work recorded after the month was closed: per patient-month, the queued entries, what was billed, what
    the engine decides now with them and the difference (`open`); and the resolutions made (`resolved`)."""
    practice = _practice(request, practice_id)
    return {
        "month": month,
        "open": [i.as_dict() for i in open_impacts(practice, month)],
        "resolved": [
            {
                "id": a.id,
                "patient_id": a.patient_id,
                "description": a.description,
                "outcome": a.outcome,
                "reference": a.reference,
                "note": a.resolution,
                "billed_after": a.billed_after,
                "resolved_at": a.resolved_at,
                "resolved_by": a.resolved_by.get_username() if a.resolved_by else None,
            }
            for a in resolved_adjustments(practice, month)
        ],
    }


@router.post(
    "/practices/{practice_id}/months/{month}/adjustments/resolve",
    response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict},
)
def post_resolve_adjustments(request, practice_id: int, month: str, payload: ResolveAdjustmentsIn):
    """Resolve one patient-month's queued entries (the ids you saw): `no_change` (refused with 409 when the
    codes change), `corrected` (with the contractor's `reference`) or `not_billed` (with a `note`)."""
    impact = resolve(
        practice=_practice(request, practice_id),
        month=month,
        adjustment_ids=payload.adjustment_ids,
        outcome=payload.outcome,
        note=payload.note,
        reference=payload.reference,
        by=request.user,
    )
    return {"outcome": payload.outcome, **impact.as_dict()}


@router.post(
    "/practices/{practice_id}/months/{month}/adjustments/resolve-unchanged",
    response={200: dict, 403: dict, 404: dict, 409: dict},
)
def post_resolve_unchanged(request, practice_id: int, month: str):
    """Resolve as `no_change` every queued patient-month whose late work changes no code or unit (notes signed
    late, addenda, time below the next threshold); those whose codes change stay queued."""
    done = resolve_unchanged(practice=_practice(request, practice_id), month=month, by=request.user)
    return {"resolved": [i.as_dict() for i in done], "count": len(done)}


def _batch_dict(b: ClaimBatch) -> dict:
    return {
        "control_number": b.control_number,
        "month": b.month,
        "state": b.state,
        "claims": b.claims,
        "lines": b.lines,
        "total": str(b.total),
        "created_at": b.created_at,
        "submitted_at": b.submitted_at,
        "rejected_at": b.rejected_at,
        "rejection_reason": b.rejection_reason,
    }


def _batch(request, practice_id: int, month: str, control_number: int) -> ClaimBatch:
    b = ClaimBatch.objects.filter(
        practice=_practice(request, practice_id), month=month, control_number=control_number
    ).first()
    if b is None:
        raise NotFound(f"No 837P #{control_number} in {month}.")
    return b


@router.get("/practices/{practice_id}/months/{month}/batches", response={200: list[dict], 403: dict, 404: dict})
def get_batches(request, practice_id: int, month: str):
    """The month's 837P batches, newest first, with their state (produced, submitted, rejected)."""
    q = ClaimBatch.objects.filter(practice=_practice(request, practice_id), month=month).order_by("-control_number")
    return [_batch_dict(b) for b in q]


@router.post(
    "/practices/{practice_id}/months/{month}/batches/{control_number}/submitted",
    response={200: dict, 403: dict, 404: dict, 409: dict},
)
def post_batch_submitted(request, practice_id: int, month: str, control_number: int):
    """Record that the batch went to the contractor (409 when another batch of the month stands as sent)."""
    return _batch_dict(mark_submitted(batch=_batch(request, practice_id, month, control_number), by=request.user))


@router.post(
    "/practices/{practice_id}/months/{month}/batches/{control_number}/rejected",
    response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict},
)
def post_batch_rejected(request, practice_id: int, month: str, control_number: int, payload: RejectIn):
    """The contractor's front end rejected the sent batch: the month may be produced and sent again."""
    batch = _batch(request, practice_id, month, control_number)
    return _batch_dict(mark_rejected(batch=batch, reason=payload.reason, by=request.user))


@router.post("/practices/{practice_id}/remittance", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_remittance(request, practice_id: int, payload: RemittanceIn):
    """Record remittance outcomes per claim line (claim_id is the 837P's CLM01), all or nothing: 422 names
    each bad line by its index."""
    n = record_remittance(
        practice=_practice(request, practice_id),
        rows=[(f"lines[{i}]", line.dict()) for i, line in enumerate(payload.lines)],
        source=payload.source,
        by=request.user,
    )
    return {"lines": n}


class KnownServiceIn(Schema):
    code: str
    date_of_service: dt.date
    practitioner_npi: str = ""
    source: str


class WithdrawIn(Schema):
    reason: str


def _known_dict(k: KnownService) -> dict:
    return {
        "id": k.id,
        "patient_id": k.patient_id,
        "code": k.code,
        "family": k.family,
        "date_of_service": k.date_of_service,
        "month": k.month,
        "practitioner_npi": k.practitioner_npi or None,
        "same_group": k.same_group,
        "source": k.source,
        "recorded_at": k.recorded_at,
        "recorded_by": k.recorded_by.get_username() if k.recorded_by_id else None,
        "withdrawn_at": k.withdrawn_at,
        "withdrawn_by": k.withdrawn_by.get_username() if k.withdrawn_by_id else None,
        "withdraw_reason": k.withdraw_reason,
    }


@router.get("/patients/{patient_id}/known-services", response={200: list[dict], 403: dict, 404: dict})
def get_known_services(request, patient_id: int):
    """Services known to be billed for the patient outside this practice's care-management claims (withdrawn
    ones included, marked)."""
    patient = request_scope(request).patient(patient_id)
    return [_known_dict(k) for k in patient.known_services.select_related("recorded_by", "withdrawn_by")]


@router.post("/patients/{patient_id}/known-services", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_known_service(request, patient_id: int, payload: KnownServiceIn):
    """Record a service known to be billed (billing or care-coordination staff): its month is decided with it; a
    month already closed gets it in its adjustment queue. 422 names the field."""
    patient = known_service_patient(request, patient_id)
    k = record_known_service(
        patient=patient,
        code=payload.code,
        date_of_service=payload.date_of_service,
        practitioner_npi=payload.practitioner_npi,
        source=payload.source,
        by=request.user,
    )
    return Status(201, _known_dict(k))


@router.post("/known-services/{service_id}/withdraw", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_known_service_withdraw(request, service_id: int, payload: WithdrawIn):
    """Withdraw a service recorded in error (kept on record, counted nowhere after); 409 when already withdrawn."""
    service = known_service_in_scope(request, service_id)
    return _known_dict(withdraw_known_service(service=service, reason=payload.reason, by=request.user))


class KnownServiceRowIn(Schema):
    mrn: str
    code: str
    date_of_service: str  # YYYY-MM-DD, checked with the row's index named
    practitioner_npi: str = ""
    source: str = ""


class KnownServicesIn(Schema):
    rows: list[KnownServiceRowIn]
    source: str = "API request"  # names the rows in problems, and is the source of a row without one


@router.post("/practices/{practice_id}/known-services", response={200: dict, 403: dict, 404: dict, 422: dict})
def post_known_services(request, practice_id: int, payload: KnownServicesIn):
    """Record many known services (billing staff), all or nothing: 422 names each bad row by its index. A row
    equal to a service on record is not recorded twice; a row without a source is known from `source` and its
    index."""
    practice = _practice(request, practice_id)
    done = record_known_services(
        practice=practice,
        rows=[(f"{payload.source}, rows[{i}]", row.dict()) for i, row in enumerate(payload.rows)],
        by=request.user,
    )
    return {"created": [_known_dict(k) for k in done.created], "already_on_record": done.already_on_record}
