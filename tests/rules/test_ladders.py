"""Time ladders at their edges (R-TIME-2: full minutes, no rounding) and the family choice."""

import json

import pytest
from tests.rules.builders import codes, doc, entry, finding_codes, run


def month_with(minutes: int, role: str = "clinical_staff", **changes):
    return doc(time_entries=[entry(minutes, "2026-05-05T09:00:00-05:00", role=role)], **changes)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (19, []),  # R-CCM-1: 19 is not 20
        (20, [("99490", 1)]),
        (39, [("99490", 1)]),  # R-TIME-2: no midpoint
        (40, [("99490", 1), ("99439", 1)]),  # R-CCM-2
        (59, [("99490", 1), ("99439", 1)]),
        (60, [("99490", 1), ("99439", 2)]),
        (61, [("99490", 1), ("99439", 2)]),
        (95, [("99490", 1), ("99439", 2)]),  # cap of two units
    ],
)
def test_non_complex_ccm_ladder(minutes, expected):
    decision = run(month_with(minutes))
    assert codes(decision) == expected
    assert decision["status"] == ("ready" if expected else "nothing_billable")


def test_below_threshold_says_how_many_minutes():
    decision = run(month_with(19))
    assert "CCM.TIME.BELOW_THRESHOLD" in finding_codes(decision)
    assert "19 counted minutes" in next(
        f["message"] for f in decision["findings"] if f["code"] == "CCM.TIME.BELOW_THRESHOLD"
    )


def test_minutes_beyond_the_cap_are_reported():
    decision = run(month_with(75))
    beyond = next(f for f in decision["findings"] if f["code"] == "CCM.TIME.BEYOND_LAST_UNIT")
    assert "15 counted minutes beyond the 60-minute limit" in beyond["message"]


MDM = [{"date": "2026-05-12", "complexity": "moderate", "practitioner_id": "npi-1003000001"}]
REVISED = {
    "kind": "comprehensive",
    "established_at": "2026-01-29T10:00:00-06:00",
    "shared_with_patient_at": "2026-01-29T10:30:00-06:00",
    "revisions": [{"at": "2026-05-12T10:00:00-05:00", "substantial": True}],
}


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        # R-FAM-1: complex criteria documented at 60–89 bill complex CCM, though non-complex would pay more
        (60, [("99487", 1)]),
        (89, [("99487", 1)]),
        (90, [("99487", 1), ("99489", 1)]),  # R-CCM-5
        (119, [("99487", 1), ("99489", 1)]),
        (120, [("99487", 1), ("99489", 2)]),
        (150, [("99487", 1), ("99489", 3)]),  # no cap found for 99489
    ],
)
def test_complex_ccm_ladder_with_mdm_and_care_plan_revision(minutes, expected):
    decision = run(month_with(minutes, medical_decision_making=MDM, care_plan=REVISED))
    assert codes(decision) == expected
    assert decision["family"] == "ccm_complex"
    alt_codes = [[x["code"] for x in a["lines"]] for a in decision["alternatives"]]
    assert ["99490", "99439"] in alt_codes  # the non-complex ladder stays listed with its amount
    assert "R-FAM-1" in decision["alternatives"][0]["why_not"]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        # the named alternative policy: highest compliant amount (167.01 vs 99487's 144.29 at 60–89)
        (60, [("99490", 1), ("99439", 2)]),
        (89, [("99490", 1), ("99439", 2)]),
        (90, [("99487", 1), ("99489", 1)]),
    ],
)
def test_family_choice_highest_paying_is_a_named_policy(minutes, expected):
    """R-FAM-1: `family_choice: highest_paying` bills the family that pays most among those documented."""
    d = month_with(minutes, medical_decision_making=MDM, care_plan=REVISED, policy={"family_choice": "highest_paying"})
    decision = run(d)
    assert codes(decision) == expected
    assert "family_choice" in decision["alternatives"][0]["why_not"]


def test_complex_and_non_complex_never_together_and_why():
    decision = run(month_with(90, medical_decision_making=MDM, care_plan=REVISED))
    alternative = decision["alternatives"][0]
    assert [x["code"] for x in alternative["lines"]] == ["99490", "99439"]
    assert "R-CCM-7" in alternative["why_not"]
    assert alternative["total"] == "167.01"


