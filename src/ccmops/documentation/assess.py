"""Standard assessments given by the care team (issue 33): PHQ-2/PHQ-9, GAD-7 and the STEADI fall-risk questions
(`clinical.instruments`), scored as published. Recording one keeps the answers, the total, its band and the FHIR
QuestionnaireResponse; writes a draft note of the month (the standard-assessment template) for its author to
finish and sign — the time it took is care-management time, timed as any call; and a PHQ-9 item 9 answered above
0 (thoughts of self-harm) raises an urgent task for a clinician today."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.clinical.instruments import INSTRUMENTS, SELF_HARM_ITEM, Instrument
from ccmops.clinical.models import AssessmentResponse
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.services import save_note
from ccmops.errors import InvalidInput
from ccmops.organizations.engagements import practice_today
from ccmops.worklist.services import open_task

# What a positive screen suggests for the care plan and the programs (shown with the result; a person decides).
SUGGESTIONS = {
    "phq2": "Give the PHQ-9 now.",
    "phq9": "Add depression to the care plan (a problem, and a goal such as a PHQ-9 below 5 within six months); "
    "consider behavioral health integration (BHI, 99484) beside CCM, with the patient's consent.",
    "gad7": "Add anxiety to the care plan (a problem and a goal); consider behavioral health integration (BHI, 99484).",
    "steadi": "Add fall prevention to the care plan: a gait, strength and balance assessment, medication review, "
    "home safety.",
}


def _fhir_response(instrument: Instrument, patient, answers: dict[str, int], score: int, when) -> dict:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    coding = {value: (code, display) for value, code, display in instrument.answers}
    items = [
        {
            "linkId": item.link_id,
            "text": item.text,
            "answer": [{"valueCoding": {"system": "http://loinc.org", "code": coding[answers[item.link_id]][0],
                                        "display": coding[answers[item.link_id]][1]}}],
        }
        for item in instrument.items
    ]  # fmt: skip
    if instrument.total_loinc:
        items.append({"linkId": instrument.total_loinc, "text": "Total score", "answer": [{"valueInteger": score}]})
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"Questionnaire/ccmops-{instrument.key}",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.id}"},
        "authored": when.isoformat(),
        "item": items,
    }
    return QuestionnaireResponse.model_validate(resource).model_dump(mode="json", exclude_none=True)


@transaction.atomic
def record_assessment(*, patient, by, instrument: str, answers: dict[str, str | int], party_id=None):
    """Score and keep one assessment; returns the AssessmentResponse.

    Raises:
        InvalidInput: an unknown instrument, an item left unanswered, an answer not on the instrument's scale.
    """
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise InvalidInput(f"instrument: expected one of {', '.join(INSTRUMENTS)}, got {instrument!r}")
    allowed = {value for value, _, _ in spec.answers}
    given: dict[str, int] = {}
    for n, item in enumerate(spec.items, start=1):
        raw = answers.get(item.link_id)
        if raw in (None, ""):
            raise InvalidInput(f"item {n}: answer “{item.text}”")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = -1
        if value not in allowed:
            raise InvalidInput(f"item {n}: expected one of {sorted(allowed)}, got {raw!r}")
        given[item.link_id] = value
    score = sum(given.values())
    band = spec.band(score)
    positive = score >= spec.positive_from
    now = timezone.now()
    self_harm = instrument == "phq9" and given.get(SELF_HARM_ITEM, 0) > 0
    actions = "Urgent task raised for a clinician today (item 9 above 0)." if self_harm else ""
    note = save_note(
        patient=patient,
        author=by,
        party_id=party_id,
        program="ccm",
        activity="standard_assessment",
        fields={
            "assessment": f"{spec.title}: {score} ({band})",
            "interpretation": ("Positive screen. " + SUGGESTIONS[instrument]) if positive else "Negative screen.",
            "actions": actions,
        },
    )
    response = AssessmentResponse.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        instrument=instrument,
        answers=given,
        score=score,
        band=band,
        positive=positive,
        performed_at=now,
        performed_by=by,
        response=_fhir_response(spec, patient, given, score, now),
        note=note,
    )
    if self_harm:
        words = {value: display for value, _, display in spec.answers}
        open_task(
            patient=patient,
            kind="urgent",
            title=f"Urgent: PHQ-9 item 9 (thoughts of self-harm) answered “{words[given[SELF_HARM_ITEM]]}” — "
            "a clinician assesses safety today",
            due_on=practice_today(patient.practice),
            now=now,
        )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=response,
        detail={"instrument": instrument, "score": score, "band": band, "urgent": self_harm},
    )
    return response
