"""Notes: structured by activity template, scored for completeness, immutable once signed (addenda after)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.models import Note, NoteAddendum
from ccmops.documentation.note_templates import TEMPLATES, completeness, missing_required
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.ledger import queue_note_adjustment_if_closed
from ccmops.months.standings import refresh as refresh_standing
from ccmops.outbox.services import enqueue


def _clean(activity: str, fields: dict) -> dict:
    if activity not in TEMPLATES:
        raise InvalidInput(f"activity: expected one of {', '.join(TEMPLATES)}")
    known = {k for k, _label, _req in TEMPLATES[activity]}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidInput(f"fields: unknown for {activity}: {', '.join(unknown)}")
    return {k: str(v).strip() for k, v in fields.items()}


@transaction.atomic
def save_note(
    *,
    patient,
    author,
    program: str,
    activity: str,
    fields: dict,
    party_id=None,
    note: Note | None = None,
    time_entry=None,
    sign: bool = False,
) -> Note:
    """Create or update a draft note; with `sign`, sign it (every required field must be filled).

    `time_entry`: the patient's time entry the note documents; the note then belongs to that entry's month (a
    call on the 31st written up on the 2nd documents the 31st). A note of a closed month signed now is queued
    for the biller (`ccmops.months.ledger.queue_note_adjustment_if_closed`)."""
    fields = _clean(activity, fields)
    if time_entry is not None and time_entry.patient_id != patient.id:
        raise InvalidInput(f"time_entry: entry {time_entry.id} is not {patient}'s")
    created = note is None
    if note is None:
        note = Note(
            practice_id=patient.practice_id,
            patient=patient,
            author=author,
            author_party_id=party_id,
            program=program,
            activity=activity,
            created_at=timezone.now(),
            time_entry=time_entry,
        )
    elif note.signed_at is not None:
        raise Conflict("This note is signed; add an addendum instead.")
    elif note.author_id != author.id:
        raise Conflict("Only the author edits a draft note.")
    elif time_entry is not None:
        note.time_entry = time_entry
    note.fields = fields
    note.completeness = completeness(activity, fields)
    if sign:
        missing = missing_required(activity, fields)
        if missing:
            raise InvalidInput("Cannot sign yet; required: " + "; ".join(missing))
        note.signed_at = timezone.now()
    note.save()
    record_audit(
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        user=author,
        patient=patient,
        obj=note,
        detail={
            "activity": activity,
            "signed": bool(note.signed_at),
            "completeness": note.completeness,
            "time_entry": note.time_entry_id,
        },
    )
    if sign:
        queue_note_adjustment_if_closed(note)
        # owed to the practice's EHR, in this transaction: the chart a reviewer reads holds the care billed (issue 34)
        enqueue(practice_id=note.practice_id, patient_id=patient.id, kind="note", object_id=note.id)
        if note.time_entry_id:  # signing can release a month held for undocumented minutes; a draft changes nothing
            refresh_standing(patient)
    return note


@transaction.atomic
def add_addendum(*, note: Note, author, text: str) -> NoteAddendum:
    if note.signed_at is None:
        raise InvalidInput("note: edit the draft instead of adding an addendum")
    if len(text.strip()) < 3:
        raise InvalidInput("text: write the correction or addition")
    addendum = NoteAddendum.objects.create(
        practice_id=note.practice_id, note=note, author=author, text=text.strip(), created_at=timezone.now()
    )
    record_audit(action=AuditAction.UPDATE, user=author, patient=note.patient, obj=addendum, detail={"note": note.id})
    queue_note_adjustment_if_closed(note, addendum)
    return addendum
