"""What the payer says back, read from its X12 files (issue 35), each file once and all or nothing:

- a **999** accepts or rejects the 837P interchange it names (AK1's group control number): accepted, the batch is
  acknowledged (and marked submitted if it was not); rejected, the batch is recorded as rejected with the errors in
  plain words (segment, position, element, what is wrong), so the month's claims can be produced again; a
  transaction set rejected within an accepted file marks its claims rejected;
- a **277CA** says per claim (TRN02 = the CLM01 ccmops wrote) whether the payer's front end accepted it for
  adjudication or rejected it, with the status codes and text: on every line of the claim, for the biller;
- an **835** pays, adjusts or denies each service line: posted to the claim line it names by the line item control
  number the 837P sent (REF*6R), with the amounts, the adjustment reasons (CARC) and remarks (RARC), the patient's
  responsibility, and for a denial its kind and next step (`payer_codes`); another practitioner's service becomes
  a known service of the month. Lines that match nothing are kept and reported, never guessed.

A file is known by its sender and interchange control number (ISA06, ISA13): the same file read again changes
nothing and says when it was read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from ccmops.billing.eligibility import apply_271
from ccmops.billing.known import record_known_service
from ccmops.billing.models import ClaimBatch, ClaimLine, PayerFile, RemitLine
from ccmops.billing.payer_codes import (
    EXPECTED,
    IK3_ERRORS,
    IK4_ERRORS,
    NEXT_STEPS,
    RARC,
    STC_CATEGORIES,
    STC_REJECTED,
    reason_words,
    triage,
)
from ccmops.billing.remittance import mark_rejected, mark_submitted
from ccmops.billing.x12_read import Interchange, Seg, read_interchange
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.worklist.models import FollowUpTask
from ccmops.worklist.services import open_task


def _money(raw: str, where: str) -> Decimal:
    try:
        value = Decimal(raw or "0")
    except InvalidOperation:
        raise InvalidInput(f"{where}: expected an amount, got {raw!r}") from None
    return value.quantize(Decimal("0.01"))


def _date(raw: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(raw, "%Y%m%d").date() if raw else None
    except ValueError:
        return None


@transaction.atomic
def import_x12(*, practice, text: str, name: str, by) -> tuple[PayerFile, bool]:
    """Read one 999, 277CA, 835 or 271 for the practice. Returns the file and whether it was read now (False: it had
    been read before, and nothing changed).

    Raises:
        InvalidInput: not X12, not one of the four, not valid against its guide (the segment named), an
            acknowledgment of an interchange that is not one of the practice's 837Ps.
    """
    interchange = read_interchange(text, name)
    earlier = PayerFile.objects.filter(
        practice=practice, sender=interchange.sender, control_number=interchange.control_number
    ).first()
    if earlier is not None:
        return earlier, False
    apply = {"999": _apply_999, "277ca": _apply_277ca, "835": _apply_835, "271": apply_271}[interchange.kind]
    file = PayerFile.objects.create(
        practice=practice, kind=interchange.kind, sender=interchange.sender,
        control_number=interchange.control_number, name=name[:200], content=text, received_at=timezone.now(),
        received_by=by,
    )  # fmt: skip
    file.summary = apply(practice, interchange, file, by)
    file.save(update_fields=["summary"])
    record_audit(
        action=AuditAction.CREATE, user=by, practice_id=practice.id, obj=file,
        detail={"kind": file.kind, "sender": file.sender, "control_number": file.control_number,
                "summary": {k: v for k, v in file.summary.items() if isinstance(v, int | str)}},
    )  # fmt: skip
    return file, True


# ---------------------------------------------------------------------------------------------------------------- 999


def _batch_claims(batch: ClaimBatch) -> dict[str, list[str]]:
    """The claim ids (CLM01) of each transaction set (ST02) of the 837P as it was sent."""
    out: dict[str, list[str]] = defaultdict(list)
    st = ""
    for segment in batch.content.replace("\n", "").split("~"):
        parts = segment.split("*")
        if parts[0] == "ST":
            st = parts[2]
        elif parts[0] == "CLM":
            out[st].append(parts[1])
    return out


def _errors(segments: list[Seg]) -> list[str]:
    """The IK3/IK4 errors of one transaction set, in plain words: "segment NM1 at position 17 in loop 2010: segment
    has element errors", "element NM109: invalid code value (was 'BADID')"."""
    out, segment = [], ""
    for s in segments:
        if s.id == "IK3":
            segment = s.get(1)
            loop = f" in loop {s.get(3)}" if s.get(3) else ""
            out.append(f"segment {segment} at position {s.get(2)}{loop}: {IK3_ERRORS.get(s.get(4), s.get(4))}")
        elif s.id == "IK4":
            position = s.get(1, 1)
            element = f"{segment}{int(position):02d}" if position.isdigit() else position
            bad = f" (was {s.get(4)!r})" if s.get(4) else ""
            out.append(f"element {element}: {IK4_ERRORS.get(s.get(3), s.get(3))}{bad}")
    return out


