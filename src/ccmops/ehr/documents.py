"""What goes to the EHR (issue 34): a signed note as a US Core DocumentReference — status current, docStatus final,
the practice's note type (LOINC, default 11506-3 progress note), the US Core clinical-note category, the patient
(found in the EHR by MRN), the author, the date signed, the time it documents as its context period, and the note as
text (and as PDF when the practice asks). ccmops's identifier for it (`Outgoing.identifier`) makes a retry find the
first copy. Validated with `fhir.resources` R4B before it leaves."""

from __future__ import annotations

import base64
import zoneinfo

from fhir.resources.R4B.documentreference import DocumentReference
from pydantic import ValidationError

from ccmops.documentation.models import Note
from ccmops.errors import InvalidInput
from ccmops.outbox.models import EhrConnection, Outgoing

LOINC = "http://loinc.org"
IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
NOTE_TYPES = {  # the LOINC note types practices choose between (EHRs differ in what they file where)
    "11506-3": "Progress note",
    "34109-9": "Note",
    "18776-5": "Plan of care note",
    "34133-9": "Summary of episode note",
}


def note_text(note: Note) -> str:
    zone = zoneinfo.ZoneInfo(note.patient.practice.time_zone)
    signed = note.signed_at.astimezone(zone)
    author = note.author.get_full_name() or note.author.get_username()
    head = [
        f"{note.get_activity_display()} — {note.get_program_display()}",
        f"By {author}, signed {signed:%Y-%m-%d %H:%M %Z}",
    ]
    if note.time_entry_id:
        e = note.time_entry
        head.append(f"Documents {e.minutes} minutes of care management, {e.start.astimezone(zone):%Y-%m-%d %H:%M}–"
                    f"{e.end.astimezone(zone):%H:%M}")  # fmt: skip
    body = [f"{label}: {text}" for label, text in note.labelled_fields]
    addenda = [
        f"Addendum {a.created_at.astimezone(zone):%Y-%m-%d %H:%M} by {a.author}: {a.text}" for a in note.addenda.all()
    ]
    return "\n".join(head + [""] + body + (["", *addenda] if addenda else [])) + "\n"


def note_document(row: Outgoing, connection: EhrConnection, patient_id_in_ehr: str, pdf: bytes | None = None) -> dict:
    note = Note.objects.select_related("author", "time_entry", "patient__practice").get(pk=row.object_id)
    if note.signed_at is None:
        raise InvalidInput(f"note {note.id} is not signed: only signed notes go to the EHR")
    text = note_text(note)
    content = [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "en",
                               "data": base64.b64encode(text.encode()).decode(),
                               "title": f"{note.get_activity_display()} (ccmops)"}}]  # fmt: skip
    if pdf is not None:
        content.append({"attachment": {"contentType": "application/pdf", "data": base64.b64encode(pdf).decode(),
                                       "title": f"{note.get_activity_display()} (ccmops, PDF)"}})  # fmt: skip
    resource = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": row.identifier}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": LOINC, "code": connection.note_type,
                             "display": NOTE_TYPES.get(connection.note_type, "Note")}],
                 "text": note.get_activity_display()},
        "category": [{"coding": [{"system": US_CORE_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": {"reference": f"Patient/{patient_id_in_ehr}", "display": str(note.patient)},
        "date": note.signed_at.isoformat(),
        "author": [{"display": note.author.get_full_name() or note.author.get_username()}],
        "description": f"Chronic care management: {note.get_activity_display().lower()}",
        "content": content,
    }  # fmt: skip
    if note.time_entry_id:
        resource["context"] = {"period": {"start": note.time_entry.start.isoformat(),
                                          "end": note.time_entry.end.isoformat()}}  # fmt: skip
    try:
        DocumentReference.model_validate(resource)
    except ValidationError as exc:
        raise InvalidInput(f"note {note.id}: not a valid DocumentReference: {exc.errors()[0]['msg']}") from None
    return resource
