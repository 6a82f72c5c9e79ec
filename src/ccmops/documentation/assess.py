"""Standard assessments given by the care team (issue 33): PHQ-2/PHQ-9, GAD-7, the STEADI fall-risk questions and
the AHC social-needs screen (`clinical.instruments`), scored as published. Recording one keeps the answers, the
total, its band and the FHIR QuestionnaireResponse; writes a draft note of the month (the standard-assessment
template) for its author to finish and sign — the time it took is care-management time, timed as any call; a PHQ-9
item 9 answered above 0 (thoughts of self-harm) raises an urgent task for a clinician today; and a social need
found raises a task for the care manager to connect the patient with community resources (a CCM service element),
due today when the need is the patient's safety."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

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
    "hrsn": "Add each need to the care plan as a problem with a goal, and refer the patient to community resources "
    "(food assistance, housing, transportation, utility help; a safety need to the practice's protocol today).",
}
NEED_WORDS = {
    "housing": "housing",
    "food": "food",
    "transportation": "transportation",
    "utilities": "utilities",
    "safety": "interpersonal safety",
}
SOCIAL_NEEDS_DAYS = 7  # a non-safety need's referral task is due within a week


def _coding(system_code_display) -> dict:
    _, code, display = system_code_display
    return {"valueCoding": {"system": "http://loinc.org", "code": code, "display": display}}


def _fhir_response(instrument: Instrument, patient, answers: dict[str, int | list[int]], score: int, when) -> dict:

    items = []
    for item in instrument.items:
        by_value = {option[0]: option for option in instrument.answers_of(item)}
        chosen = answers[item.link_id]
        values = chosen if isinstance(chosen, list) else [chosen]
        items.append({"linkId": item.link_id, "text": item.text, "answer": [_coding(by_value[v]) for v in values]})
    if instrument.total_loinc:
        items.append({"linkId": instrument.total_loinc, "text": "Total score", "answer": [{"valueInteger": score}]})
    for loinc, total in instrument.domain_totals(answers):
        items.append({"linkId": loinc, "text": "Total safety score", "answer": [{"valueInteger": total}]})
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"Questionnaire/ccmops-{instrument.key}",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient.id}"},
        "authored": when.isoformat(),
        "item": items,
    }
    return QuestionnaireResponse.model_validate(resource).model_dump(mode="json", exclude_none=True)


def _checked(spec: Instrument, answers: dict) -> dict[str, int | list[int]]:
    given: dict[str, int | list[int]] = {}
    for n, item in enumerate(spec.items, start=1):
        allowed = {value for value, _, _ in spec.answers_of(item)}
        raw = answers.get(item.link_id)
        raws = [r for r in (raw if isinstance(raw, (list, tuple)) else [raw]) if r not in (None, "")]
        if not raws:
            raise InvalidInput(f"item {n}: answer “{item.text}”")
        if len(raws) > 1 and not item.multiple:
            raise InvalidInput(f"item {n}: expected one answer, got {len(raws)}")
        values = []
        for r in raws:
            try:
                value = int(r)
            except (TypeError, ValueError):
                value = -1
            if value not in allowed:
                raise InvalidInput(f"item {n}: expected one of {sorted(allowed)}, got {r!r}")
            values.append(value)
        if item.multiple:
            if 0 in values and len(values) > 1:
                raise InvalidInput(f"item {n}: “None of the above” cannot go with another answer")
            given[item.link_id] = sorted(set(values))
        else:
            given[item.link_id] = values[0]
    return given


@transaction.atomic
def record_assessment(*, patient, by, instrument: str, answers: dict, party_id=None, by_patient: bool = False):
    """Score and keep one assessment; `answers` maps each item's link id to the answer's value (a list of values
    for a choose-all-that-apply item). Returns the AssessmentResponse. `by_patient`: the patient filled it in on
    their page (a check-in `by` sent); the draft note says so, for `by` to review and sign.

    Raises:
        InvalidInput: an unknown instrument, an item left unanswered, an answer not on the item's list, two answers
            to a one-answer item, or "none of the above" with another answer.
    """
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise InvalidInput(f"instrument: expected one of {', '.join(INSTRUMENTS)}, got {instrument!r}")
    given = _checked(spec, answers)
    result = spec.result(given)
    score, band, positive = result.score, result.band, result.positive
    now = timezone.now()
    self_harm = instrument == "phq9" and given.get(SELF_HARM_ITEM, 0) > 0
    needs = ", ".join(NEED_WORDS[n] for n in result.needs)
    if self_harm:
        actions = "Urgent task raised for a clinician today (item 9 above 0)."
    elif result.needs:
        actions = f"Task raised to connect the patient with community resources: {needs}."
    else:
        actions = ""
    note = save_note(
        patient=patient,
        author=by,
        party_id=party_id,
        program="ccm",
        activity="standard_assessment",
        fields={
            "assessment": f"{spec.title}: {score} ({band})"
            + (" — completed by the patient on the patient page" if by_patient else ""),
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
        item9 = next(i for i in spec.items if i.link_id == SELF_HARM_ITEM)
        words = {value: display for value, _, display in spec.answers_of(item9)}
        open_task(
            patient=patient,
            kind="urgent",
            title=f"Urgent: PHQ-9 item 9 (thoughts of self-harm) answered “{words[given[SELF_HARM_ITEM]]}” — "
            "a clinician assesses safety today",
            due_on=practice_today(patient.practice),
            now=now,
        )
    if result.needs:
        today = practice_today(patient.practice)
        open_task(
            patient=patient,
            kind="social_needs",
            title=f"Social needs found ({needs}): connect the patient with community resources"
            + (" — a safety need: follow the practice's protocol today" if "safety" in result.needs else ""),
            due_on=today if "safety" in result.needs else today + dt.timedelta(days=SOCIAL_NEEDS_DAYS),
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
