"""APCM G0556–G0558 and the 2026 behavioral-health add-ons."""

import json

import pytest
from tests.rules.builders import BHI_ELEMENTS, BP, codes, consent, doc, entry, finding, finding_codes, run

APCM = {"consents": [consent("apcm")]}


def apcm_doc(conditions: int = 2, qmb: bool = False, **changes) -> dict:
    d = doc(**{**APCM, **changes})
    d["patient"]["conditions"] = [{"code": c, "system": "icd10cm"} for c in ["I50.32", "J44.9", "E11.9"][:conditions]]
    d["patient"]["qmb"] = qmb
    return d


@pytest.mark.parametrize(
    ("conditions", "qmb", "code", "allowed", "share"),
    [
        (0, False, "G0556", "16.37", "3.27"),  # R-APCM-1: zero or one condition is level 1
        (1, False, "G0556", "16.37", "3.27"),
        (2, False, "G0557", "53.78", "10.76"),
        (3, True, "G0558", "117.24", "0.00"),  # R-APCM-5, R-PAY-2: QMB pays nothing
    ],
)
def test_apcm_levels_without_any_minutes(conditions, qmb, code, allowed, share):
    """R-APCM-2: no time threshold; the date of service is the last day of the month (R-CLM-DOS-2)."""
    decision = run(apcm_doc(conditions, qmb))
    assert decision["lines"] == [
        {
            "code": code,
            "units": 1,
            "date_of_service": "2026-05-31",
            "diagnosis_codes": decision["lines"][0]["diagnosis_codes"],
            "allowed_amount": allowed,
            "patient_share": share,
        }
    ]
    assert decision["status"] == "ready" or "CLAIM.DIAGNOSES.TOO_FEW" in finding_codes(decision)


def test_apcm_needs_its_own_consent():
    """R-CONS-6 (a rule since the 2026-12 revision): a CCM consent never covers APCM; the retired policy that
    allowed it is refused by name."""
    d = apcm_doc(consents=[consent("ccm")], time_entries=[entry(10, program="apcm")])
    decision = run(d)
    assert "G0557" not in [x["code"] for x in decision["lines"]]
    missing = next(f for f in decision["findings"] if f["code"] == "APCM.CONSENT.MISSING")
    assert "does not cover APCM" in missing["message"] and missing["rules"] == ["R-CONS-6"]
    d["policy"] = {"ccm_consent_covers_apcm": True}
    from ccmops.rules.contract import ContractError, parse_patient_month

    with pytest.raises(ContractError, match="no longer a policy"):
        parse_patient_month(json.dumps(d))


def test_apcm_only_for_the_practitioner_responsible_for_all_primary_care():
    """R-ELIG-4."""
    d = apcm_doc()
    d["billing_practitioner"]["responsible_for_all_primary_care"] = False
    decision = run(d)
    assert decision["lines"] == []
    assert "APCM.NOT_PRIMARY_CARE_PRACTITIONER" in finding_codes(decision)


def test_apcm_initiating_visit_window_is_three_years():
    """R-INIT-5, R-APCM-4: last seen 2 years ago is fine for APCM; 4 years ago is not."""
    two = apcm_doc(consents=[consent("apcm", at="2026-04-01T10:00:00-05:00")])
    two["visits"][0]["date"] = "2024-04-01"
    assert codes(run(two)) == [("G0557", 1)]
    four = apcm_doc(consents=[consent("apcm", at="2026-04-01T10:00:00-05:00")])
    four["visits"][0]["date"] = "2022-03-01"
    assert "APCM.INITIATING_VISIT.MISSING" in finding_codes(run(four))
    four["policy"] = {"initiating_visit_months_apcm": 60}
    assert codes(run(four)) == [("G0557", 1)]


