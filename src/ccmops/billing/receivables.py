"""Accounts receivable and denials (issue 35): every claim ccmops sent, where it stands with the payer, what it
was expected to bring and what came in. A claim is a patient-month's lines (CLM01 `<patient id>-<YYYY-MM>`) of a
month whose 837P was submitted (or rejected by the front end). Its status, from what the payer said:

- *rejected*: the interchange was rejected (999) and not sent again, or the front end rejected the claim (277CA);
- *paid*, *partially paid*, *denied*: from the 835's lines (partially: some lines denied or adjusted below what
  was expected);
- *acknowledged*: the front end accepted it (999 or 277CA), no remittance yet; *sent*: nothing heard yet;
- *written off*: a biller wrote its open balance off, with a reason (`write_off`): nothing more is expected.

Expected is what Medicare pays of the allowed amounts (allowed less the patient's share); the balance is what is
still open of it (none once paid as adjudicated); the age of an open claim counts from the day its 837P was
submitted."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.access.policy import PROGRAM_LEADS
from ccmops.billing.models import ClaimBatch, ClaimLine, ClaimWriteOff, RemitLine
from ccmops.billing.payer_codes import EXPECTED, reason_words
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.patients.scope import request_scope
from ccmops.platform.csv_cells import writer as csv_writer

STATUSES = ("sent", "acknowledged", "rejected", "paid", "partially paid", "denied", "written off")
BUCKETS = ("0–30 days", "31–60 days", "61–90 days", "over 90 days")
ZERO = Decimal("0.00")


@dataclass
class Claim:
    claim_id: str
    patient: object
    month: str
    sent_on: dt.date | None
    status: str
    expected: Decimal
    paid: Decimal
    balance: Decimal
    age_days: int | None
    lines: list = field(default_factory=list)
    written_off: object = None  # the ClaimWriteOff, when its balance was written off

    @property
    def bucket(self) -> str:
        return _bucket(self.age_days) if self.balance > 0 and self.age_days is not None else ""


@dataclass
class Receivables:
    claims: list[Claim]
    by_status: dict[str, dict]  # status -> {claims, expected, paid, balance}
    aging: dict[str, Decimal]  # bucket -> open balance
    denials: list[dict]  # [{reason, said, lines, amount}] most frequent first
    by_month: list[dict]  # [{month, expected, collected}]
    total_expected: Decimal = ZERO
    total_paid: Decimal = ZERO
    total_balance: Decimal = ZERO


def _bucket(days: int) -> str:
    return BUCKETS[0] if days <= 30 else BUCKETS[1] if days <= 60 else BUCKETS[2] if days <= 90 else BUCKETS[3]


def _status(lines: list[ClaimLine], batch: ClaimBatch) -> str:
    if batch.rejected_at is not None or any(x.ack_status == "rejected" for x in lines):
        return "rejected"
    remitted = [x for x in lines if x.remit_status]
    if not remitted:
        return "acknowledged" if batch.acknowledged_at or any(x.ack_status == "accepted" for x in lines) else "sent"
    if all(x.remit_status == "denied" for x in lines):
        return "denied"
    expected = sum((x.allowed_amount - x.patient_share for x in lines), ZERO)
    paid = sum((x.paid_amount or ZERO for x in lines), ZERO)
    if len(remitted) < len(lines) or any(x.remit_status == "denied" for x in lines) or paid < expected:
        return "partially paid"
    return "paid"


def receivables(practice, today: dt.date) -> Receivables:
    batches: dict[str, ClaimBatch] = {}
    for b in ClaimBatch.objects.filter(practice=practice, submitted_at__isnull=False).order_by("created_at", "id"):
        if b.month not in batches or batches[b.month].rejected_at is not None:
            batches[b.month] = b  # the month's batch that stands as sent, else its newest rejected one
    by_claim: dict[tuple, list[ClaimLine]] = defaultdict(list)
    lines = ClaimLine.objects.filter(practice=practice, month__in=list(batches)).select_related("patient")
    for line in lines.order_by("month", "patient_id", "id"):
        by_claim[(line.patient_id, line.month)].append(line)
    written = {w.claim_id: w for w in ClaimWriteOff.objects.filter(practice=practice).select_related("written_off_by")}
    claims = []
    for (_, month), claim_lines in by_claim.items():
        batch = batches[month]
        status = _status(claim_lines, batch)
        expected = sum((x.allowed_amount - x.patient_share for x in claim_lines), ZERO)
        paid = sum((x.paid_amount or ZERO for x in claim_lines), ZERO)
        balance = ZERO if status == "paid" else max(expected - paid, ZERO)
        sent_on = batch.submitted_at.date() if batch.submitted_at else None
        off = written.get(claim_lines[0].claim_id)
        if off is not None:
            status, balance = "written off", ZERO
        claims.append(Claim(claim_lines[0].claim_id, claim_lines[0].patient, month, sent_on, status, expected, paid,
                            balance, (today - sent_on).days if sent_on else None, claim_lines, off))  # fmt: skip
    by_status = {s: {"claims": 0, "expected": ZERO, "paid": ZERO, "balance": ZERO} for s in STATUSES}
    aging = dict.fromkeys(BUCKETS, ZERO)
    by_month: dict[str, dict] = {}
    for c in claims:
        row = by_status[c.status]
        row["claims"] += 1
        row["expected"] += c.expected
        row["paid"] += c.paid
        row["balance"] += c.balance
        if c.bucket:
            aging[c.bucket] += c.balance
        month = by_month.setdefault(c.month, {"month": c.month, "expected": ZERO, "collected": ZERO})
        month["expected"] += c.expected
        month["collected"] += c.paid
    counts: Counter = Counter()
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for remit in RemitLine.objects.filter(practice=practice, status="denied", claim_line__isnull=False):
        unexpected = [a for a in remit.adjustments if (a["group"], a["reason"]) not in EXPECTED]
        key = f"{unexpected[0]['group']}-{unexpected[0]['reason']}" if unexpected else "no reason given"
        counts[key] += 1
        amounts[key] += remit.charge
    denials = [
        {"reason": key, "said": reason_words(*key.split("-", 1)) if "-" in key else key, "lines": n,
         "amount": amounts[key]}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], -amounts[kv[0]], kv[0]))
    ]  # fmt: skip
    return Receivables(
        claims=claims,
        by_status=by_status,
        aging=aging,
        denials=denials,
        by_month=[by_month[m] for m in sorted(by_month)],
        total_expected=sum((c.expected for c in claims), ZERO),
        total_paid=sum((c.paid for c in claims), ZERO),
        total_balance=sum((c.balance for c in claims), ZERO),
    )


@transaction.atomic
def write_off(*, practice, claim_id: str, reason: str, by, today: dt.date) -> ClaimWriteOff:
    """Write off a claim's open balance with the reason (kept, audited): the claim counts as written off.

    Raises:
        InvalidInput: no reason, or a claim that is not one of the practice's sent claims.
        Conflict: nothing is open on it, or it was written off already.
    """
    reason = reason.strip()
    if not 5 <= len(reason) <= 300:
        raise InvalidInput("reason: say why the balance is written off (5 to 300 characters; kept with the claim)")
    list(ClaimBatch.objects.select_for_update().filter(practice=practice).values_list("id"))  # one at a time
    found = next((c for c in receivables(practice, today).claims if c.claim_id == claim_id), None)
    if found is None:
        raise InvalidInput(f"claim_id: {claim_id!r} is not a claim {practice.name} sent")
    if found.written_off is not None:
        raise Conflict(f"claim {claim_id} was written off on {found.written_off.written_off_at:%Y-%m-%d}")
    if found.balance <= 0:
        raise Conflict(f"claim {claim_id} has no open balance to write off ({found.status})")
    off = ClaimWriteOff.objects.create(
        practice=practice, patient=found.patient, month=found.month, claim_id=claim_id, amount=found.balance,
        reason=reason, written_off_by=by, written_off_at=timezone.now(),
    )  # fmt: skip
    record_audit(action=AuditAction.UPDATE, user=by, patient=found.patient, obj=off,
                 detail={"claim_id": claim_id, "written_off": str(found.balance), "status_was": found.status,
                         "reason": reason})  # fmt: skip
    return off


def receivables_practice(request, practice_id: int):
    """The practice, for its billers and its program leads (owner, partner operations lead)."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    if scope.decision.grant_for(practice.id, Function.BILLING) is None:
        scope.require_role(practice.id, PROGRAM_LEADS, "Claims and receivables")
    return practice


CSV_COLUMNS = (
    "claim_id", "patient", "month", "sent_on", "status", "expected", "paid", "balance", "age_days", "aging",
    "written_off", "write_off_reason",
)  # fmt: skip


def _written_off(c: Claim) -> tuple:
    return (c.written_off.amount, c.written_off.reason) if c.written_off else ("", "")


def receivables_csv(result: Receivables) -> str:
    """One row per claim (cells that a spreadsheet would run as formulas are made inert: `platform.csv_cells`)."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in result.claims:
        writer.writerow([c.claim_id, str(c.patient), c.month, c.sent_on or "", c.status, c.expected, c.paid, c.balance,
                         "" if c.age_days is None else c.age_days, c.bucket, *_written_off(c)])  # fmt: skip
    return out.getvalue()
