"""The AHC health-related social needs screen (issue 33): scored by domain as CMS publishes it — living situation
or housing problems, food (either question "often" or "sometimes true"), transportation, utilities (threatened or
already shut off), and interpersonal safety (the four items summed, 11 or more of 20) — a need raises a task for
the care manager to connect the patient with community resources (due today for safety), and the response is a
valid FHIR QuestionnaireResponse with every chosen housing problem and the safety total."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccmops.clinical.instruments import HRSN, questionnaire
from ccmops.documentation.assess import record_assessment
from ccmops.errors import InvalidInput
from ccmops.organizations.engagements import practice_today
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.worklist.models import FollowUpTask

LIVING, PROBLEMS, FOOD1, FOOD2, TRANSPORT, UTILITIES, *SAFETY = (i.link_id for i in HRSN.items)


def screen(living=0, problems=(0,), food=(0, 0), transport=0, utilities=0, safety=(1, 1, 1, 1)):
    answers = {LIVING: living, PROBLEMS: list(problems), FOOD1: food[0], FOOD2: food[1], TRANSPORT: transport,
               UTILITIES: utilities}  # fmt: skip
    answers.update(zip(SAFETY, safety, strict=True))
    return answers


def test_no_needs():
    result = HRSN.result(screen())
    assert (result.score, result.band, result.positive, result.needs) == (0, "no needs identified", False, ())


@pytest.mark.parametrize(
    ("answers", "needs"),
    [
        (screen(living=1), ("housing",)),  # worried about losing it
        (screen(living=2), ("housing",)),
        (screen(problems=(2, 4)), ("housing",)),  # mold, lack of heat
        (screen(living=1, problems=(7,)), ("housing",)),  # one domain however many items show it
        (screen(food=(1, 0)), ("food",)),  # sometimes true
        (screen(food=(0, 2)), ("food",)),
        (screen(transport=1), ("transportation",)),
        (screen(utilities=2), ("utilities",)),  # already shut off
        (screen(safety=(2, 3, 3, 3)), ("safety",)),  # 11
        (screen(safety=(1, 3, 3, 3)), ()),  # 10 is below the line
        (screen(safety=(5, 5, 5, 5), food=(2, 2), transport=1), ("food", "transportation", "safety")),
    ],
)
def test_needs_by_domain_as_published(answers, needs):
    result = HRSN.result(answers)
    assert result.needs == needs and result.score == len(needs) and result.positive == bool(needs)
    if needs:
        assert result.band == "needs: " + ", ".join(needs)


@settings(max_examples=200, deadline=None)
@given(
    living=st.sampled_from([0, 1, 2]),
    problems=st.one_of(st.just([0]), st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True)),
    food=st.tuples(st.sampled_from([0, 1, 2]), st.sampled_from([0, 1, 2])),
    transport=st.sampled_from([0, 1]),
    utilities=st.sampled_from([0, 1, 2]),
    safety=st.tuples(*[st.integers(1, 5)] * 4),
)
def test_each_domain_is_a_need_exactly_when_its_rule_says(living, problems, food, transport, utilities, safety):
    result = HRSN.result(screen(living, problems, food, transport, utilities, safety))
    expected = {
        "housing": living > 0 or problems != [0],
        "food": max(food) > 0,
        "transportation": transport == 1,
        "utilities": utilities > 0,
        "safety": sum(safety) >= 11,
    }
    assert set(result.needs) == {d for d, need in expected.items() if need}
    assert HRSN.domain_totals(screen(living, problems, food, transport, utilities, safety)) == [
        ("95614-4", sum(safety))
    ]


def test_the_questionnaire_lets_housing_problems_repeat():
    q = questionnaire(HRSN)
    problems = next(i for i in q["item"] if i["linkId"] == PROBLEMS)
    assert problems["repeats"] is True and len(problems["answerOption"]) == 8
    assert q["code"] == [{"system": "http://loinc.org", "code": "96777-8"}]


def test_a_positive_screen_raises_a_community_resources_task_and_is_documented(demo):
    twyla = Patient.objects.get(family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    given_ = record_assessment(
        patient=twyla, by=nora, instrument="hrsn", answers=screen(problems=(1, 2), food=(1, 0), transport=1)
    )
    assert (given_.score, given_.band, given_.positive) == (3, "needs: housing, food, transportation", True)
    problems = next(i for i in given_.response["item"] if i["linkId"] == PROBLEMS)
    assert [a["valueCoding"]["display"] for a in problems["answer"]] == ["Pests such as bugs, ants, or mice", "Mold"]
    safety = next(i for i in given_.response["item"] if i["linkId"] == "95614-4")
    assert safety["answer"] == [{"valueInteger": 4}]
    (task,) = FollowUpTask.objects.filter(patient=twyla, kind="social_needs")
    assert "housing, food, transportation" in task.title
    assert task.due_on == practice_today(twyla.practice) + dt.timedelta(days=7)
    assert "community resources: housing, food, transportation" in given_.note.fields["actions"]
    assert "Positive screen" in given_.note.fields["interpretation"]


def test_a_safety_need_is_due_today(demo):
    twyla = Patient.objects.get(family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    record_assessment(patient=twyla, by=nora, instrument="hrsn", answers=screen(safety=(3, 3, 3, 3)))
    (task,) = FollowUpTask.objects.filter(patient=twyla, kind="social_needs")
    assert task.due_on == practice_today(twyla.practice) and "interpersonal safety" in task.title


def test_no_needs_no_task(demo):
    twyla = Patient.objects.get(family_name="Moen")
    record_assessment(patient=twyla, by=User.objects.get(username="nora.rn"), instrument="hrsn", answers=screen())
    assert not FollowUpTask.objects.filter(kind="social_needs").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({PROBLEMS: ["0", "3"]}, "item 2: “None of the above” cannot go with another answer"),
        ({PROBLEMS: []}, "item 2: answer"),
        ({LIVING: ["0", "1"]}, "item 1: expected one answer, got 2"),
        ({UTILITIES: "3"}, "item 6: expected one of [0, 1, 2], got '3'"),
        ({SAFETY[0]: "0"}, "item 7: expected one of [1, 2, 3, 4, 5], got '0'"),
    ],
)
def test_bad_answers_are_named_and_nothing_is_written(demo, change, message):
    twyla = Patient.objects.get(family_name="Moen")
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        record_assessment(
            patient=twyla, by=User.objects.get(username="nora.rn"), instrument="hrsn", answers=screen() | change
        )
    assert not twyla.assessments.exists() and not FollowUpTask.objects.filter(kind="social_needs").exists()


def test_the_care_manager_gives_the_social_needs_screen_on_the_web(demo, login):
    twyla = Patient.objects.get(family_name="Moen")
    client = login("nora.rn")
    form_page = client.get(f"/patients/{twyla.id}/assessments/hrsn/").content.decode()
    assert 'type="checkbox" name="96778-6"' in form_page and "Interpersonal safety" not in form_page
    assert '<h3 class="assessment-domain">Food</h3>' in form_page  # the domains head their questions
    form = {k: (v if isinstance(v, list) else str(v)) for k, v in screen(problems=(2, 4), utilities=1).items()}
    mixed = client.post(f"/patients/{twyla.id}/assessments/hrsn/", form | {PROBLEMS: ["0", "2"]})
    assert mixed.status_code == 422 and "“None of the above” cannot go with another answer" in mixed.content.decode()
    assert 'value="2" checked' in mixed.content.decode()  # what was chosen stays chosen
    assert client.post(f"/patients/{twyla.id}/assessments/hrsn/", form).status_code == 302
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert "Social needs: AHC HRSN core questions</strong>: needs: housing, utilities" in page
    assert "Social needs found (housing, utilities)" in page  # the task on the patient's page


def test_the_api_gives_the_questionnaire_and_takes_an_answer(demo, login):
    twyla = Patient.objects.get(family_name="Moen")
    client = login("nora.rn")
    body = client.get("/api/questionnaires/hrsn").json()
    assert body["questionnaire"]["resourceType"] == "Questionnaire"
    assert body["answer_values"][UTILITIES][2] == {"value": 2, "code": "LA32002-0", "display": "Already shut off"}
    url = f"/api/patients/{twyla.id}/assessments/hrsn"
    bad = client.post(url, {"answers": screen() | {LIVING: 7}}, content_type="application/json")
    assert bad.status_code == 422 and "item 1: expected one of [0, 1, 2], got 7" in bad.content.decode()
    made = client.post(url, {"answers": screen(food=(2, 2))}, content_type="application/json")
    assert made.status_code == 201 and made.json()["band"] == "needs: food" and made.json()["note_id"]
    assert client.post(f"/api/patients/{twyla.id}/assessments/bdi", {"answers": {}},
                       content_type="application/json").status_code == 404  # fmt: skip
    assert login("pat.rn").post(url, {"answers": screen()}, content_type="application/json").status_code == 404
    bundle = client.get(f"/api/patients/{twyla.id}/fhir").json()
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "MedicationRequest", "Observation", "Immunization", "QuestionnaireResponse"} <= kinds
