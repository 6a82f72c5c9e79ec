"""The care-plan validator reads the clinical picture (R-PLAN-1: a plan based on the patient's physical, mental,
psychosocial and environmental assessment, with medication management): medication management names every current
medication (as reconciled, else the EHR's active list), and a positive depression, anxiety, fall-risk or
social-needs screen of the last year is addressed — until then the plan cannot be approved, and the editor's pull
brings the medications in."""

import datetime as dt

import pytest
from django.utils import timezone
from tests.factories.enrollment import complete

from ccmops.careplans.models import CarePlan
from ccmops.careplans.services import approve, create_from_template, missing_of, save_version, with_picture
from ccmops.clinical.instruments import GAD7, HRSN, PHQ9, STEADI
from ccmops.clinical.models import AssessmentResponse, Medication
from ccmops.clinical.picture import medication_words
from ccmops.documentation.assess import record_assessment
from ccmops.documentation.reconcile import Answer, reconcile
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Practitioner, User
from ccmops.patients.models import Patient
from ccmops.rules.careplan import Finding, missing_elements, unaddressed


def test_medication_words_name_the_drug_not_its_form():
    assert medication_words("Lisinopril 10 MG Oral Tablet") == ("lisinopril",)
    assert medication_words("120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler") == (
        "fluticasone", "propionate",
    )  # fmt: skip
    assert medication_words("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet") == (
        "metformin", "hydrochloride",
    )  # fmt: skip
    assert medication_words("B12") == ("b12",)  # nothing else names it: the whole display


def test_unaddressed_findings_are_grouped_by_what_they_need():
    need = "medication management: name the patient's current medications"
    findings = [
        Finding("medication_management", ("lisinopril",), need, "Lisinopril 10 MG Oral Tablet"),
        Finding("medication_management", ("metformin",), need, "Metformin 500 MG Oral Tablet"),
        Finding("problems", ("depress", "mood"), "problem list or goals: address the positive screen", "PHQ-9: mild"),
    ]
    content = {"medication_management": "Lisinopril 10 mg daily", "problems": [{"condition": "Hypertension"}],
               "goals": [{"description": "Mood: PHQ-9 below 5"}]}  # fmt: skip
    assert unaddressed(content, findings) == [f"{need}: Metformin 500 MG Oral Tablet"]
    content["medication_management"] += "; metformin 500 mg twice a day"
    assert unaddressed(content, findings) == []
    assert missing_elements(content, findings=findings)[-1:] != [f"{need}: Metformin 500 MG Oral Tablet"]


