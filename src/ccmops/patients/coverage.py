"""What decides whether a month may be billed to Medicare at all, as people record it on the patient's page:
coverage with its source (R-COV-1), the date of death (R-COV-2), and the ICD-10-CM code a person confirms for a
problem known only by its SNOMED CT code (R-DX-3). Each change is audited."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.patients.models import CoverageRecord, PatientCondition
from ccmops.patients.services import source_given
from ccmops.patients.vocabulary import PAYER_NAMES, PAYERS
from ccmops.rules.conditions import billable_children, icd10_is_billable, icd10_is_valid, is_acute_episode, table

MANUAL = "manual:"
ELIGIBILITY = "271:"  # coverage an eligibility response (271) stated (`billing.eligibility`)


# What Medicare's eligibility response speaks for: imported coverage of these kinds gives way to it.
MEDICARE_ANSWERS = frozenset({"medicare", "medicare_advantage", "part_a_only", "none", "unknown"})


def eligibility_first(rows: list[tuple]) -> list[tuple]:
    """Coverage rows (patient id, source id, payer, …) as the close reads them: for a patient with an eligibility
    response on record, the response supersedes what imported coverage (the EHR's Coverage, the CSV, claims'
    payers) says about Medicare — the payer's answer is the better evidence — while imported non-Medicare coverage
    stands (an imported dual eligibility keeps its Medicaid side). Coverage a person entered stands beside it."""
    answered = {r[0] for r in rows if r[1].startswith(ELIGIBILITY)}
    out = []
    for r in rows:
        if r[0] not in answered or r[1].startswith((ELIGIBILITY, MANUAL)):
            out.append(r)
        elif r[2] == "dual_eligible":
            out.append((*r[:2], "medicaid", *r[3:]))
        elif r[2] not in MEDICARE_ANSWERS:
            out.append(r)
    return out


def _source(source: str) -> str:
    return source_given(source, "say how it is known (e.g. the eligibility response of a date, the Medicare card)")


@transaction.atomic
def record_coverage(
    *, patient, payer: str, start: dt.date | None, end: dt.date | None, source: str, by, medicare_secondary=False
) -> CoverageRecord:
    """Record the patient's coverage for a period (open ends: since before / still), e.g. from an eligibility
    check: Medicare Part B fee-for-service, Medicare Advantage, Part D, Medicaid, commercial…"""
    if payer not in PAYERS:
        raise InvalidInput(f"payer: expected one of {', '.join(PAYERS)}, got {payer!r}")
    source = _source(source)
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"end: {end} is before the start {start}")
    if medicare_secondary and payer not in ("medicare", "dual_eligible"):
        raise InvalidInput("medicare_secondary: only Medicare coverage can be secondary to another payer")
    record = CoverageRecord.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        source_id=f"{MANUAL}{uuid.uuid4().hex}",
        payer=payer,
        start=start,
        end=end,
        medicare_secondary=medicare_secondary,
        source=source,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=record,
        detail={
            "payer": payer,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
            "medicare_secondary": medicare_secondary,
            "source": source,
        },
    )
    return record


@transaction.atomic
def end_coverage(*, record: CoverageRecord, end: dt.date, by) -> CoverageRecord:
    """Close a coverage period on `end`, its last day (e.g. the patient joined a Medicare Advantage plan)."""
    record = CoverageRecord.objects.select_for_update().get(pk=record.pk)
    if record.end is not None:
        raise InvalidInput(f"end: this coverage already ended on {record.end}")
    if record.start is not None and end < record.start:
        raise InvalidInput(f"end: {end} is before the start {record.start}")
    record.end = end
    record.save(update_fields=["end"])
    record_audit(
        action=AuditAction.UPDATE, user=by, patient=record.patient, obj=record, detail={"end": end.isoformat()}
    )
    return record


@transaction.atomic
def withdraw_coverage(*, record: CoverageRecord, reason: str, by) -> None:
    """Remove coverage entered by mistake (only what was entered by hand; an import's records come from the
    EHR and are corrected there). The audit keeps what it said."""
    if not record.source_id.startswith(MANUAL):
        raise InvalidInput("record: imported coverage is corrected in the EHR it came from, then imported again")
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput("reason: say why the coverage is removed (kept in the audit log)")
    detail = {
        "removed": PAYER_NAMES.get(record.payer, record.payer),
        "start": record.start.isoformat() if record.start else None,
        "end": record.end.isoformat() if record.end else None,
        "reason": reason,
    }
    record_audit(action=AuditAction.DELETE, user=by, patient=record.patient, obj=record, detail=detail)
    record.delete()


@transaction.atomic
def record_death(*, patient, on: dt.date | None, source: str, by) -> None:
    """Record (or, with `on` None, clear a wrong) date of death: no minute after it counts and no claim is dated
    after it (R-COV-2)."""
    source = _source(source)
    if on is not None:
        if on > timezone.localdate():
            raise InvalidInput(f"deceased_on: {on} is in the future")
        if on < patient.birth_date:
            raise InvalidInput(f"deceased_on: {on} is before the birth date {patient.birth_date}")
    before = patient.deceased_on
    type(patient).objects.filter(pk=patient.pk).update(deceased_on=on)
    patient.deceased_on = on
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=patient,
        obj=patient,
        detail={
            "deceased_on": [before.isoformat() if before else None, on.isoformat() if on else None],
            "source": source,
        },
    )


def check_claim_code(code: str) -> str:
    """An ICD-10-CM code a person puts on claims: billable (R-DX-1), not an acute episode (R-DX-2); its dotted form."""
    code = code.strip().upper()
    if not code.isascii() or not icd10_is_valid(code):
        raise InvalidInput(f"code: {code!r} is not an ICD-10-CM code")
    dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
    if not icd10_is_billable(code):
        children = ", ".join(billable_children(code))
        raise InvalidInput(f"code: {dotted} is a category, not a billable code; code it in full ({children} …)")
    if is_acute_episode(code):
        raise InvalidInput(
            f"code: {dotted} is an acute-episode code (R-DX-2); a monthly claim uses the chronic or sequela code"
        )
    return dotted


@transaction.atomic
def confirm_diagnosis(*, condition: PatientCondition, code: str, by) -> PatientCondition:
    """A practitioner or coder confirms the ICD-10-CM code a SNOMED CT problem goes on claims as (R-DX-3): once per
    patient-condition; until then its months hold. Confirming again replaces the code (audited)."""
    if condition.system != "snomed":
        raise InvalidInput(f"condition: {condition.code} is already an ICD-10-CM code")
    dotted = check_claim_code(code)
    before = condition.confirmed_code
    condition.confirmed_code, condition.confirmed_by, condition.confirmed_at = dotted, by, timezone.now()
    condition.save(update_fields=["confirmed_code", "confirmed_by", "confirmed_at"])
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=condition.patient,
        obj=condition,
        detail={"snomed": condition.code, "icd10cm": [before or None, dotted]},
    )
    return condition


def coverage_rows(patient, observed_shown: int = 3) -> list[dict]:
    """The patient's coverage on record, newest first, as the page shows it: every period recorded, and the latest
    payers seen on claims (the older observations add nothing the latest do not say)."""
    rows = []
    observed = 0
    for r in patient.coverages.select_related("recorded_by").order_by("-start", "-id"):
        if r.source_id.startswith("eob:"):
            observed += 1
            if observed > observed_shown:
                continue
        rows.append(
            {
                "record": r,
                "payer": PAYER_NAMES.get(r.payer, r.payer),
                "manual": r.source_id.startswith(MANUAL),
                "observed": r.source_id.startswith("eob:"),
                "from_where": r.source or ("a claim (EOB) on that day" if r.source_id.startswith("eob:") else "import"),
            }
        )
    return rows


def claim_status(condition: PatientCondition) -> dict:
    """How a condition goes on claims (R-DX-1 … R-DX-3): `state` is billable, header, acute, invalid, confirm
    (a SNOMED CT problem awaiting a person's confirmation), confirmed or none (no claim code)."""

    if condition.system == "snomed":
        if condition.confirmed_code:
            return {"state": "confirmed", "code": condition.confirmed_code}
        entry = table().snomed.get(condition.code)
        code = entry[1] if entry else ""
        suggested = code if code and icd10_is_billable(code) and not is_acute_episode(code) else ""
        return {"state": "confirm", "code": suggested}
    code = condition.code
    if not icd10_is_valid(code):
        return {"state": "invalid", "code": code}
    if not icd10_is_billable(code):
        return {"state": "header", "code": code, "children": ", ".join(billable_children(code))}
    if is_acute_episode(code):
        return {"state": "acute", "code": code}
    return {"state": "billable", "code": code}
