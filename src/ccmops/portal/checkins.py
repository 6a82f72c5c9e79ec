"""Check-ins on the patient page (issue 36): what the care team sends, and the patient's answers — an assessment
scored as on the staff side (a draft note for the sender, an urgent task for an alarming answer) or a home reading
kept as an observation (an urgent task for a reading in the crisis range)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ccmops.clinical.models import Observation
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.assess import record_assessment
from ccmops.errors import Conflict, InvalidInput
from ccmops.organizations.engagements import practice_today
from ccmops.portal.models import CheckIn
from ccmops.portal.services import send_link
from ccmops.worklist.services import open_task

ASSESSMENTS = ("phq9", "gad7", "steadi", "hrsn")


@transaction.atomic
def send_checkin(*, patient, by, kinds: list[str], base_url: str, channel: str = "") -> CheckIn:
    known = dict(CheckIn.KINDS)
    if not kinds or any(k not in known for k in kinds):
        raise InvalidInput(f"kinds: choose from {', '.join(known)}")
    checkin = CheckIn.objects.create(practice_id=patient.practice_id, patient=patient, kinds=list(dict.fromkeys(kinds)),
                                     sent_by=by, sent_at=timezone.now())  # fmt: skip
    send_link(patient=patient, by=by, base_url=base_url, purpose="checkin", channel=channel, checkin=checkin)
    return checkin


BP_URGENT = (180, 120)  # systolic, diastolic at or above: a hypertensive crisis — a clinician today
BP_HIGH = (140, 90)


@transaction.atomic
def answer_checkin(*, checkin: CheckIn, kind: str, answers: dict) -> str:
    """The patient's answers to one part of a check-in: an assessment scored and kept (a draft note for the care
    manager who sent it, an urgent task for an alarming answer), or a home reading kept as an observation (an
    urgent task for a reading in the crisis range). Returns what the patient is told."""
    checkin = CheckIn.objects.select_for_update().select_related("patient__practice", "sent_by").get(pk=checkin.pk)
    if kind not in checkin.kinds or kind in checkin.done:
        raise Conflict(_("This part of the check-in is done or was not asked."))
    patient = checkin.patient
    if kind in ASSESSMENTS:
        record_assessment(patient=patient, by=checkin.sent_by, instrument=kind, answers=answers, by_patient=True)
        told = _("Thank you. Your care team will review your answers.")
    else:
        told = _reading(checkin, kind, answers)
    checkin.done = [*checkin.done, kind]
    if set(checkin.done) >= set(checkin.kinds):
        checkin.completed_at = timezone.now()
    checkin.save(update_fields=["done", "completed_at"])
    return told


def _number(answers: dict, field: str, low: float, high: float) -> Decimal:
    raw = str(answers.get(field, "")).strip()
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise InvalidInput(_("Enter each reading as a number.")) from None
    if not low <= value <= high:
        raise InvalidInput(_("Enter a number from %(low)s to %(high)s.") % {"low": f"{low:g}", "high": f"{high:g}"})
    return value


READING_CODES = {  # kind -> [(field, LOINC, display, unit, low, high)]
    "bp": [("systolic", "8480-6", "Systolic blood pressure", "mm[Hg]", 60, 260),
           ("diastolic", "8462-4", "Diastolic blood pressure", "mm[Hg]", 30, 160)],
    "glucose": [("glucose", "2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 20, 700)],
    "weight": [("weight", "29463-7", "Body weight", "kg", 20, 350)],
}  # fmt: skip


def _reading(checkin: CheckIn, kind: str, answers: dict) -> str:
    patient = checkin.patient
    values = {f: _number(answers, f, lo, hi) for f, _code, _name, _unit, lo, hi in READING_CODES[kind]}
    now = timezone.now()
    for field, code, display, unit, _low, _high in READING_CODES[kind]:
        Observation.objects.create(
            practice_id=patient.practice_id, patient=patient, source_id=f"checkin:{checkin.id}:{field}",
            category="vital-signs" if kind != "glucose" else "laboratory", code=code, display=display,
            effective=now, value=values[field], unit=unit, value_text="reported by the patient",
        )  # fmt: skip
    today = practice_today(patient.practice)
    if kind == "bp":
        sys_, dia = values["systolic"], values["diastolic"]
        reading = f"{sys_:g}/{dia:g} mm Hg"
        if sys_ >= BP_URGENT[0] or dia >= BP_URGENT[1]:
            open_task(
                patient=patient,
                kind="urgent",
                due_on=today,
                title=f"Urgent: home blood pressure {reading} reported on the patient page — a clinician today",
            )
            return _("Thank you. This reading is very high: your care team has been alerted. If you have chest pain, "
                     "shortness of breath, weakness or trouble speaking, call 911.")  # fmt: skip
        if sys_ >= BP_HIGH[0] or dia >= BP_HIGH[1]:
            open_task(patient=patient, kind="medication", due_on=today + dt.timedelta(days=2),
                      title=f"Home blood pressure {reading} reported on the patient page: above goal")  # fmt: skip
    if kind == "glucose" and (values["glucose"] < 70 or values["glucose"] > 300):
        open_task(patient=patient, kind="urgent", due_on=today,
                  title=f"Urgent: home glucose {values['glucose']:g} mg/dL reported on the patient page")  # fmt: skip
    record_audit(action=AuditAction.CREATE, patient=patient, username="patient", object_type="Observation",
                 detail={"checkin": checkin.id, "kind": kind})  # fmt: skip
    return _("Thank you. Your reading was sent to your care team.")
