"""RHC/FQHC: individual codes from 2025, G0511 only through the transition (R-RHC-1..4, R-SUP-5)."""

from tests.rules.builders import BHI_ELEMENTS, codes, consent, doc, entry, finding_codes, run

RHC = {"timezone": "America/Chicago", "setting": "rhc"}


def rhc_2025(month: str, **changes) -> dict:
    d = doc(
        month=month,
        practice=RHC,
        consents=[consent(at="2025-01-22T15:40:00-06:00")],
        time_entries=[entry(25, f"{month}-06T09:00:00-05:00")],
        **changes,
    )
    d["visits"][0]["date"] = "2025-01-22"
    d["care_plan"]["established_at"] = "2025-01-29T10:00:00-06:00"
    d["care_plan"]["shared_with_patient_at"] = "2025-01-29T10:30:00-06:00"
    return d


def test_rhc_2025_bills_individual_codes_with_g0511_as_transition_alternative():
    decision = run(rhc_2025("2025-05"))
    assert codes(decision) == [("99490", 1)]
    assert decision["lines"][0]["allowed_amount"] == "60.49"  # R-RHC-4: national non-facility rate
    g0511 = decision["alternatives"][0]
    assert g0511["lines"][0]["code"] == "G0511" and g0511["total"] == "54.67"
    assert "R-RHC-1" in g0511["why_not"]
    assert "RHC.INSTITUTIONAL_CLAIM" in finding_codes(decision)  # R-CLM-FORM-2, R-SUP-5 general supervision


def test_g0511_ends_after_the_transition_date_policy():
    october = run(rhc_2025("2025-10"))
    assert october["alternatives"] == []
    assert "RHC.G0511.ENDED" in finding_codes(october)
    july = run(rhc_2025("2025-07", policy={"g0511_last_payable_date": "2025-06-30"}))
    assert "RHC.G0511.ENDED" in finding_codes(july)


def test_rhc_2026_has_no_g0511_and_can_bill_apcm_bh_addons():
    """R-RHC-2, R-RHC-3."""
    d = doc(
        practice=RHC,
        consents=[consent("apcm"), consent("bhi", at="2026-05-02T10:00:00-05:00", elements=BHI_ELEMENTS)],
        time_entries=[entry(25, program="bhi")],
    )
    decision = run(d)
    assert codes(decision) == [("G0557", 1), ("G0570", 1)]
    assert all(a["lines"][0]["code"] != "G0511" for a in decision["alternatives"])