def test_apcm_enrolled_patient_is_billed_apcm_even_in_a_month_of_many_minutes():
    """R-FAM-1 (c), R-APCM-6: the most recent program consent decides the family; the other is an alternative
    with the reason and its amount. Under `highest_paying` the amounts decide."""
    d = apcm_doc(consents=[consent("ccm"), consent("apcm", at="2026-03-02T10:00:00-06:00")], time_entries=[entry(45)])
    decision = run(d)
    assert codes(decision) == [("G0557", 1)]
    assert "R-APCM-6" in decision["alternatives"][0]["why_not"]
    assert "R-FAM-1" in decision["alternatives"][0]["why_not"]
    assert decision["alternatives"][0]["total"] == "116.57"
    d["policy"] = {"family_choice": "highest_paying"}
    assert codes(run(d)) == [("99490", 1), ("99439", 1)]
    back = apcm_doc(
        consents=[consent("apcm"), consent("ccm", at="2026-03-02T10:00:00-06:00")], time_entries=[entry(45)]
    )
    assert codes(run(back)) == [("99490", 1), ("99439", 1)]


def test_apcm_new_patient_is_one_without_any_professional_service_of_the_group_in_three_years():
    """R-APCM-4, R-INIT-5: any known professional service by the practitioner or the group within 36 months (a
    visit of a colleague, an earlier CCM claim) makes the patient established: no initiating visit is needed."""
    d = apcm_doc(consents=[consent("apcm", at="2026-04-01T10:00:00-05:00")])
    d["visits"] = []
    assert "APCM.INITIATING_VISIT.MISSING" in finding_codes(run(d))
    d["other_services"] = [
        {"code": "99490", "practitioner_id": "npi-colleague", "same_group": True, "date": "2025-02-14"}
    ]
    assert codes(run(d)) == [("G0557", 1)]
    d["other_services"] = []
    d["visits"] = [
        {
            "date": "2024-06-01",
            "kind": "em",
            "code": "99213",
            "practitioner_id": "npi-colleague",
            "care_management_discussed": False,
            "same_group": True,
        }
    ]
    assert codes(run(d)) == [("G0557", 1)]


def test_apcm_refused_when_same_practitioner_bills_tcm_or_bundled_ctbs():
    for code in ("99495", "99421"):
        d = apcm_doc(other_services=[{"code": code, "practitioner_id": BP, "same_group": True, "date": "2026-05-09"}])
        assert run(d)["lines"] == []


def test_apcm_requires_a_care_plan():
    """R-APCM-3: a comprehensive care plan shared with the patient is an element of APCM."""
    assert run(apcm_doc(care_plan=None))["lines"] == []


BHI = [consent("bhi", at="2026-05-02T10:00:00-05:00", elements=BHI_ELEMENTS)]
COCM_WORK = [
    {"date": "2026-05-08", "kind": "cocm_care_manager"},
    {"date": "2026-05-20", "kind": "cocm_psychiatric_review"},
]


def test_2026_bhi_addon_g0570_with_the_apcm_base():
    """R-2026-1: general BHI add-on with the base by the same practitioner in the same month."""
    d = apcm_doc(consents=[consent("apcm"), *BHI], time_entries=[entry(25, program="bhi")])
    decision = run(d)
    assert codes(decision) == [("G0557", 1), ("G0570", 1)]
    assert [x["allowed_amount"] for x in decision["lines"]] == ["53.78", "57.78"]


def test_2026_bhi_addon_has_no_minute_threshold_a_documented_activity_is_the_gate():
    """R-2026-1 (settled): no minute threshold — five minutes, or none with a documented BHI activity, bill
    G0570; no activity at all bills none. A practice may still ask for minutes (policy)."""
    five = apcm_doc(consents=[consent("apcm"), *BHI], time_entries=[entry(5, program="bhi")])
    assert codes(run(five)) == [("G0557", 1), ("G0570", 1)]
    activity = apcm_doc(
        consents=[consent("apcm"), *BHI], behavioral_health_activities=[{"date": "2026-05-11", "kind": "general_bhi"}]
    )
    assert codes(run(activity)) == [("G0557", 1), ("G0570", 1)]
    nothing = apcm_doc(consents=[consent("apcm"), *BHI])
    assert codes(run(nothing)) == [("G0557", 1)]
    five["policy"] = {"apcm_bhi_minimum_minutes": 20}
    assert codes(run(five)) == [("G0557", 1)]


