"""Medication reconciliation as a monthly activity (issue 33): the care manager walks the active list with the
patient — taking, not taking, taking differently, stopped, and new medications from another prescriber — and
records the source and the date. The result is a new version of the reconciled list (history kept, never
overwritten), documented in a draft note of the month (the medication reconciliation template, filled from what
was recorded, for its author to check and sign: the time it took is care-management time, timed as any other
call), and each discrepancy becomes a follow-up task for the billing practitioner."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ccmops.clinical.models import Medication, ReconciledItem, Reconciliation
from ccmops.clinical.picture import active_medications
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.services import save_note
from ccmops.errors import InvalidInput
from ccmops.organizations.engagements import practice_today
from ccmops.worklist.services import add_business_days, open_task

TASK_DAYS = 2  # business days the practitioner has to review a discrepancy


@dataclass(frozen=True)
class Answer:
    medication_id: int | None  # None: a medication new to the list
    answer: str
    detail: str = ""
    display: str = ""  # for a new one: what the patient takes


def _checked(patient, answers: list[Answer], source: str) -> tuple[list[tuple[Medication | None, Answer]], str]:
    source = source.strip()
    if len(source) < 3:
        raise InvalidInput("source: say what the list was checked against (the bottles, the pharmacy's fill list …)")
    if not answers:
        raise InvalidInput("answers: record at least one medication (the list is empty: add what the patient takes)")
    meds = {m.id: m for m in Medication.objects.filter(patient=patient)}
    valid = dict(ReconciledItem.ANSWERS)
    out = []
    for a in answers:
        if a.answer not in valid:
            raise InvalidInput(f"answer: expected one of {', '.join(valid)}, got {a.answer!r}")
        if a.medication_id is None:
            if a.answer != "new" or not a.display.strip():
                raise InvalidInput("new medication: give its name (and who prescribed it in the detail)")
            out.append((None, a))
            continue
        med = meds.get(a.medication_id)
        if med is None:
            raise InvalidInput(f"medication: {a.medication_id} is not on {patient}'s list")
        if a.answer == "new":
            raise InvalidInput(f"answer: {med.display} is on the list already; it cannot be new")
        if a.answer in ("differently", "stopped", "not_taking") and not a.detail.strip():
            raise InvalidInput(f"detail: say how ({med.display}: {valid[a.answer].lower()})")
        out.append((med, a))
    return out, source


@transaction.atomic
def reconcile(
    *, patient, by, answers: list[Answer], source: str, adherence: str = "", party_id=None, time_entry=None
) -> Reconciliation:
    """Record a reconciliation: the new list version, its draft note, a task per discrepancy.

    Raises:
        InvalidInput: no source, an unknown answer, a medication not on the patient's list, a discrepancy without
            its detail, a new medication without its name.
    """
    checked, source = _checked(patient, answers, source)
    if not adherence.strip():
        raise InvalidInput("adherence: say how the patient takes them (missed doses, cost, side effects, or none)")
    now = timezone.now()
    number = (Reconciliation.objects.filter(patient=patient).aggregate(n=Max("number"))["n"] or 0) + 1
    version = Reconciliation.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        number=number,
        performed_at=now,
        performed_by=by,
        source=source[:200],
        adherence=adherence.strip()[:500],
    )
    items = ReconciledItem.objects.bulk_create(
        ReconciledItem(
            reconciliation=version,
            medication=med,
            display=(med.display if med else a.display.strip())[:300],
            code=med.code if med else "",
            answer=a.answer,
            detail=a.detail.strip()[:300],
        )
        for med, a in checked
    )
    found = [i for i in items if i.discrepancy]
    words = dict(ReconciledItem.ANSWERS)
    practitioner = patient.billing_practitioner
    who = f"{practitioner} (follow-up task)" if practitioner and found else "no change to communicate"
    note = save_note(
        patient=patient,
        author=by,
        party_id=party_id,
        program="ccm",
        activity="medication_reconciliation",
        fields={
            "medications_reviewed": f"{len(items)} medication{'s' if len(items) != 1 else ''} reviewed with the "
            f"patient against {source} (reconciled list version {number})",
            "discrepancies": "; ".join(f"{i.display}: {words[i.answer].lower()} — {i.detail}" for i in found)
            or "No discrepancies: every medication taken as prescribed",
            "changes_communicated": who,
            "adherence": adherence.strip(),
        },
        time_entry=time_entry,
    )
    version.note = note
    version.save(update_fields=["note"])
    due = add_business_days(practice_today(patient.practice), TASK_DAYS)
    for item in found:
        open_task(
            patient=patient,
            kind="medication",
            title=f"Medication discrepancy: {item.display} — {words[item.answer].lower()}"
            + (f" ({item.detail})" if item.detail else ""),
            due_on=due,
            now=now,
        )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=version,
        detail={
            "version": number,
            "source": source,
            "items": [{"medication": i.display, "answer": i.answer, "detail": i.detail} for i in items],
        },
    )
    return version


def list_to_reconcile(patient) -> list[Medication]:
    """The active medications the care manager walks through (the clinical picture's list)."""
    return active_medications(patient)
