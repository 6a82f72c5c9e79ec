"""The model-fit assessment (pure): table-driven practices whose right answer is known, with the reasons checked,
not just the label; the simulation is deterministic by seed; bad questionnaires name their fields."""

import copy

import pytest

from ccmops.access.operating_model import Function, Preset
from ccmops.assessment.fit import assess
from ccmops.assessment.questionnaire import QuestionnaireError, parse_questionnaire

PRICING = {
    "managed_per_patient_month": 45,
    "hybrid_monthly_per_patient_month": 32,
    "hybrid_outreach_per_patient_month": 24,
}
BASE = {"panel_patients": 1500, "medicare_share": 0.35, "expected_enrollment_rate": 0.5, "pricing": PRICING}


def disciplined(level: int) -> dict:
    return dict.fromkeys(("dedicated_roles", "documentation_habits", "time_tracking_habits", "leadership_focus"), level)


CASES = [
    pytest.param(
        {
            **BASE,
            "staff": [{"role": "RN", "hours_per_week": 32, "cost_per_hour": 42}],
            "discipline": disciplined(5),
            "desire_for_control": 3,
        },
        Preset.IN_HOUSE,
        ["cover the", "Workflow discipline 5.0/5"],
        id="well-staffed, disciplined practice → in-house",
    ),
    pytest.param(
        {**BASE, "staff": [], "discipline": disciplined(2), "desire_for_control": 2},
        Preset.MANAGED,
        ["No staff hours are available", "partner"],
        id="no staff capacity → managed",
    ),
    pytest.param(
        {
            **BASE,
            "staff": [{"role": "MA", "hours_per_week": 20, "cost_per_hour": 24}],
            "discipline": disciplined(3),
            "desire_for_control": 3,
        },
        Preset.HYBRID_PARTNER_MONTHLY,
        ["cover the enrollment work", "but not the monthly follow-up", "monthly outreach"],
        id="capacity covers enrollment but not monthly follow-up → hybrid",
    ),
]


@pytest.mark.parametrize(("questionnaire", "expected", "phrases"), CASES)
def test_recommendation_and_its_reasons(questionnaire, expected, phrases):
    result = assess(parse_questionnaire(questionnaire))
    assert result.recommended is expected
    text = " ".join(result.reasons)
    for phrase in phrases:
        assert phrase in text, (phrase, result.reasons)
    chosen = result.results[expected]
    assert chosen.feasible
    assert f"{round(100 * chosen.consistency.p50)} %" in text  # the reasons quote the simulated figures
    # Every other model says why not, and the in-house risks name the staffing gap where there is one.
    assert set(result.alternatives) == set(result.results) - {expected}
    if expected is not Preset.IN_HOUSE:
        inhouse = result.results[Preset.IN_HOUSE]
        assert not inhouse.feasible
        assert "below the" in result.alternatives[Preset.IN_HOUSE]
        assert any("h/week" in r for r in inhouse.risks)


def test_hybrid_case_figures_support_the_reasons():
    result = assess(parse_questionnaire(CASES[2].values[0]))
    hybrid = result.results[Preset.HYBRID_PARTNER_MONTHLY]
    inhouse = result.results[Preset.IN_HOUSE]
    assert hybrid.enrollment_coverage >= 1 > inhouse.monthly_coverage
    assert Function.MONTHLY_OUTREACH in hybrid.partner_functions
    assert Function.ENROLLMENT_CONSENT in hybrid.practice_functions
    assert hybrid.margin.p50 > result.results[Preset.MANAGED].margin.p50


def test_simulation_is_deterministic_by_seed_and_shows_a_distribution():
    q = CASES[0].values[0]
    first = assess(parse_questionnaire(q)).as_dict()
    again = assess(parse_questionnaire(copy.deepcopy(q))).as_dict()
    assert first == again
    other = assess(parse_questionnaire({**q, "seed": 2})).as_dict()
    assert other["models"]["in_house"]["consistency"] != first["models"]["in_house"]["consistency"]
    dist = first["models"]["in_house"]["consistency"]
    assert dist["p10"] <= dist["p50"] <= dist["p90"]
    assert sum(dist["histogram"]) == first["runs"]
    assert len(first["models"]["in_house"]["monthly_consistency_p50"]) == first["months"]


def test_measured_figures_replace_the_discipline_assumption():
    q = CASES[0].values[0]
    measured = {**q, "measured": {"months": 6, "enrolled": 170, "billable_share": 0.35, "by_party": "practice"}}
    before = assess(parse_questionnaire(q))
    after = assess(parse_questionnaire(measured))
    assert after.results[Preset.IN_HOUSE].consistency.p50 < before.results[Preset.IN_HOUSE].consistency.p50
    assert after.recommended is not Preset.IN_HOUSE
    assert any("Based on 6 months of the practice's own figures" in r for r in after.reasons)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"medicare_share": 1.5}, "medicare_share"),
        ({"discipline": {**disciplined(3), "leadership_focus": 9}}, "discipline.leadership_focus"),
        ({"staff": [{"role": "RN", "hours_per_week": -1, "cost_per_hour": 40}]}, "staff.0.hours_per_week"),
        ({"workload": {"flying": {"per_pm": 1}}}, "unknown function 'flying'"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_questionnaire_names_the_field(change, field):
    q = {**CASES[0].values[0], **change}
    with pytest.raises(QuestionnaireError) as err:
        parse_questionnaire(q)
    assert field in str(err.value)