@pytest.fixture
def drafted(demo):
    twyla = Patient.objects.get(family_name="Moen")
    Medication.objects.filter(patient=twyla).delete()
    AssessmentResponse.objects.filter(patient=twyla).delete()
    CarePlan.objects.filter(patient=twyla).delete()
    nora = User.objects.get(username="nora.rn")
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    content = complete(plan.latest.content) | {"community_services": "Senior center exercise class referral."}
    save_version(plan=plan, content=content, by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    assert missing_of(plan.latest) == []  # complete, and the picture holds nothing yet
    return twyla, nora, plan


def add_medication(twyla, display, source_id):
    return Medication.objects.create(
        practice=twyla.practice, patient=twyla, kind="request", system="rxnorm", status="active", source_id=source_id,
        code=source_id, display=display, start=dt.date(2026, 1, 5),
    )  # fmt: skip


def test_a_new_prescription_the_plan_does_not_name_blocks_approval_until_pulled(drafted, login):
    twyla, nora, plan = drafted
    add_medication(twyla, "Apixaban 5 MG Oral Tablet", "1364445")
    (message,) = missing_of(plan.latest)
    assert message.startswith("medication management: name the patient's current medications") and "Apixaban" in message
    patel = Practitioner.objects.get(npi="1003000019")
    with pytest.raises(InvalidInput, match="Apixaban"):
        approve(version=plan.latest, by=patel.user, expected_lock=plan.lock_version)
    page = login("nora.rn").get(f"/care-plans/{plan.id}/").content.decode()
    assert "Apixaban 5 MG Oral Tablet" in page  # the plan page says what is missing
    page = login("nora.rn").get(f"/care-plans/{plan.id}/edit/?pull=1").content.decode()
    assert "Apixaban 5 MG Oral Tablet" in page  # the pull brings it into the editor
    save_version(plan=plan, content=with_picture(plan.latest.content, twyla), by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    assert missing_of(plan.latest) == []
    approve(version=plan.latest, by=patel.user, expected_lock=plan.lock_version)


def test_a_medication_the_patient_stopped_need_not_be_named(drafted):
    twyla, nora, plan = drafted
    apixaban = add_medication(twyla, "Apixaban 5 MG Oral Tablet", "1364445")
    reconcile(
        patient=twyla,
        by=nora,
        source="bottles",
        adherence="none missed",
        answers=[Answer(apixaban.id, "stopped", "GI bleed")],
    )
    assert missing_of(plan.latest) == []


def answers(spec, *values):
    return {item.link_id: v for item, v in zip(spec.items, values, strict=True)}


@pytest.mark.parametrize(
    ("instrument", "values", "named", "fix"),
    [
        ("phq9", (2, 2, 1, 2, 1, 1, 1, 0, 0), "PHQ-9 (depression) of", {"problems": "Depression"}),
        ("gad7", (2, 2, 2, 2, 1, 1, 1), "GAD-7 (anxiety) of", {"problems": "Generalized anxiety"}),
        ("steadi", (1, 0, 1), "Falls: STEADI key questions of", {"problems": "Fall risk"}),
    ],
)
def test_a_positive_screen_must_be_in_the_problem_list_or_goals(drafted, instrument, values, named, fix):
    twyla, nora, plan = drafted
    spec = {"phq9": PHQ9, "gad7": GAD7, "steadi": STEADI}[instrument]
    record_assessment(patient=twyla, by=nora, instrument=instrument, answers=answers(spec, *values))
    (message,) = missing_of(plan.latest)
    assert message.startswith("problem list or goals: address the positive screen") and named in message
    content = plan.latest.content | {"problems": [*plan.latest.content["problems"], {"condition": fix["problems"]}]}
    save_version(plan=plan, content=content, by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    assert missing_of(plan.latest) == []


def test_a_negative_screen_after_a_positive_one_clears_it(drafted):
    twyla, nora, plan = drafted
    record_assessment(patient=twyla, by=nora, instrument="phq9", answers=answers(PHQ9, 2, 2, 2, 2, 2, 0, 0, 0, 0))
    assert missing_of(plan.latest)
    record_assessment(patient=twyla, by=nora, instrument="phq9", answers=answers(PHQ9, 0, 0, 1, 1, 0, 0, 0, 0, 0))
    assert missing_of(plan.latest) == []


def test_a_screen_over_a_year_old_is_not_held_against_the_plan(drafted):
    twyla, nora, plan = drafted
    given = record_assessment(
        patient=twyla, by=nora, instrument="phq9", answers=answers(PHQ9, 3, 3, 3, 3, 0, 0, 0, 0, 0)
    )
    AssessmentResponse.objects.filter(pk=given.pk).update(performed_at=timezone.now() - dt.timedelta(days=400))
    assert missing_of(plan.latest) == []


def test_each_social_need_found_must_be_in_community_services(drafted):
    twyla, nora, plan = drafted
    hrsn = {i.link_id: 0 for i in HRSN.items} | {HRSN.items[1].link_id: [0]}
    hrsn |= {i.link_id: 1 for i in HRSN.items if i.domain == "safety"}
    hrsn[HRSN.items[2].link_id] = 2  # food
    hrsn[HRSN.items[4].link_id] = 1  # transportation
    record_assessment(patient=twyla, by=nora, instrument="hrsn", answers=hrsn)
    (message,) = missing_of(plan.latest)
    assert message.startswith("community and social services: address the social needs found")
    assert "food (social needs of" in message and "transportation (social needs of" in message
    content = plan.latest.content | {"community_services": "Referred to the county food pantry (SNAP application)."}
    save_version(plan=plan, content=content, by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    (message,) = missing_of(plan.latest)
    assert "food" not in message and "transportation" in message


def test_an_approved_plan_says_when_the_picture_has_moved_on(drafted, login):
    twyla, nora, plan = drafted
    approve(version=plan.latest, by=Practitioner.objects.get(npi="1003000019").user, expected_lock=plan.lock_version)
    page = login("dr.patel").get(f"/care-plans/{plan.id}/").content.decode()
    assert 'id="plan-behind"' not in page and "Not yet approvable" not in page
    record_assessment(patient=twyla, by=nora, instrument="gad7", answers=answers(GAD7, 3, 3, 2, 2, 1, 1, 1))
    page = login("dr.patel").get(f"/care-plans/{plan.id}/").content.decode()
    assert 'id="plan-behind"' in page and "GAD-7 (anxiety) of" in page and "Not yet approvable" not in page
