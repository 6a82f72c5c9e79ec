"""Building billed months in tests: last month's window, a month evaluated and billed, a signed note."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.facts import patient_months
from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.review import override


def previous_month() -> tuple[str, dt.datetime]:
    first = timezone.localdate().replace(day=1)
    prev = first - dt.timedelta(days=1)
    mid = timezone.make_aware(dt.datetime(prev.year, prev.month, 10, 15, 0))
    return f"{prev.year:04d}-{prev.month:02d}", mid


def evaluate_and_bill(twyla, month: str, ben, *, approve: bool = True) -> None:
    """Evaluate Twyla's month and bill it over its hold (the plan was handed over at the visit, a reason the
    biller records) and, with `approve`, approve and close it."""
    close_month(practice=twyla.practice, month=month, by=ben)
    decision = PatientMonthDecision.objects.get(patient=twyla, month=month)
    if decision.review == "needs_review":
        override(decision=decision, action="bill", reason="Plan handed over at the visit", by=ben)
    if approve:
        approve_and_close(practice=twyla.practice, month=month, by=ben)


def sign_note_of(entry):
    """A note of the entry, complete and signed by its author (R-DOC-1, R-TIME-8)."""
    from ccmops.documentation.note_templates import TEMPLATES
    from ccmops.documentation.services import save_note

    fields = {key: f"{label}: documented" for key, label, _required in TEMPLATES[entry.activity]}
    return save_note(
        patient=entry.patient,
        author=entry.staff,
        program=entry.program,
        activity=entry.activity,
        fields=fields,
        time_entry=entry,
        sign=True,
    )


def counted(patient, month) -> list[int]:
    """The entry ids the month's facts hold for the patient."""
    return sorted({int(e.id.split("-")[1]) for e in patient_months([patient], month)[patient.id].time_entries})


def close_last_month(practice, biller) -> str:
    """Close last month of the practice as a biller would after checking: evaluated, every patient-month that needs
    review billed on review, approved. Returns the month."""
    month, _ = previous_month()
    close_month(practice=practice, month=month, by=biller)
    for decision in PatientMonthDecision.objects.filter(practice=practice, month=month, review="needs_review"):
        override(decision=decision, action="bill", reason="Reviewed: documented in the EHR", by=biller)
    approve_and_close(practice=practice, month=month, by=biller)
    return month
