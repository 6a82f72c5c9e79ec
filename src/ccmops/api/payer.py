"""The payer loop over the API (issue 35): read an X12 file the payer or clearinghouse sent back (999, 277CA, 835, 271),
list what was read, and see one file's outcome — the claims acknowledged and the lines posted, with denials and
what did not match."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from ccmops.access.operating_model import Function
from ccmops.billing.eligibility import latest_results, write_inquiry
from ccmops.billing.models import EligibilityResult, PayerFile
from ccmops.billing.payer_files import import_x12, said, uploaded_text
from ccmops.billing.receivables import receivables, receivables_practice, write_off
from ccmops.errors import NOT_FOUND, NotFound
from ccmops.months.month import checked
from ccmops.patients.scope import practice_for

router = Router(tags=["payer loop"])


def _billing_practice(request, practice_id: int):
    return practice_for(request, practice_id, Function.BILLING)


def file_json(f: PayerFile, *, lines: bool = False) -> dict:
    out = {
        "id": f.id, "kind": f.kind, "name": f.name, "sender": f.sender, "control_number": f.control_number,
        "received_at": f.received_at, "received_by": f.received_by.get_username() if f.received_by_id else None,
        "said": said(f), "summary": f.summary,
    }  # fmt: skip
    if lines:
        out["lines"] = [
            {"claim_id": r.claim_id, "code": r.code, "control_number": r.control_number, "claim_line": r.claim_line_id,
             "date_of_service": r.date_of_service, "charge": str(r.charge), "paid": str(r.paid),
             "allowed": str(r.allowed) if r.allowed is not None else None,
             "patient_responsibility": str(r.patient_responsibility), "status": r.status,
             "adjustments": r.adjustments, "remarks": r.remarks, "denial": r.denial or None,
             "next_step": r.next_step or None}
            for r in f.remit_lines.all()
        ]  # fmt: skip
        if f.kind == "271":
            out["patients"] = [result_json(r) for r in f.eligibility_results.all()]
    return out


def result_json(r: EligibilityResult) -> dict:
    return {"patient_id": r.patient_id, "month": r.month, "checked_on": r.checked_on, "outcome": r.outcome,
            "said": r.words, "changed": r.changed, "coverage": r.detail.get("coverage", []),
            "qmb": r.detail.get("qmb", []), "died": r.detail.get("died"), "payer_file": r.payer_file_id}  # fmt: skip


@router.post("/practices/{practice_id}/months/{month}/eligibility-inquiry", response={201: dict, 403: dict, 404: dict,
                                                                                         422: dict})  # fmt: skip
def post_eligibility_inquiry(request, practice_id: int, month: str):
    """Write the month's 270 (005010X279A1, validated with pyx12) for its patients with an MBI: 201 with the file's
    text to send to the clearinghouse; 422 naming what is missing."""
    practice = _billing_practice(request, practice_id)
    inquiry = write_inquiry(practice=practice, month=checked(month), by=request.user)
    return Status(201, {"id": inquiry.id, "month": inquiry.month, "control_number": inquiry.control_number,
                        "patients": inquiry.patients, "content": inquiry.content})  # fmt: skip


@router.get("/practices/{practice_id}/months/{month}/eligibility", response={200: list[dict], 403: dict, 404: dict,
                                                                             422: dict})  # fmt: skip
def get_eligibility(request, practice_id: int, month: str):
    """Each patient's newest eligibility answer for the month (from the 271s read), changed ones first."""
    practice = _billing_practice(request, practice_id)
    return [result_json(r) for r in latest_results(practice, checked(month))]


@router.post("/practices/{practice_id}/x12", response={200: dict, 201: dict, 403: dict, 404: dict, 422: dict})
def post_x12(request, practice_id: int, file: UploadedFile = File(...)):  # noqa: B008
    """Read one 999, 277CA, 835 or 271 (multipart `file`): 201 with what it did; 200 when the same file (sender and
    interchange control number) was read before and nothing changed; 422 naming the segment when it is refused."""
    practice = _billing_practice(request, practice_id)
    text = uploaded_text(file)
    read, new = import_x12(practice=practice, text=text, name=file.name or "upload", by=request.user)
    return Status(201 if new else 200, file_json(read, lines=True) | {"read_now": new})


@router.get("/practices/{practice_id}/payer-files", response={200: list[dict], 403: dict, 404: dict})
def list_payer_files(request, practice_id: int):
    practice = _billing_practice(request, practice_id)
    return [file_json(f) for f in PayerFile.objects.filter(practice=practice).select_related("received_by")[:200]]


@router.get("/payer-files/{file_id}", response={200: dict, 403: dict, 404: dict})
def get_payer_file(request, file_id: int):
    found = PayerFile.objects.filter(id=file_id).first()
    if found is None:
        raise NotFound(NOT_FOUND)
    _billing_practice(request, found.practice_id)
    return file_json(found, lines=True)


@router.get("/practices/{practice_id}/receivables", response={200: dict, 403: dict, 404: dict})
def get_receivables(request, practice_id: int):
    """Claims by status with expected, collected and open amounts; open balances by age; denial reasons by
    frequency and amount; collected against expected by month; and every claim."""
    practice = receivables_practice(request, practice_id)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))
    r = receivables(practice, today)
    money = str
    return {
        "as_of": today,
        "totals": {"claims": len(r.claims), "expected": money(r.total_expected), "collected": money(r.total_paid),
                   "open": money(r.total_balance)},
        "by_status": {s: {"claims": v["claims"], "expected": money(v["expected"]), "collected": money(v["paid"]),
                          "open": money(v["balance"])} for s, v in r.by_status.items()},
        "aging": {bucket: money(amount) for bucket, amount in r.aging.items()},
        "denials": [{"reason": d["reason"], "said": d["said"], "lines": d["lines"], "amount": money(d["amount"])}
                    for d in r.denials],
        "by_month": [{"month": m["month"], "expected": money(m["expected"]), "collected": money(m["collected"])}
                     for m in r.by_month],
        "claims": [{"claim_id": c.claim_id, "patient_id": c.patient.id, "month": c.month, "sent_on": c.sent_on,
                    "status": c.status, "expected": money(c.expected), "collected": money(c.paid),
                    "open": money(c.balance), "age_days": c.age_days, "aging": c.bucket or None,
                    "written_off": {"amount": money(c.written_off.amount), "reason": c.written_off.reason,
                                    "on": c.written_off.written_off_at} if c.written_off else None}
                   for c in r.claims],
    }  # fmt: skip


class WriteOffIn(Schema):
    reason: str


@router.post("/practices/{practice_id}/claims/{claim_id}/write-off",
             response={201: dict, 403: dict, 404: dict, 409: dict, 422: dict})  # fmt: skip
def post_write_off(request, practice_id: int, claim_id: str, body: WriteOffIn):
    """Write a claim's open balance off (billers), with the reason: 201; 409 when nothing is open or it was written
    off already; 422 naming the field."""
    practice = _billing_practice(request, practice_id)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))
    off = write_off(practice=practice, claim_id=claim_id, reason=body.reason, by=request.user, today=today)
    return Status(201, {"claim_id": off.claim_id, "amount": str(off.amount), "reason": off.reason,
                        "written_off_at": off.written_off_at})  # fmt: skip
