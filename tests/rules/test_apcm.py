"""APCM G0556–G0558 and the 2026 behavioral-health add-ons."""

import pytest
from tests.rules.builders import BP, codes, consent, doc, entry, finding_codes, run

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
    """R-CONS-6: a CCM consent does not cover APCM unless the policy says so."""
    d = apcm_doc(consents=[consent("ccm"), {**consent("apcm"), "practitioner_id": "npi-other"}])
    assert "G0557" not in [x["code"] for x in run(d)["lines"]]
    d["policy"] = {"ccm_consent_covers_apcm": True}
    assert [x["code"] for x in run(d)["lines"]] == ["G0557"]


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


def test_apcm_excludes_ccm_by_the_same_practitioner_and_shows_why():
    """R-APCM-6: the higher of the two is billed; the other is an alternative with the reason."""
    d = apcm_doc(consents=[consent("apcm"), consent("ccm")], time_entries=[entry(45)])
    decision = run(d)
    assert codes(decision) == [("99490", 1), ("99439", 1)]
    assert "R-APCM-6" in decision["alternatives"][0]["why_not"]


def test_apcm_refused_when_same_practitioner_bills_tcm_or_bundled_ctbs():
    for code in ("99495", "99421"):
        d = apcm_doc(other_services=[{"code": code, "practitioner_id": BP, "same_group": True, "date": "2026-05-09"}])
        assert run(d)["lines"] == []


def test_apcm_requires_a_care_plan():
    """R-APCM-3: a comprehensive care plan shared with the patient is an element of APCM."""
    assert run(apcm_doc(care_plan=None))["lines"] == []


BHI = [consent("bhi", at="2026-05-02T10:00:00-05:00")]


def test_2026_bhi_addon_g0570_with_the_apcm_base():
    """R-2026-1: general BHI add-on with the base by the same practitioner in the same month."""
    d = apcm_doc(consents=[consent("apcm"), *BHI], time_entries=[entry(25, program="bhi")])
    decision = run(d)
    assert codes(decision) == [("G0557", 1), ("G0570", 1)]
    assert [x["allowed_amount"] for x in decision["lines"]] == ["53.78", "57.78"]


def test_2026_cocm_addon_first_month_then_subsequent():
    d = apcm_doc(
        consents=[consent("apcm"), *BHI],
        time_entries=[entry(25, program="bhi")],
        policy={"apcm_behavioral_health_addon": "cocm"},
    )
    assert codes(run(d))[-1] == ("G0568", 1)
    june = apcm_doc(
        month="2026-06",
        consents=[consent("apcm"), *BHI],
        time_entries=[entry(25, "2026-06-03T09:00:00-05:00", program="bhi")],
        policy={"apcm_behavioral_health_addon": "cocm"},
    )
    assert codes(run(june))[-1] == ("G0569", 1)


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
            consent("bhi", at="2025-05-02T10:00:00-05:00"),
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