def test_complex_refused_without_mdm_says_so():
    """R-ELIG-2: complex CCM needs moderate or high MDM."""
    decision = run(month_with(95, care_plan=REVISED))
    assert codes(decision) == [("99490", 1), ("99439", 2)]
    assert "CCM.COMPLEX.NO_MDM" in finding_codes(decision)


@pytest.mark.parametrize(
    ("policy", "billed_complex"),
    [("establishment_or_revision", False), ("none", True), ("substantial_revision", False)],
)
def test_complex_care_plan_event_policy(policy, billed_complex):
    """R-CCM-6: with no revision this month, only the `none` policy allows complex CCM."""
    decision = run(month_with(95, medical_decision_making=MDM, policy={"complex_ccm_care_plan_event": policy}))
    assert (codes(decision)[0][0] == "99487") is billed_complex


@pytest.mark.parametrize(
    ("minutes", "chosen", "alternative"),
    [
        (29, [("99490", 1)], None),  # 29 personal minutes: no 99491, but they count as staff time
        (30, [("99491", 1)], [("99490", 1)]),  # R-CCM-3
        # R-FAM-1 (b): every counted minute is the practitioner's own, so the personal family, whatever pays more
        (59, [("99491", 1)], [("99490", 1), ("99439", 1)]),
        (60, [("99491", 1), ("99437", 1)], [("99490", 1), ("99439", 2)]),
        (89, [("99491", 1), ("99437", 1)], [("99490", 1), ("99439", 2)]),
        (90, [("99491", 1), ("99437", 2)], [("99490", 1), ("99439", 2)]),
    ],
)
def test_practitioner_personal_ladder_is_the_most_specific_family(minutes, chosen, alternative):
    """The billing practitioner's own minutes count as staff time too (R-TIME-3); 99491 and 99490 are never
    billed together (R-CCM-4): when all minutes are the practitioner's own, 99491 is the code for the service
    furnished (R-FAM-1 (b)) and the other is listed with the reason."""
    decision = run(month_with(minutes, role="billing_practitioner"))
    assert codes(decision) == chosen
    assert decision["counted_minutes"] == {"clinical_staff": 0, "billing_practitioner": minutes}
    alternatives = [[(x["code"], x["units"]) for x in a["lines"]] for a in decision["alternatives"]]
    if alternative is None:
        assert alternatives == []
    else:
        assert alternatives == [alternative]
        assert "R-CCM-4" in decision["alternatives"][0]["why_not"]


PCM_DOC = {
    "consents": [
        {
            "program": "pcm",
            "practitioner_id": "npi-1003000001",
            "documented_at": "2026-01-22T15:40:00-06:00",
            "method": "written",
            "elements": ["cost_sharing", "one_practitioner_per_month", "right_to_stop"],
        }
    ],
    "care_plan": {
        "kind": "disease_specific",
        "established_at": "2026-01-29T10:00:00-06:00",
        "shared_with_patient_at": "2026-01-29T10:30:00-06:00",
        "revisions": [],
        "complexity_reason": "Admitted for decompensated heart failure in April; diuretic adjusted weekly",
    },
}


@pytest.mark.parametrize(
    ("minutes", "role", "expected"),
    [
        (29, "clinical_staff", []),
        (30, "clinical_staff", [("99426", 1)]),  # R-PCM-1
        (60, "clinical_staff", [("99426", 1), ("99427", 1)]),
        (90, "clinical_staff", [("99426", 1), ("99427", 2)]),
        (150, "clinical_staff", [("99426", 1), ("99427", 2)]),  # R-PCM-2 cap policy 2
        (30, "billing_practitioner", [("99424", 1)]),
        (60, "billing_practitioner", [("99424", 1), ("99425", 1)]),
    ],
)
def test_pcm_ladders(minutes, role, expected):
    d = doc(time_entries=[entry(minutes, "2026-05-05T09:00:00-05:00", role=role, program="pcm")], **PCM_DOC)
    d["patient"]["conditions"] = [{"code": "I50.32", "system": "icd10cm"}]
    decision = run(d)
    assert codes(decision) == expected


def test_pcm_add_on_cap_is_a_policy():
    d = doc(
        time_entries=[entry(150, "2026-05-05T09:00:00-05:00", program="pcm")],
        policy={"cap_99427": 0},
        **PCM_DOC,
    )
    assert codes(run(d)) == [("99426", 1), ("99427", 4)]


