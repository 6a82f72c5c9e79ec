"""Exports of a closed month: the 837P batch (recorded) and a CSV of charges for practice-management entry."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ccmops.billing.models import ClaimBatch, ClaimLine
from ccmops.billing.remittance import sent_batch
from ccmops.billing.x12 import build_837p, require_closed
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict


@transaction.atomic
def export_837p(*, practice, month: str, by=None) -> ClaimBatch:
    """A new 837P interchange of the closed month, kept as a batch. Refused once one stands as sent (submitted
    and not rejected): its file stays downloadable, but the month's claims are not produced a second time.

    Raises:
        Conflict: the month is not closed, or its claims were sent.
        InvalidInput: missing practice or patient data, or pyx12 rejected the file.
    """
    sent = sent_batch(practice, month)
    if sent is not None:
        raise Conflict(
            f"{month}'s claims were sent in 837P #{sent.control_number} on {sent.submitted_at:%Y-%m-%d}; download "
            "that file from its batch, or record that the contractor's front end rejected it to produce a new one."
        )
    last = ClaimBatch.objects.aggregate(n=Max("control_number"))["n"] or 0
    claim_file = build_837p(practice, month, control_number=last + 1)
    batch = ClaimBatch.objects.create(
        practice=practice,
        month=month,
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
        detail={"month": month, "claims": batch.claims, "lines": batch.lines, "total": str(batch.total)},
    )
    return batch


def charges_csv(*, practice, month: str, by=None) -> str:
    """The closed month's billed lines, one row per code, for keying into a practice-management system.

    Raises:
        Conflict: the month is not closed (lines of a month in review may still change).
    """
    require_closed(practice, month)
    out = io.StringIO()
    w = csv.writer(out)
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
