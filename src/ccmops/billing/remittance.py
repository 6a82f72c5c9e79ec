"""Claim batches marked submitted (or rejected by the contractor's front end), and remittance outcomes recorded
by hand, from a CSV or through the API (each all or nothing)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from ccmops.billing.csvfile import csv_rows
from ccmops.billing.models import ClaimBatch, ClaimLine
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.ledger import is_closed

COLUMNS = ("claim_id", "code", "status", "paid_amount", "note")
REMIT_STATUSES = ("paid", "denied", "adjusted")


def sent_batch(practice, month: str) -> ClaimBatch | None:
    """The month's 837P that stands as sent: submitted and not rejected (at most one, by constraint)."""
    return ClaimBatch.objects.filter(
        practice=practice, month=month, submitted_at__isnull=False, rejected_at__isnull=True
    ).first()


@transaction.atomic
def mark_submitted(*, batch: ClaimBatch, by) -> ClaimBatch:
    """Record that this interchange went to the contractor. Refused when it already was, or when another 837P of
    the month stands as sent: the month's claims would go out twice."""
    given, batch = batch, ClaimBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.rejected_at is not None:
        raise Conflict(f"837P #{batch.control_number} was rejected on {batch.rejected_at:%Y-%m-%d}; produce a new one.")
    if batch.test:
        raise Conflict(f"837P #{batch.control_number} is a test file (ISA15 = T); produce a production file to send.")
    if batch.submitted_at is not None:
        raise Conflict(f"837P #{batch.control_number} was already marked submitted on {batch.submitted_at:%Y-%m-%d}.")
    other = sent_batch(batch.practice, batch.month)
    if other is not None:
        raise Conflict(
            f"837P #{other.control_number} with {batch.month}'s claims was submitted on {other.submitted_at:%Y-%m-%d}; "
            f"sending #{batch.control_number} too would bill the month twice. If the contractor's front end "
            f"rejected #{other.control_number}, record that first."
        )
    batch.submitted_at, batch.submitted_by = timezone.now(), by
    try:
        with transaction.atomic():
            batch.save(update_fields=["submitted_at", "submitted_by"])
    except IntegrityError as exc:  # another biller marked a sibling batch at the same moment
        raise Conflict(f"another 837P of {batch.month} was marked submitted just now; reload the month") from exc
    record_audit(
        action=AuditAction.UPDATE, user=by, practice_id=batch.practice_id, obj=batch, detail={"submitted": True}
    )
    given.refresh_from_db()
    return given


@transaction.atomic
def mark_rejected(*, batch: ClaimBatch, reason: str, by) -> ClaimBatch:
    """The contractor's front end rejected the interchange (a 999 or 277CA rejection): none of its claims was
    accepted for processing, so the month may be sent again. The reason (the rejection's text) is kept."""
    given, batch = batch, ClaimBatch.objects.select_for_update().get(pk=batch.pk)
    reason = reason.strip()
    if batch.submitted_at is None:
        raise Conflict(f"837P #{batch.control_number} was not marked submitted; only a sent file can be rejected.")
    if batch.rejected_at is not None:
        raise Conflict(
            f"837P #{batch.control_number} was already recorded as rejected on {batch.rejected_at:%Y-%m-%d}."
        )
    if len(reason) < 5:
        raise InvalidInput("reason: give the front end's rejection (e.g. the 999 error), kept with the batch")
    if ClaimLine.objects.filter(practice=batch.practice, month=batch.month).exclude(remit_status="").exists():
        raise Conflict(
            f"{batch.month} has remittance recorded against its claims: they were processed, not rejected at the front "
            "end; correct them with the contractor (the adjustment queue keeps the reference)."
        )
    batch.rejected_at, batch.rejected_by, batch.rejection_reason = timezone.now(), by, reason[:300]
    batch.save(update_fields=["rejected_at", "rejected_by", "rejection_reason"])
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        practice_id=batch.practice_id,
        obj=batch,
        detail={"rejected": True, "reason": batch.rejection_reason},
    )
    given.refresh_from_db()
    return given


def _amount(raw) -> Decimal:
    text = str(raw if raw is not None else "").strip() or "0"
    value = Decimal(text)
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidOperation
    return value


@transaction.atomic
def record_remittance(*, practice, rows: list[tuple[str, dict]], source: str, by) -> int:
    """Record paid / denied / adjusted per claim line; each row is (where, {claim_id, code, status, paid_amount,
    note}) with claim_id the CLM01 ccmops wrote (`<patient id>-<YYYY-MM>`). Every problem is named with its
    `where`, and nothing is recorded unless every row is good."""
    problems, updates = [], []
    closed: dict[str, bool] = {}
    for where, row in rows:
        claim = str(row.get("claim_id") or "").strip()
        code = str(row.get("code") or "").strip()
        line = ClaimLine.of_claim(practice, claim).filter(code=code).first()
        status = str(row.get("status") or "").strip().lower()
        try:
            paid = _amount(row.get("paid_amount"))
        except (InvalidOperation, ValueError):
            problems.append(f"{where}: paid_amount: expected an amount like 52.90, got {row.get('paid_amount')!r}")
            continue
        if line is None:
            problems.append(f"{where}: no claim line {claim!r} {code!r} in {practice.name}")
            continue
        month = line.month
        if month not in closed:
            closed[month] = is_closed(practice, month)
        if not closed[month]:
            problems.append(f"{where}: {month} is not closed; its claims have not been sent")
        elif status not in REMIT_STATUSES:
            problems.append(f"{where}: status: expected paid, denied or adjusted, got {status!r}")
        else:
            updates.append((line, status, paid, str(row.get("note") or "").strip()))
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
        object_id=source[:100],
        detail={
            "lines": len(updates),
            "outcomes": [
                {"claim_id": x.claim_id, "code": x.code, "status": s, "paid": str(p)} for x, s, p, _ in updates
            ],
        },
    )
    return len(updates)


def import_remittance(*, practice, text: str, file_label: str, by) -> int:
    """A remittance CSV (COLUMNS, one row per claim line), all or nothing; problems name file and line."""
    return record_remittance(practice=practice, rows=csv_rows(text, file_label, COLUMNS), source=file_label, by=by)


def record_line_remittance(*, line: ClaimLine, status: str, paid_amount: str, note: str, by) -> ClaimLine:
    """One line's outcome entered by hand (from a paper remittance advice or the contractor's portal)."""
    row = {
        "claim_id": line.claim_id,
        "code": line.code,
        "status": status,
        "paid_amount": paid_amount,
        "note": note,
    }
    record_remittance(
        practice=line.practice, rows=[(f"{line.code} of claim {row['claim_id']}", row)], source="by hand", by=by
    )
    line.refresh_from_db()
    return line