@pytest.mark.parametrize(("cap", "units"), [(0, 0), (1, 1), (2, 2)])
def test_99439_cap_can_be_lowered_to_zero_but_never_raised(cap, units):
    """R-CCM-2, R-CLM-EDIT-1: two 99439 units is Medicare's limit. A practice may lower it (0 means none at all,
    not "no cap"); 3 or 4 is refused naming the field."""
    decision = run(month_with(95, policy={"cap_99439": cap}))
    assert codes(decision) == [("99490", 1)] + ([("99439", units)] if units else [])


@pytest.mark.parametrize("cap", [3, 4])
def test_99439_cap_above_medicares_limit_is_refused(cap):
    from ccmops.rules.contract import ContractError, parse_patient_month

    with pytest.raises(ContractError) as err:
        parse_patient_month(json.dumps(month_with(95, policy={"cap_99439": cap})))
    assert err.value.problems[0][0] == "$.policy.cap_99439"
    assert "at most 2" in err.value.problems[0][1] and "never raised" in err.value.problems[0][1]


def test_pcm_needs_a_disease_specific_plan_with_a_complexity_reason():
    """R-ELIG-3: hypertension alone under a general (comprehensive) plan is not PCM; neither is a disease-specific
    plan that records no reason the condition is complex or high-risk (unless the practice's policy says so)."""
    general = doc(time_entries=[entry(45, "2026-05-05T09:00:00-05:00", program="pcm")], **PCM_DOC)
    general["patient"]["conditions"] = [{"code": "I10", "system": "icd10cm"}]
    general["care_plan"] = {**general["care_plan"], "kind": "comprehensive"}
    decision = run(general)
    assert codes(decision) == []
    assert "PCM.CARE_PLAN.WRONG_KIND" in finding_codes(decision)
    no_reason = doc(time_entries=[entry(45, "2026-05-05T09:00:00-05:00", program="pcm")], **PCM_DOC)
    no_reason["patient"]["conditions"] = [{"code": "I10", "system": "icd10cm"}]
    no_reason["care_plan"] = {**no_reason["care_plan"], "complexity_reason": None}
    decision = run(no_reason)
    assert codes(decision) == [] and "PCM.NOT_COMPLEX" in finding_codes(decision)
    no_reason["policy"] = {"pcm_requires_complexity_reason": False}
    assert codes(run(no_reason)) == [("99426", 1)]


def test_a_ccm_patient_is_billed_ccm_not_pcm_for_the_same_practitioner():
    """R-FAM-1 (c), R-ELIG-3: three conditions in the practitioner's CCM under a comprehensive plan: CCM is billed
    and PCM is not (a comprehensive plan does not make a PCM month), whatever the minutes logged as PCM."""
    d = doc(
        time_entries=[
            entry(35, "2026-05-05T09:00:00-05:00", program="ccm"),
            entry(35, "2026-05-06T09:00:00-05:00", program="pcm"),
        ],
    )
    d["consents"].append({**PCM_DOC["consents"][0], "documented_at": "2026-01-10T10:00:00-06:00"})
    decision = run(d)
    assert codes(decision) == [("99490", 1)]
    assert "PCM.CARE_PLAN.WRONG_KIND" in finding_codes(decision)


def test_2025_and_2026_use_the_same_ladders_at_their_own_prices():
    """R-2026-4: definitions unchanged; only prices differ."""
    may25 = doc(month="2025-05", time_entries=[entry(45, "2025-05-05T09:00:00-05:00")])
    may25["consents"][0]["documented_at"] = "2025-01-22T15:40:00-06:00"
    may25["visits"][0]["date"] = "2025-01-22"
    may25["care_plan"]["established_at"] = "2025-01-29T10:00:00-06:00"
    may25["care_plan"]["shared_with_patient_at"] = "2025-01-29T10:30:00-06:00"
    d25, d26 = run(may25), run(month_with(45))
    assert codes(d25) == codes(d26) == [("99490", 1), ("99439", 1)]
    assert [x["allowed_amount"] for x in d25["lines"]] == ["60.49", "45.93"]
    assert [x["allowed_amount"] for x in d26["lines"]] == ["66.13", "50.44"]
