"""Same-month exclusions and duplicate protection (cms-rules.md §2, OIG findings §8.1)."""

import pytest
from tests.rules.builders import BP, codes, doc, entry, finding, finding_codes, run

TWENTY = [entry(25, "2026-05-06T09:00:00-05:00")]


def other(code: str, practitioner: str = BP, same_group: bool = True) -> dict:
    return {"code": code, "practitioner_id": practitioner, "same_group": same_group, "date": "2026-05-15"}


def test_another_practitioner_billing_ccm_holds_the_month():
    decision = run(doc(time_entries=TWENTY, other_services=[other("99490", "npi-cardiology", False)]))
    assert decision["status"] == "hold"
    assert codes(decision) == [("99490", 1)]
    assert finding(decision, "CCM.DUPLICATE.OTHER_PRACTITIONER")["severity"] == "hold"


def test_same_practitioner_already_billed_ccm_holds_the_month():
    """R-CLM-EDIT-1: 99490 once per month; a second claim would duplicate it."""
    decision = run(doc(time_entries=TWENTY, other_services=[other("99490")]))
    assert decision["status"] == "hold"
    assert set(finding(decision, "CCM.DUPLICATE.SAME_PRACTITIONER")["rules"]) == {"R-CCM-7", "R-CLM-EDIT-1"}


@pytest.mark.parametrize(
    ("code", "practitioner", "billable", "finding_code"),
    [
        ("99426", BP, False, "CCM.CONFLICT.PCM_SAME_PRACTITIONER"),
        ("99426", "npi-specialist", True, "CCM.CONCURRENT.PCM_OTHER_PRACTITIONER"),
        ("99495", BP, True, "CCM.CONCURRENT.TCM"),
        ("99457", BP, True, "CCM.CONCURRENT.RPM"),
        ("99470", BP, True, "CCM.CONCURRENT.RPM"),  # R-2026-5: new 2026 RPM code recognised
        ("G0181", BP, False, "CCM.CONFLICT.CARE_PLAN_OVERSIGHT"),
        ("G0181", "npi-home-health", True, "CCM.CONCURRENT.CARE_PLAN_OVERSIGHT"),
        ("90960", BP, False, "CCM.CONFLICT.ESRD"),
        ("90960", "npi-nephrology", True, "CCM.CONCURRENT.ESRD_OTHER_PRACTITIONER"),
        ("G0557", BP, False, "APCM.DUPLICATE.SAME_PRACTITIONER"),
        ("99484", BP, True, "CCM.CONCURRENT.BHI"),
    ],
)
def test_other_services_in_the_month(code, practitioner, billable, finding_code):
    decision = run(doc(time_entries=TWENTY, other_services=[other(code, practitioner)]))
    assert bool(decision["lines"]) is billable
    assert finding_code in finding_codes(decision)


def test_policies_can_allow_same_practitioner_cpo_and_esrd():
    policy = {"block_same_practitioner_care_plan_oversight": False, "block_same_practitioner_esrd": False}
    decision = run(doc(time_entries=TWENTY, other_services=[other("G0182"), other("90966")], policy=policy))
    assert codes(decision) == [("99490", 1)]


def test_other_practitioner_apcm_holds_ccm_for_review():
    decision = run(doc(time_entries=TWENTY, other_services=[other("G0557", "npi-pcp")]))
    assert decision["status"] == "hold"
    assert "CCM.CONFLICT.APCM_OTHER_PRACTITIONER" in finding_codes(decision)
    off = run(
        doc(
            time_entries=TWENTY,
            other_services=[other("G0557", "npi-pcp")],
            policy={"hold_ccm_in_other_practitioner_apcm_month": False},
        )
    )
    assert off["status"] == "ready"


def test_tcm_minutes_are_not_counted_twice():
    """R-TIME-5: the TCM follow-up call's minutes already count for TCM."""
    d = doc(
        other_services=[other("99495")],
        time_entries=[entry(15, counted_for="99495", id="tcm-call"), entry(15, "2026-05-20T09:00:00-05:00")],
    )
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 15
    assert decision["lines"] == []
