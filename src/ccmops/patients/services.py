"""Patient-record use cases recorded in ccmops (rather than imported)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Practitioner
from ccmops.patients.models import Encounter, QmbPeriod
from ccmops.patients.signals import visit_recorded

VISIT_KINDS = {
    "em": "Office/outpatient E/M",
    "awv": "Annual wellness visit",
    "ippe": "Welcome to Medicare (IPPE)",
    "tcm": "TCM face-to-face visit",
}


@transaction.atomic
def record_visit(
    *, patient, day: dt.date, kind: str, code: str, practitioner: Practitioner, care_management_discussed: bool, by
) -> Encounter:
    """Record a face-to-face visit that may initiate care management (R-INIT-2, R-INIT-3)."""
    if kind not in VISIT_KINDS:
        raise InvalidInput(f"kind: expected one of {', '.join(VISIT_KINDS)}")
    if kind == "em" and code.strip() == "99211":
        raise InvalidInput("code: 99211 (level 1 E/M) does not initiate care management; use a level 2–5 E/M")
    if day > timezone.localdate():
        raise InvalidInput("date: a visit cannot be in the future")
    if practitioner.practice_id != patient.practice_id:
        raise InvalidInput("practitioner: must belong to the patient's practice")
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    visit = Encounter.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        source_id=f"ccmops:{uuid.uuid4()}",
        start=start,
        setting="ambulatory",
        visit_kind=kind,
        code=code.strip(),
        display=VISIT_KINDS[kind],
        practitioner_npi=practitioner.npi,
        care_management_discussed=care_management_discussed,
        recorded_by=by,
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=visit,
        detail={"kind": kind, "code": code, "cm_discussed": care_management_discussed},
    )
    visit_recorded.send(sender=Encounter, patient=patient, visit=visit, by=by)
    return visit


def _overlapping(patient, start: dt.date, end: dt.date | None, *, exclude: int | None = None) -> QmbPeriod | None:
    q = QmbPeriod.objects.filter(patient=patient, start__lte=end or dt.date.max).exclude(end__lt=start)
    return q.exclude(pk=exclude).first() if exclude else q.first()


def source_given(source: str, ask: str) -> str:
    """Where a recorded fact is known from (an eligibility response, a card, a call): required, at most 200
    characters; `ask` says what to give when it is missing."""
    source = source.strip()
    if not source:
        raise InvalidInput(f"source: {ask}")
    if len(source) > 200:
        raise InvalidInput(f"source: at most 200 characters, got {len(source)}")
    return source


@transaction.atomic
def record_qmb(*, patient, start: dt.date, end: dt.date | None, source: str, by) -> QmbPeriod:
    """Record that the patient is a Qualified Medicare Beneficiary from `start` (to `end`, or on): months it
    overlaps bill no patient share (R-FEE cost sharing; the engine's `qmb`). Refused when it overlaps a period
    already recorded (end that one, or record the span once)."""
    source = source_given(source, "say where the QMB status was verified (e.g. the eligibility response of a date)")
    if end is not None and end < start:
        raise InvalidInput(f"end: {end} is before the start {start}")
    if start > timezone.localdate() + dt.timedelta(days=366):
        raise InvalidInput(f"start: {start} is more than a year ahead")
    other = _overlapping(patient, start, end)
    if other is not None:
        raise InvalidInput(
            f"start: overlaps the QMB period recorded from {other.start}"
            + (f" to {other.end}" if other.end else " (still open)")
            + "; end that one first, or record only the days it does not cover"
        )
    period = QmbPeriod.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        start=start,
        end=end,
        source=source,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=period,
        detail={"start": start.isoformat(), "end": end.isoformat() if end else None, "source": source},
    )
    return period


@transaction.atomic
def end_qmb(*, period: QmbPeriod, end: dt.date, by) -> QmbPeriod:
    """Close an open QMB period on `end` (its last day), e.g. when Medicaid eligibility lapsed."""
    period = QmbPeriod.objects.select_for_update().get(pk=period.pk)
    if period.end is not None:
        raise InvalidInput(f"end: the period from {period.start} already ended on {period.end}")
    if end < period.start:
        raise InvalidInput(f"end: {end} is before the start {period.start}")
    period.end = end
    period.save(update_fields=["end"])
    record_audit(
        action=AuditAction.UPDATE, user=by, patient=period.patient, obj=period, detail={"end": end.isoformat()}
    )
    return period
