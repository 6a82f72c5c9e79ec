"""Standard assessments (issue 33): PHQ-2/PHQ-9, GAD-7 and STEADI scored as published with their bands; a PHQ-9
item 9 above 0 raises an urgent task; each response is a valid FHIR QuestionnaireResponse with a draft note of the
month; bad input is named and writes nothing; the patient page shows the latest result and the earlier scores."""

import pytest

from ccmops.clinical.instruments import GAD7, INSTRUMENTS, PHQ9, SELF_HARM_ITEM, questionnaire
from ccmops.clinical.models import AssessmentResponse
from ccmops.compliance.models import AuditEvent
from ccmops.documentation.assess import record_assessment
from ccmops.errors import InvalidInput
from ccmops.organizations.engagements import practice_today
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.worklist.models import FollowUpTask


def answers(instrument, *values):
    return {item.link_id: v for item, v in zip(instrument.items, values, strict=True)}


@pytest.mark.parametrize(
    ("values", "score", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 2, 2, 2, 0, 0, 0, 0), 10, "moderate"),
        ((3, 3, 3, 3, 3, 0, 0, 0, 0), 15, "moderately severe"),
        ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "severe"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
    ],
)
def test_phq9_bands_as_published(values, score, band):
    assert sum(values) == score and PHQ9.band(score) == band


def test_gad7_phq2_and_steadi_bands():
    assert [GAD7.band(s) for s in (4, 5, 9, 10, 14, 15, 21)] == [
        "minimal", "mild", "mild", "moderate", "moderate", "severe", "severe",
    ]  # fmt: skip
    assert INSTRUMENTS["phq2"].band(2) == "negative" and INSTRUMENTS["phq2"].band(3).startswith("positive")
    assert INSTRUMENTS["steadi"].band(0).startswith("not at risk") and INSTRUMENTS["steadi"].band(1).startswith(
        "at risk"
    )
    for spec in INSTRUMENTS.values():  # each is a valid FHIR Questionnaire with every item and answer
        q = questionnaire(spec)
        assert [i["linkId"] for i in q["item"]] == [i.link_id for i in spec.items]


def test_a_phq9_with_item_9_above_0_raises_an_urgent_task_and_is_documented(demo, login):
    twyla = Patient.objects.get(family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    given = record_assessment(
        patient=twyla, by=nora, instrument="phq9", answers=answers(PHQ9, 2, 2, 1, 2, 1, 1, 1, 0, 1)
    )
    assert (given.score, given.band, given.positive) == (11, "moderate", True)
    response = given.response
    assert response["resourceType"] == "QuestionnaireResponse" and response["status"] == "completed"
    total = next(i for i in response["item"] if i["linkId"] == PHQ9.total_loinc)
    assert total["answer"] == [{"valueInteger": 11}]
    item9 = next(i for i in response["item"] if i["linkId"] == SELF_HARM_ITEM)
    assert item9["answer"][0]["valueCoding"]["code"] == "LA6569-3"  # several days
    (task,) = FollowUpTask.objects.filter(patient=twyla, kind="urgent")
    assert task.due_on == practice_today(twyla.practice) and "Several days" in task.title  # today, the practice's
    note = given.note
    assert note.activity == "standard_assessment" and note.signed_at is None
    assert note.fields["assessment"] == "PHQ-9 (depression): 11 (moderate)"
    assert "BHI" in note.fields["interpretation"] and "Urgent task" in note.fields["actions"]
    assert AuditEvent.objects.filter(patient=twyla, object_type__icontains="assessment").exists()
    for who in ("dr.patel", "nora.rn"):  # the urgent task waits in the practitioner's and the care manager's inbox
        assert "Urgent: PHQ-9 item 9" in login(who).get("/api/inbox").content.decode()


def test_no_urgent_task_when_item_9_is_0(demo):
    twyla = Patient.objects.get(family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    record_assessment(patient=twyla, by=nora, instrument="phq9", answers=answers(PHQ9, 3, 3, 3, 3, 3, 3, 3, 3, 0))
    assert not FollowUpTask.objects.filter(kind="urgent").exists()


@pytest.mark.parametrize(
    ("instrument", "given", "named"),
    [
        ("phq9", {}, "item 1: answer “Little interest or pleasure in doing things”"),
        ("gad7", {GAD7.items[0].link_id: "4"}, "item 1: expected one of [0, 1, 2, 3], got '4'"),
        ("bdi", {}, "instrument: expected one of phq2, phq9, gad7, steadi"),
    ],
)
def test_bad_input_is_named_and_writes_nothing(demo, instrument, given, named):
    twyla = Patient.objects.get(family_name="Moen")
    with pytest.raises(InvalidInput, match=named.replace("[", r"\[").replace("]", r"\]")):
        record_assessment(patient=twyla, by=User.objects.get(username="nora.rn"), instrument=instrument, answers=given)
    assert not AssessmentResponse.objects.exists() and not FollowUpTask.objects.filter(kind="urgent").exists()


def test_the_care_manager_gives_a_gad7_from_the_patient_page(demo, login):
    twyla = Patient.objects.get(family_name="Moen")
    client = login("nora.rn")
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert f'href="/patients/{twyla.id}/assessments/gad7/"' in page
    form = answers(GAD7, 1, 1, 1, 1, 0, 0, 0)
    incomplete = client.post(f"/patients/{twyla.id}/assessments/gad7/", {k: v for k, v in list(form.items())[:3]})
    assert incomplete.status_code == 422 and "item 4: answer" in incomplete.content.decode()
    assert client.post(f"/patients/{twyla.id}/assessments/gad7/", form).status_code == 302
    assert client.post(f"/patients/{twyla.id}/assessments/gad7/", answers(GAD7, 2, 2, 2, 2, 1, 1, 1)).status_code == 302
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert "GAD-7 (anxiety)</strong>: 11 — moderate" in page and "positive screen" in page
    assert "earlier: 4 (" in page  # the trend: the score before
    assert client.get(f"/patients/{twyla.id}/assessments/bdi/").status_code == 404


def test_the_api_gives_the_clinical_picture_with_assessments_and_reconciliations(demo, login):
    from ccmops.clinical.models import Medication
    from ccmops.documentation.reconcile import Answer, reconcile

    twyla = Patient.objects.get(family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    record_assessment(patient=twyla, by=nora, instrument="gad7", answers=answers(GAD7, 1, 1, 1, 1, 1, 0, 0))
    med = Medication.objects.filter(patient=twyla).first()
    reconcile(patient=twyla, by=nora, source="bottles", adherence="fine", answers=[Answer(med.id, "taking")])
    body = login("nora.rn").get(f"/api/patients/{twyla.id}/clinical").json()
    assert body["medications"] and body["readings"] and body["immunizations"]  # imported with the demo's bundle
    assert body["assessments"][0]["instrument"] == "gad7" and body["assessments"][0]["band"] == "mild"
    assert body["assessments"][0]["questionnaire_response"]["resourceType"] == "QuestionnaireResponse"
    assert body["reconciliations"][0]["items"] == [{"medication": med.display, "answer": "taking", "detail": ""}]
    assert AuditEvent.objects.filter(patient=twyla, detail__via="api clinical").exists()
    assert login("pat.rn").get(f"/api/patients/{twyla.id}/clinical").status_code == 404  # Summit does not serve Maple