def _apply_999(practice, interchange: Interchange, file: PayerFile, by) -> dict:
    segments = interchange.segments
    ak1 = next((s for s in segments if s.id == "AK1"), None)
    if ak1 is None or ak1.get(1) != "HC":
        raise InvalidInput(
            f"{file.name}: AK1: expected the acknowledgment of an 837 (AK1*HC), got {ak1 and ak1.get(1)!r}"
        )
    number = ak1.get(2)
    batch = (
        ClaimBatch.objects.select_for_update().filter(practice=practice, control_number=int(number)).first()
        if number.isdigit()
        else None
    )
    if batch is None:
        raise InvalidInput(
            f"{file.name}: AK1: group control number {number!r} is not an 837P of {practice.name}; nothing was read"
        )
    sets: dict[str, tuple[str, list[str]]] = {}  # ST02 -> (IK5 code, errors)
    current, block = "", []
    for s in segments:
        if s.id == "AK2":
            current, block = s.get(2), []
        elif s.id in ("IK3", "IK4", "CTX"):
            block.append(s)
        elif s.id == "IK5":
            sets[current] = (s.get(1), _errors(block))
    ak9 = next((s for s in segments if s.id == "AK9"), None)
    verdict = ak9.get(1) if ak9 else "A"
    claims = _batch_claims(batch)
    summary = {"batch": batch.control_number, "month": batch.month, "verdict": verdict, "rejected_claims": []}
    if batch.submitted_at is None and batch.rejected_at is None:
        try:
            mark_submitted(batch=batch, by=by)  # the payer's front end received it: it was sent
        except Conflict as exc:
            raise InvalidInput(f"{file.name}: {exc}") from None
        batch.refresh_from_db()
    if verdict == "R":
        errors = [e for code, found in sets.values() if code == "R" for e in found] or ["the file was rejected"]
        if batch.rejected_at is None:
            mark_rejected(batch=batch, reason=f"999 {file.control_number}: " + "; ".join(errors), by=by)
        summary["errors"] = errors
        return summary
    batch.acknowledged_at = timezone.now()
    batch.save(update_fields=["acknowledged_at"])
    for st, (code, errors) in sets.items():
        if code == "R":
            note = f"999 rejected transaction set {st}: " + "; ".join(errors or ["see the 999"])
            for claim_id in claims.get(st, []):
                _acknowledge(practice, claim_id, "rejected", note)
                summary["rejected_claims"].append(claim_id)
    return summary


# -------------------------------------------------------------------------------------------------------------- 277CA


def _acknowledge(practice, claim_id: str, status: str, note: str) -> int:
    return ClaimLine.of_claim(practice, claim_id).update(ack_status=status, ack_note=note[:300])


def _apply_277ca(practice, interchange: Interchange, file: PayerFile, by) -> dict:
    summary = {"accepted": [], "rejected": [], "unmatched": []}
    claim_id, statuses = None, []

    def close() -> None:
        if claim_id is None:
            return
        categories = [s.get(1, 1) for s in statuses]
        rejected = any(c in STC_REJECTED for c in categories)
        words = [
            f"{STC_CATEGORIES.get(s.get(1, 1), s.get(1, 1))} ({s.get(1, 1)}:{s.get(1, 2)})"
            + (f": {s.get(12)}" if s.get(12) else "")
            for s in statuses
        ]
        note = "277CA: " + "; ".join(words)
        if _acknowledge(practice, claim_id, "rejected" if rejected else "accepted", note):
            summary["rejected" if rejected else "accepted"].append(claim_id)
        else:
            summary["unmatched"].append(claim_id)

    level = ""
    for s in interchange.segments:
        if s.id == "HL":
            close()
            claim_id, statuses, level = None, [], s.get(3)
        elif s.id == "TRN" and level == "PT" and s.get(1) == "2":
            claim_id = s.get(2)
        elif s.id == "STC" and claim_id is not None:
            statuses.append(s)
        elif s.id == "SE":
            close()
            claim_id, statuses = None, []
    return {**summary, "claims": len(summary["accepted"]) + len(summary["rejected"])}


# ---------------------------------------------------------------------------------------------------------------- 835


