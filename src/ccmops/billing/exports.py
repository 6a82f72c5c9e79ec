"""Exports of a closed month: the 837P batch (recorded) and a CSV of charges for practice-management entry."""

from __future__ import annotations

import io

from django.db import transaction
from django.utils import timezone

from ccmops.billing.models import ClaimBatch, ClaimLine, ControlCounter
from ccmops.billing.remittance import sent_batch
from ccmops.billing.x12 import build_837p, require_closed, submitter
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict
from ccmops.organizations.charges import charge_of
from ccmops.platform import csv_cells


def next_control_number(sender) -> int:
    """The submitter's next interchange control number, from its counter read with a row lock: two billers
    exporting at once wait on each other here instead of both taking max + 1 (call inside a transaction)."""
    counter, _ = ControlCounter.objects.get_or_create(submitter=sender)
    counter = ControlCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def export_837p(*, practice, month: str, by=None, test: bool = False) -> ClaimBatch:
    """A new 837P interchange of the closed month, kept as a batch: every claim that passes its checks, the
    others held out and named on the batch. Refused once one stands as sent (submitted and not rejected): its file
    stays downloadable, but the month's claims are not produced a second time. `test`: a test file (ISA15 = T).

    Raises:
        Conflict: the month is not closed, or its claims were sent.
        InvalidInput: missing practice data, every claim held out, or pyx12 rejected the file.
    """
    sent = sent_batch(practice, month)
    if sent is not None:
        raise Conflict(
            f"{month}'s claims were sent in 837P #{sent.control_number} on {sent.submitted_at:%Y-%m-%d}; download "
            "that file from its batch, or record that the contractor's front end rejected it to produce a new one."
        )
    sender = submitter(practice)
    claim_file = build_837p(practice, month, control_number=next_control_number(sender), test=test)
    batch = ClaimBatch.objects.create(
        practice=practice,
        month=month,
        submitter=sender,
        test=test,
        held_out=[h.as_dict() for h in claim_file.held],
        control_number=claim_file.control_number,
        claims=claim_file.claims,
        lines=claim_file.lines,
        total=claim_file.total,
        content=claim_file.text,
        created_by=by,
        created_at=timezone.now(),
    )
    record_audit(
        action=AuditAction.EXPORT,
        user=by,
        practice_id=practice.id,
        obj=batch,
        detail={
            "month": month,
            "claims": batch.claims,
            "lines": batch.lines,
            "total": str(batch.total),
            "held_out": len(batch.held_out),
            "test": test,
        },
    )
    return batch


def charges_csv(*, practice, month: str, by=None) -> str:
    """The closed month's billed lines, one row per code, for keying into a practice-management system.

    Raises:
        Conflict: the month is not closed (lines of a month in review may still change).
    """
    require_closed(practice, month)
    out = io.StringIO()
    w = csv_cells.writer(out)
    w.writerow(
        [
            "mrn",
            "patient",
            "birth_date",
            "medicare_id",
            "date_of_service",
            "code",
            "units",
            "diagnosis_codes",
            "charge",
            "allowed_estimate",
            "patient_share",
            "rendering_npi",
            "place_of_service",
        ]
    )
    n = 0
    for line in (
        ClaimLine.objects.filter(practice=practice, month=month)
        .select_related("patient", "billing_practitioner", "decision")
        .order_by("patient__family_name", "code")
    ):
        if line.decision.override_action == "do_not_bill":
            continue
        p = line.patient
        w.writerow(
            [
                p.mrn,
                f"{p.family_name}, {p.given_name}",
                p.birth_date,
                p.medicare_id,
                line.date_of_service,
                line.code,
                line.units,
                " ".join(line.diagnosis_codes),
                f"{charge * line.units:.2f}" if (charge := charge_of(practice, line.code)) is not None else "",
                line.allowed_amount,
                line.patient_share,
                line.billing_practitioner.npi,
                practice.place_of_service,
            ]
        )
        n += 1
    record_audit(
        action=AuditAction.EXPORT,
        user=by,
        practice_id=practice.id,
        object_type="charges_csv",
        object_id=month,
        detail={"lines": n},
    )
    return out.getvalue()
