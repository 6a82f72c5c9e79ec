"""What goes to the EHR (issue 34), each as a US Core DocumentReference — status current, docStatus final, a LOINC
type, the US Core clinical-note category, the patient (found in the EHR by MRN), the author, the date, and the
document as text (and as PDF when the practice asks):

- a signed note: the practice's note type (default 11506-3 progress note), the time it documents as its period;
- an approved care-plan version: 18776-5 plan of care note — every element of the plan;
- a consent documented, and a consent revoked: 59284-0 consent document — the text as read, the method, the
  elements explained, the billing practitioner; the revocation with its reason and the day it takes effect;
- a closed month's CCM summary per patient billed: 34133-9 summary of episode note — the minutes by staff member
  and activity, the services billed, the month as its period;
- and the enrollment itself as an EpisodeOfCare (`episode_of_care`), sent again each time it starts, pauses or ends,
  by conditional update on its identifier.

DocumentReference is the default because EHRs that take any write take it (Epic, Oracle Health and athenahealth
file documents; few accept CarePlan or Consent writes). ccmops's identifier for each (`Outgoing.identifier`) makes
a retry find the first copy. Validated with `fhir.resources` R4B before it leaves."""

from __future__ import annotations

import base64
import zoneinfo
from html import escape

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from pydantic import ValidationError

from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.x12 import line_order
from ccmops.careplans.models import CarePlanVersion
from ccmops.documentation.models import Note
from ccmops.enrollment.models import Consent, ConsentRevocation, Enrollment
from ccmops.errors import InvalidInput
from ccmops.outbox.models import EhrConnection, Outgoing
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry

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


TYPES = {  # kind -> (LOINC code, display); a note takes the practice's choice
    "care_plan": ("18776-5", "Plan of care note"),
    "consent": ("59284-0", "Consent Document"),
    "revocation": ("59284-0", "Consent Document"),
    "month_summary": ("34133-9", "Summary of episode note"),
}


def _plan(version) -> tuple[str, str, dict | None]:
    c = version.content
    zone = zoneinfo.ZoneInfo(version.practice.time_zone)
    lines = [f"{version.care_plan.get_kind_display()} care plan, version {version.number}",
             f"Approved {version.approved_at.astimezone(zone):%Y-%m-%d %H:%M %Z} by {version.approved_by}", "",
             "Problems: " + "; ".join(p.get("condition", "") for p in c.get("problems", [])),
             f"Expected outcomes: {c.get('expected_outcomes', '')}", f"Prognosis: {c.get('prognosis', '')}",
             "Goals:"]  # fmt: skip
    lines += [f"- {g.get('description')}: {g.get('measure')} {g.get('target')}".rstrip() for g in c.get("goals", [])]
    lines.append("Planned interventions:")
    lines += [f"- {i.get('description')} (responsible: {i.get('responsible')})" for i in c.get("interventions", [])]
    for key, label in (("symptom_management", "Symptom management"), ("medication_management", "Medication management"),
                       ("community_services", "Community and social services"), ("coordination", "Coordination"),
                       ("functional_assessment", "Cognitive and functional assessment"),
                       ("environmental_evaluation", "Environmental evaluation"),
                       ("caregiver_assessment", "Caregiver assessment")):  # fmt: skip
        if c.get(key):
            lines.append(f"{label}: {c[key]}")
    months = (c.get("review_schedule") or {}).get("interval_months")
    if months:
        lines.append(f"Review every {months} months; next review due {version.next_review_due}")
    return "\n".join(lines) + "\n", version.approved_at.isoformat(), None


def _consent(consent) -> tuple[str, str, dict | None]:
    zone = zoneinfo.ZoneInfo(consent.practice.time_zone)
    lines = [f"{consent.get_program_display()} consent, {consent.get_method_display().lower()}",
             f"Documented {consent.documented_at.astimezone(zone):%Y-%m-%d %H:%M %Z} by {consent.obtained_by}, "
             f"billing practitioner {consent.practitioner} (NPI {consent.practitioner.npi})",
             "Explained: " + ", ".join(k.replace("_", " ") for k in consent.elements)]  # fmt: skip
    if consent.representative_name:
        lines.append(f"Given by {consent.representative_name} ({consent.representative_relationship})")
    lines += ["", consent.text or "", consent.note or ""]
    return "\n".join(lines).rstrip() + "\n", consent.documented_at.isoformat(), None


def _revocation(revocation) -> tuple[str, str, dict | None]:
    zone = zoneinfo.ZoneInfo(revocation.practice.time_zone)
    c = revocation.consent
    text = (f"{c.get_program_display()} consent revoked on {revocation.revoked_at.astimezone(zone):%Y-%m-%d}, "
            f"effective at the end of that month ({revocation.effective_at.astimezone(zone):%Y-%m-%d}); recorded by "
            f"{revocation.recorded_by or 'the patient (patient page)'}. Reason: {revocation.reason}\n")  # fmt: skip
    return text, revocation.revoked_at.isoformat(), None