def _adjustments(cas: Seg) -> list[dict]:
    out = []
    for k in range(2, 19, 3):  # CAS02/03, 05/06, 08/09 … 17/18: reason and amount
        reason = cas.get(k)
        if reason:
            out.append({"group": cas.get(1), "reason": reason, "amount": str(_money(cas.get(k + 1), "CAS"))})
    return out


def _apply_835(practice, interchange: Interchange, file: PayerFile, by) -> dict:
    segments = interchange.segments
    trn = next((s for s in segments if s.id == "TRN"), None)
    bpr = next((s for s in segments if s.id == "BPR"), None)
    summary: dict = {
        "trace": trn.get(2) if trn else "", "payment": str(_money(bpr.get(2), "BPR02")) if bpr else "0.00",
        "posted": 0, "unmatched": [], "denied": 0, "paid": "0.00", "provider_adjustments": [],
    }  # fmt: skip
    claims: list[tuple[Seg, list[Seg], list[list[Seg]]]] = []  # (CLP, claim-level segments, service lines)
    current = None  # the claim being read: its segments run to the next CLP, LX, PLB or SE
    for s in segments:
        if s.id == "CLP":
            current = (s, [], [])
            claims.append(current)
        elif s.id in ("LX", "PLB", "SE"):
            current = None
            for k in range(3, 14, 2) if s.id == "PLB" else ():
                if s.get(k):
                    summary["provider_adjustments"].append({"reason": s.get(k, 1), "amount": s.get(k + 1)})
        elif current is not None and s.id == "SVC":
            current[2].append([s])
        elif current is not None:
            (current[2][-1] if current[2] else current[1]).append(s)
    paid_total = Decimal("0.00")
    touched: set[int] = set()
    for clp, claim_segments, services in claims:
        claim_cas = [a for s in claim_segments if s.id == "CAS" for a in _adjustments(s)]
        if not services:
            summary["unmatched"].append(
                {"claim_id": clp.get(1), "why": "adjudicated at the claim level only (no service lines): post by hand"}
            )
            continue
        for service in services:
            remit = _remit_line(practice, file, summary["trace"], clp, service, claim_cas, by)
            paid_total += remit.paid
            if remit.claim_line_id is None:
                summary["unmatched"].append(
                    {
                        "claim_id": remit.claim_id,
                        "code": remit.code,
                        "control_number": remit.control_number,
                        "why": remit.next_step,
                    }
                )
                continue
            touched.add(remit.claim_line_id)
            summary["posted"] += 1
            summary["denied"] += remit.status == "denied"
    for line in ClaimLine.objects.filter(id__in=touched):
        _post(line)
    summary["paid"] = str(paid_total)
    return summary


def _remit_line(
    practice, file: PayerFile, trace: str, clp: Seg, service: list[Seg], claim_cas: list[dict], by
) -> RemitLine:
    svc = service[0]
    where = f"{file.name}, line {svc.line}"
    refs = {s.get(1): s.get(2) for s in service if s.id == "REF"}
    dates = {s.get(1): s.get(2) for s in service if s.id == "DTM"}
    adjustments = [a for s in service if s.id == "CAS" for a in _adjustments(s)] + claim_cas
    remarks = [s.get(2) for s in service if s.id == "LQ" and s.get(1) == "HE"]
    allowed = next((_money(s.get(2), where) for s in service if s.id == "AMT" and s.get(1) == "B6"), None)
    charge, paid = _money(svc.get(2), where), _money(svc.get(3), where)
    code = svc.get(1, 2)
    control = refs.get("6R", "")
    line = None
    why = ""
    if control.isdigit():
        line = ClaimLine.objects.filter(practice=practice, id=int(control)).first()
        if line is not None and f"{line.patient_id}-{line.month}" != clp.get(1):
            line, why = (
                None,
                f"line control number {control} belongs to claim {line.patient_id}-{line.month}, not {clp.get(1)}",
            )
    elif not control:
        line = ClaimLine.of_claim(practice, clp.get(1)).filter(code=code).first()
    if line is None and not why:
        why = f"no claim line of {practice.name} with control number {control!r}, claim {clp.get(1)!r}, code {code!r}"
    unexpected = [a for a in adjustments if (a["group"], a["reason"]) not in EXPECTED]
    status = "denied" if paid == 0 and charge > 0 else "adjusted" if unexpected or clp.get(2) == "22" else "paid"
    denial = triage(unexpected) if status != "paid" and unexpected else ""
    next_step = NEXT_STEPS[denial] if denial else ""
    if line is not None and denial == "another_provider":
        record_known_service(
            patient=line.patient, code=line.code, date_of_service=line.date_of_service,
            source=f"835 {file.name} (trace {trace or file.control_number}): "
            + ", ".join(reason_words(a["group"], a["reason"]) for a in unexpected), by=by, holds_following=True,
        )  # fmt: skip
        if not FollowUpTask.objects.filter(patient=line.patient, kind="billed_elsewhere", status="open").exists():
            open_task(
                patient=line.patient, kind="billed_elsewhere", due_on=timezone.localdate() + dt.timedelta(days=7),
                title=f"Another provider was paid {line.code} for {line.month}: ask the patient who furnishes their "
                "care management; their later months are held until you release them or record Enrolled elsewhere",
            )  # fmt: skip
    return RemitLine.objects.create(
        practice=practice, payer_file=file, claim_line=line, claim_id=clp.get(1), claim_status=clp.get(2),
        payer_claim_number=clp.get(7), control_number=control, code=code,
        date_of_service=_date(dates.get("472", "") or dates.get("150", "")), charge=charge, paid=paid,
        allowed=allowed,
        patient_responsibility=sum((Decimal(a["amount"]) for a in adjustments if a["group"] == "PR"), Decimal(0)),
        adjustments=adjustments, remarks=remarks, status=status, denial=denial,
        next_step=next_step if line is not None else why,
    )  # fmt: skip


