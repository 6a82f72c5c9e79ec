"""Claim batches marked submitted, and remittance outcomes recorded by hand or from a CSV (all or nothing)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from ccmops.billing.models import ClaimBatch, ClaimLine
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput

COLUMNS = ("claim_id", "code", "status", "paid_amount", "note")


@transaction.atomic
def mark_submitted(*, batch: ClaimBatch, by) -> ClaimBatch:
    if batch.submitted_at is not None:
        raise Conflict(f"837P #{batch.control_number} was already marked submitted on {batch.submitted_at:%Y-%m-%d}.")
    batch.submitted_at = timezone.now()
    batch.save(update_fields=["submitted_at"])
    record_audit(
        action=AuditAction.UPDATE, user=by, practice_id=batch.practice_id, obj=batch, detail={"submitted": True}
    )
    return batch


@transaction.atomic
def import_remittance(*, practice, text: str, file_label: str, by) -> int:
    """Record paid/denied/adjusted per line; claim_id is the CLM01 ccmops wrote (`<patient id>-<YYYY-MM>`)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"{file_label}, line 1: missing column(s) {', '.join(missing)}")
    problems, updates = [], []
    for lineno, row in enumerate(reader, start=2):
        where = f"{file_label}, line {lineno}"
        claim = (row["claim_id"] or "").strip()
        pid, _, month = claim.partition("-")
        line = ClaimLine.objects.filter(
            practice=practice,
            patient_id=int(pid) if pid.isdigit() else -1,
            month=month,
            code=(row["code"] or "").strip(),
        ).first()
        status = (row["status"] or "").strip().lower()
        try:
            paid = Decimal((row["paid_amount"] or "0").strip() or "0")
        except InvalidOperation:
            problems.append(f"{where}: paid_amount: expected a number, got {row['paid_amount']!r}")
            continue
        if line is None:
            problems.append(f"{where}: no claim line {claim} {row['code']!r} in {practice.name}")
        elif status not in ("paid", "denied", "adjusted"):
            problems.append(f"{where}: status: expected paid, denied or adjusted, got {status!r}")
        else:
            updates.append((line, status, paid, (row["note"] or "").strip()))
    if problems:
        raise InvalidInput("\n".join(problems))
    now = timezone.now()
    for line, status, paid, note in updates:
        line.remit_status, line.paid_amount, line.remit_note, line.remit_at = status, paid, note[:300], now
        line.save(update_fields=["remit_status", "paid_amount", "remit_note", "remit_at"])
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        practice_id=practice.id,
        object_type="remittance",
        object_id=file_label,
        detail={"lines": len(updates)},
    )
    return len(updates)