def _month(decision) -> tuple[str, str, dict | None]:
    practice = decision.practice
    window = month_window(decision.month, practice.time_zone)
    entries = TimeEntry.objects.filter(
        patient=decision.patient, voided_at__isnull=True, start__lt=window.end, end__gt=window.start
    ).select_related("staff")
    minutes: dict[tuple[str, str], int] = {}
    for e in entries:
        key = (e.staff.get_full_name() or e.staff.get_username(), e.get_activity_display())
        minutes[key] = minutes.get(key, 0) + e.minutes
    lines = [f"Chronic care management, {decision.month}: monthly summary", "", "Minutes by staff member and activity:"]
    lines += [f"- {who}, {activity}: {n} min" for (who, activity), n in sorted(minutes.items())]
    lines.append(f"Total: {sum(minutes.values())} min")
    billed = [f"{x.code} x{x.units} (date of service {x.date_of_service})" for x in sorted(decision.lines.all(),
                                                                                           key=line_order)]  # fmt: skip
    lines.append("Services billed: " + ("; ".join(billed) if billed else "none"))
    period = {"start": window.start.isoformat(), "end": window.end.isoformat()}
    return "\n".join(lines) + "\n", window.end.isoformat(), period


def _source(row: Outgoing):
    """(text, date, context period, title) of the row's object."""
    if row.kind == "note":
        note = Note.objects.select_related("author", "time_entry", "patient__practice").get(pk=row.object_id)
        if note.signed_at is None:
            raise InvalidInput(f"note {note.id} is not signed: only signed notes go to the EHR")
        period = ({"start": note.time_entry.start.isoformat(), "end": note.time_entry.end.isoformat()}
                  if note.time_entry_id else None)  # fmt: skip
        author = note.author.get_full_name() or note.author.get_username()
        return note_text(note), note.signed_at.isoformat(), period, note.get_activity_display(), author
    if row.kind == "care_plan":
        version = CarePlanVersion.objects.select_related("care_plan", "approved_by", "practice").get(pk=row.object_id)
        text, date, period = _plan(version)
        return text, date, period, "Care plan", str(version.approved_by)
    if row.kind == "consent":
        consent = Consent.objects.select_related("practitioner", "obtained_by", "practice").get(pk=row.object_id)
        text, date, period = _consent(consent)
        return text, date, period, f"{consent.get_program_display()} consent", str(consent.obtained_by)
    if row.kind == "revocation":
        revocation = ConsentRevocation.objects.select_related("consent", "recorded_by", "practice").get(
            pk=row.object_id
        )
        text, date, period = _revocation(revocation)
        return text, date, period, "Consent revoked", str(revocation.recorded_by or "the patient")
    decision = PatientMonthDecision.objects.select_related("practice", "patient").get(pk=row.object_id)
    text, date, period = _month(decision)
    return text, date, period, f"CCM summary {decision.month}", "ccmops"


def document_for(row: Outgoing, connection: EhrConnection, patient_id_in_ehr: str, *, pdf=None) -> dict:
    """The DocumentReference for the row (`pdf`: a function turning (title, text) into PDF bytes, when the
    practice sends PDFs)."""
    text, date, period, title, author = _source(row)
    code, display = ((connection.note_type, NOTE_TYPES.get(connection.note_type, "Note")) if row.kind == "note"
                     else TYPES[row.kind])  # fmt: skip
    plain = {"contentType": "text/plain; charset=utf-8", "language": "en", "title": f"{title} (ccmops)",
             "data": base64.b64encode(text.encode()).decode()}  # fmt: skip
    content = [{"attachment": plain}]
    if pdf is not None:
        content.append({"attachment": {"contentType": "application/pdf",
                                       "data": base64.b64encode(pdf(title, text)).decode(),
                                       "title": f"{title} (ccmops, PDF)"}})  # fmt: skip
    resource = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": row.identifier}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": title},
        "category": [{"coding": [{"system": US_CORE_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}]}],
        "subject": {"reference": f"Patient/{patient_id_in_ehr}", "display": str(row.patient)},
        "date": date,
        "author": [{"display": author}],
        "description": f"Chronic care management: {title.lower()}",
        "content": content,
    }  # fmt: skip
    if period:
        resource["context"] = {"period": period}
    try:
        DocumentReference.model_validate(resource)
    except ValidationError as exc:
        raise InvalidInput(
            f"{row.kind} {row.object_id}: not a valid DocumentReference: {exc.errors()[0]['msg']}"
        ) from None
    return resource


EPISODE_STATUS = {"active": "active", "paused": "onhold"}  # after active, any other status ends the episode
PROGRAM_NAMES = {"ccm": "Chronic Care Management", "pcm": "Principal Care Management",
                 "apcm": "Advanced Primary Care Management", "bhi": "Behavioral Health Integration"}  # fmt: skip