def _post(line: ClaimLine) -> None:
    """The claim line's remittance: what every 835 paid for it (a reversal takes back, a correction pays again),
    its status and reasons from the newest."""
    remits = list(line.remittances.order_by("id"))
    newest = remits[-1]
    reasons = ", ".join(reason_words(a["group"], a["reason"]) for a in newest.adjustments)
    remarks = ", ".join(r + (f" ({RARC[r]})" if r in RARC else "") for r in newest.remarks)
    note = "; ".join(filter(None, [reasons, remarks]))  # the next step stays with the remittance line
    line.remit_status = newest.status
    line.paid_amount = max(sum((r.paid for r in remits), Decimal(0)), Decimal(0))
    line.remit_note = f"835 {newest.payer_file.name}: {note}"[:300] if note else f"835 {newest.payer_file.name}"
    line.remit_at = timezone.now()
    line.save(update_fields=["remit_status", "paid_amount", "remit_note", "remit_at"])


def said(file: PayerFile) -> str:
    """What reading the file did, in a sentence."""
    s = file.summary
    if file.kind == "999":
        verdict = {"A": "accepted", "E": "accepted with errors", "P": "partly accepted", "R": "rejected"}
        out = f"999 for 837P #{s['batch']} ({s['month']}): {verdict.get(s['verdict'], s['verdict'])}"
        if s.get("errors"):
            out += " — " + "; ".join(s["errors"])
        if s.get("rejected_claims"):
            out += f"; {len(s['rejected_claims'])} claim(s) rejected"
        return out
    if file.kind == "271":
        out = f"271: {s['patients']} patient(s) answered, {len(s['changed'])} with changed coverage"
        if s["not_verified"]:
            out += f", {len(s['not_verified'])} not verified"
        return out + (f", {len(s['unmatched'])} not ccmops's patients" if s["unmatched"] else "")
    if file.kind == "277ca":
        out = f"277CA: {len(s['accepted'])} claim(s) accepted, {len(s['rejected'])} rejected"
        return out + (f", {len(s['unmatched'])} not ccmops's claims" if s["unmatched"] else "")
    out = f"835 (trace {s['trace']}, payment ${s['payment']}): {s['posted']} line(s) posted, {s['denied']} denied"
    return out + (f", {len(s['unmatched'])} did not match a claim line" if s["unmatched"] else "")


def with_next_steps(lines) -> list[ClaimLine]:
    """Claim lines, each with the next step of its newest remittance (`next_step`, "" when none is needed)."""
    lines = list(lines)
    newest: dict[int, str] = {}
    for claim_line_id, step in (
        RemitLine.objects.filter(claim_line__in=lines).order_by("id").values_list("claim_line_id", "next_step")
    ):
        newest[claim_line_id] = step
    for line in lines:
        line.next_step = newest.get(line.id, "")
    return lines


MAX_BYTES = 20 * 1024 * 1024


def uploaded_text(upload) -> str:
    """An uploaded X12 file's text; InvalidInput when there is none, it is over 20 MB, or it is not ASCII."""
    if upload is None:
        raise InvalidInput("file: choose the 999, 277CA, 835 or 271 file")
    if upload.size and upload.size > MAX_BYTES:
        raise InvalidInput(f"file: {upload.name} is larger than 20 MB")
    try:
        return upload.read().decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput(f"{upload.name}: not an X12 text file (it holds non-ASCII bytes)") from None