def test_bhi_consent_needs_permission_to_consult_specialists():
    """R-CONS-7: a BHI consent without the specialist-consultation element does not support the add-on."""
    d = apcm_doc(
        consents=[consent("apcm"), consent("bhi", at="2026-05-02T10:00:00-05:00")],
        time_entries=[entry(25, program="bhi")],
    )
    decision = run(d)
    assert codes(decision) == [("G0557", 1)]
    incomplete = next(f for f in decision["findings"] if f["code"] == "BHI.CONSENT.INCOMPLETE")
    assert "specialist consultation" in incomplete["message"] and incomplete["rules"] == ["R-CONS-7"]


def test_2026_cocm_addon_first_month_then_subsequent():
    """R-2026-1: CoCM add-ons rest on documented CoCM work with the psychiatric consultant's review."""
    d = apcm_doc(
        consents=[consent("apcm"), *BHI],
        behavioral_health_activities=COCM_WORK,
        policy={"apcm_behavioral_health_addon": "cocm"},
    )
    assert codes(run(d))[-1] == ("G0568", 1)
    june = apcm_doc(
        month="2026-06",
        consents=[consent("apcm"), *BHI],
        behavioral_health_activities=[{**a, "date": a["date"].replace("-05-", "-06-")} for a in COCM_WORK],
        policy={"apcm_behavioral_health_addon": "cocm"},
    )
    assert codes(run(june))[-1] == ("G0569", 1)
    unreviewed = apcm_doc(
        consents=[consent("apcm"), *BHI],
        behavioral_health_activities=COCM_WORK[:1],
        time_entries=[entry(40, program="bhi")],
        policy={"apcm_behavioral_health_addon": "cocm"},
    )
    decision = run(unreviewed)
    assert codes(decision) == [("G0557", 1)] and "APCM.BH_ADDON.COCM_NOT_DOCUMENTED" in finding_codes(decision)


def test_bhi_addon_never_with_its_mirror_code():
    d = apcm_doc(
        consents=[consent("apcm"), *BHI],
        time_entries=[entry(25, program="bhi")],
        other_services=[{"code": "99484", "practitioner_id": BP, "same_group": True, "date": "2026-05-20"}],
    )
    decision = run(d)
    assert codes(decision) == [("G0557", 1)]
    assert "APCM.BH_ADDON.MIRROR_BILLED" in finding_codes(decision)


def test_no_bhi_addons_in_2025():
    d = apcm_doc(
        month="2025-05",
        consents=[
            consent("apcm", at="2025-01-22T15:40:00-06:00"),
            consent("bhi", at="2025-05-02T10:00:00-05:00", elements=BHI_ELEMENTS),
        ],
        time_entries=[entry(25, "2025-05-06T09:00:00-05:00", program="bhi")],
    )
    d["visits"][0]["date"] = "2025-01-22"
    d["care_plan"]["established_at"] = "2025-01-29T10:00:00-06:00"
    d["care_plan"]["shared_with_patient_at"] = "2025-01-29T10:30:00-06:00"
    decision = run(d)
    assert codes(decision) == [("G0557", 1)]
    assert decision["lines"][0]["allowed_amount"] == "48.84"


def test_apcm_staff_can_be_partner_employed():
    """R-APCM-7: auxiliary personnel under general supervision furnish APCM (no time is required)."""
    d = apcm_doc(time_entries=[entry(5, program="apcm", employer="partner")])
    assert codes(run(d)) == [("G0557", 1)]


def test_apcm_and_the_same_practitioners_pcm_never_go_together():
    """R-APCM-6: PCM by the APCM practitioner in the month refuses APCM (and APCM known as billed refuses PCM)."""
    pcm = apcm_doc(other_services=[{"code": "99426", "practitioner_id": BP, "same_group": True, "date": "2026-05-09"}])
    decision = run(pcm)
    assert decision["lines"] == [] and "R-APCM-6" in finding(decision, "CCM.CONFLICT.PCM_SAME_PRACTITIONER")["rules"]
    other = apcm_doc(
        other_services=[{"code": "99426", "practitioner_id": "npi-cardio", "same_group": False, "date": "2026-05-09"}]
    )
    assert codes(run(other)) == [("G0557", 1)]  # a different practitioner's PCM is allowed