def episode_of_care(row: Outgoing, patient_id_in_ehr: str) -> dict:
    """The enrollment as an EpisodeOfCare, as it stands now: from the day it first became active; on hold while
    paused; finished, with its end, once it left the program."""
    enrollment = Enrollment.objects.select_related("practice").get(pk=row.object_id)
    began = enrollment.events.filter(to_status="active").order_by("at").values_list("at", flat=True).first()
    status = EPISODE_STATUS.get(enrollment.status, "finished")
    period = {"start": (began or enrollment.status_since).isoformat()}
    if status == "finished":
        period["end"] = enrollment.status_since.isoformat()
    resource = {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": row.identifier}],
        "status": status,
        "type": [{"text": PROGRAM_NAMES.get(enrollment.program, enrollment.program.upper())}],
        "patient": {"reference": f"Patient/{patient_id_in_ehr}", "display": str(row.patient)},
        "managingOrganization": {"display": enrollment.practice.name},
        "period": period,
    }
    try:
        EpisodeOfCare.model_validate(resource)
    except ValidationError as exc:
        raise InvalidInput(f"enrollment {enrollment.id}: not a valid EpisodeOfCare: {exc.errors()[0]['msg']}") from None
    return resource


# ------------------------------------------------------------------------- structured resources (per practice)

CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
XHTML = "http://www.w3.org/1999/xhtml"


def _narrative(text: str) -> dict:
    """FHIR narrative from plain text: one paragraph per line, escaped."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return {"status": "additional", "div": f'<div xmlns="{XHTML}">{paragraphs}</div>'}


def _valid(model, resource: dict, what: str) -> dict:
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        raise InvalidInput(f"{what}: not a valid {resource['resourceType']}: {exc.errors()[0]['msg']}") from None
    return resource


def care_plan_resource(row: Outgoing, patient_id_in_ehr: str) -> dict:
    """An approved care-plan version as a US Core CarePlan (category assess-plan): the whole plan as its narrative,
    its problems as addresses' displays, each planned intervention as an activity, active from its approval."""
    version = CarePlanVersion.objects.select_related("care_plan", "approved_by", "practice").get(pk=row.object_id)
    text, date, _ = _plan(version)
    c = version.content
    resource = {
        "resourceType": "CarePlan",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": row.identifier}],
        "text": _narrative(text),
        "status": "active",
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {"system": CAREPLAN_CATEGORY, "code": "assess-plan", "display": "Assessment and Plan of Treatment"}
                ]
            }
        ],
        "title": f"{version.care_plan.get_kind_display()} care plan, version {version.number}",
        "description": "; ".join(p.get("condition", "") for p in c.get("problems", []) if p.get("condition"))[:1000]
        or "Chronic care management",
        "subject": {"reference": f"Patient/{patient_id_in_ehr}", "display": str(row.patient)},
        "period": {"start": date},
        "created": date,
        "author": {"display": str(version.approved_by)},
        "activity": [
            {"detail": {"status": "not-started", "description": i.get("description", "")[:1000]}}
            for i in c.get("interventions", [])
            if i.get("description")
        ],
    }
    if not resource["activity"]:
        del resource["activity"]
    return _valid(CarePlan, resource, f"care plan version {version.id}")


def consent_identifier(consent) -> str:
    """The identifier a consent's Outgoing row (and so its Consent in the EHR) carries."""
    return f"urn:ccmops:{consent.practice_id}:consent:{consent.id}"


def consent_resource(consent, patient_id_in_ehr: str) -> dict:
    """A consent as a FHIR Consent (scope treatment, LOINC 59284-0, opt-in), the text as read attached; a revoked
    consent is inactive, its permission ending the day the revocation takes effect."""
    text, date, _ = _consent(consent)
    revocation = getattr(consent, "revocation", None)
    period = {"start": date}
    if revocation is not None:
        period["end"] = revocation.effective_at.isoformat()
        text += "\n" + _revocation(revocation)[0]
    performer = consent.representative_name or str(consent.patient)
    resource = {
        "resourceType": "Consent",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": consent_identifier(consent)}],
        "status": "inactive" if revocation is not None else "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]},
        "category": [
            {
                "coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}],
                "text": f"{consent.get_program_display()} consent",
            }
        ],
        "patient": {"reference": f"Patient/{patient_id_in_ehr}", "display": str(consent.patient)},
        "dateTime": date,
        "performer": [{"display": performer}],
        "organization": [{"display": consent.practice.name}],
        "sourceAttachment": {
            "contentType": "text/plain; charset=utf-8",
            "language": "en",
            "title": f"{consent.get_program_display()} consent (ccmops)",
            "data": base64.b64encode(text.encode()).decode(),
        },
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
        "provision": {"type": "permit", "period": period},
    }
    return _valid(FhirConsent, resource, f"consent {consent.id}")


def consent_of(row: Outgoing):
    """The consent a consent or revocation row is about."""
    if row.kind == "consent":
        return Consent.objects.select_related("practitioner", "obtained_by", "practice", "patient").get(
            pk=row.object_id
        )
    revocation = ConsentRevocation.objects.select_related("consent__practice", "consent__patient").get(pk=row.object_id)
    return Consent.objects.select_related("practitioner", "obtained_by", "practice", "patient").get(
        pk=revocation.consent_id
    )
