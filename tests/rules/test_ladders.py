"""Time ladders at their edges (R-TIME-2: full minutes, no rounding) and the family choice."""

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
        # at 60–89 non-complex pays more (R-CCM-2 ladder 167.01 vs 99487 144.29), complex is the alternative
        (60, [("99490", 1), ("99439", 2)]),
        (89, [("99490", 1), ("99439", 2)]),
        (90, [("99487", 1), ("99489", 1)]),  # R-CCM-5
        (119, [("99487", 1), ("99489", 1)]),
        (120, [("99487", 1), ("99489", 2)]),
        (150, [("99487", 1), ("99489", 3)]),  # no cap found for 99489
    ],
)
def test_complex_ccm_ladder_with_mdm_and_care_plan_revision(minutes, expected):
    decision = run(month_with(minutes, medical_decision_making=MDM, care_plan=REVISED))
    assert codes(decision) == expected
    alt_codes = [[x["code"] for x in a["lines"]] for a in decision["alternatives"]]
    assert any("99487" in c for c in alt_codes) or expected[0][0] == "99487"


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
        (30, [("99491", 1)], [("99490", 1)]),  # R-CCM-3: 89.18 beats 66.13
        (59, [("99490", 1), ("99439", 1)], [("99491", 1)]),  # 116.57 beats 89.18
        (60, [("99490", 1), ("99439", 2)], [("99491", 1), ("99437", 1)]),  # 167.01 beats 152.31
        (89, [("99490", 1), ("99439", 2)], [("99491", 1), ("99437", 1)]),
        (90, [("99491", 1), ("99437", 2)], [("99490", 1), ("99439", 2)]),  # 215.44 beats 167.01
    ],
)
def test_practitioner_personal_ladder_and_the_family_that_pays_more(minutes, chosen, alternative):
    """The billing practitioner's own minutes count as staff time too (R-TIME-3); 99491 and 99490 are never
    billed together (R-CCM-4): the engine bills the larger and lists the other with the reason."""
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
