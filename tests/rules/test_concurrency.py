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


@pytest.mark.parametrize(
    ("since", "said"),
    [
        ("2026-03-02", "since 2026-03-02"),
        ("2026-05-31", "since 2026-05-31"),  # the month's last day
        ("2026-06-01", "recorded 2026-06-01, after this month; when it began is not known"),
    ],
)
def test_ccm_recorded_as_furnished_by_another_practice_holds_the_month(since, said):
    """R-CONS-2: one CCM payee a month. The enrollment's "enrolled elsewhere" is a fact about the patient; the day
    it was recorded is not the day the other practice began, so an earlier month is held too."""
    document = doc(time_entries=TWENTY)
    document["patient"]["ccm_elsewhere_since"] = since
    decision = run(document)
    assert codes(decision) == [("99490", 1)]  # nothing refused: the biller decides who bills
    assert decision["status"] == "hold"
    held = finding(decision, "CCM.ENROLLED_ELSEWHERE")
    assert held["severity"] == "hold" and held["rules"] == ["R-CONS-2"] and said in held["message"]
    assert "CCM.ENROLLED_ELSEWHERE" not in finding_codes(run(doc(time_entries=TWENTY)))


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


def test_another_practitioners_apcm_does_not_hold_ccm_unless_the_practice_opts_in():
    """R-APCM-6 (settled, 89 FR 97896–97): a different practitioner may bill CCM, PCM or TCM in a month in which
    another bills APCM. The review hold is an opt-in policy now."""
    decision = run(doc(time_entries=TWENTY, other_services=[other("G0557", "npi-pcp")]))
    assert decision["status"] == "ready"
    assert "CCM.CONFLICT.APCM_OTHER_PRACTITIONER" not in finding_codes(decision)
    held = run(
        doc(
            time_entries=TWENTY,
            other_services=[other("G0557", "npi-pcp")],
            policy={"hold_ccm_in_other_practitioner_apcm_month": True},
        )
    )
    assert held["status"] == "hold"
    assert "CCM.CONFLICT.APCM_OTHER_PRACTITIONER" in finding_codes(held)


def test_tcm_minutes_are_not_counted_twice():
    """R-TIME-5: the TCM follow-up call's minutes already count for TCM."""
    d = doc(
        other_services=[other("99495")],
        time_entries=[entry(15, counted_for="99495", id="tcm-call"), entry(15, "2026-05-20T09:00:00-05:00")],
    )
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 15
    assert decision["lines"] == []


@pytest.mark.parametrize("code", ["99484", "99492", "G2214"])
def test_ccm_with_bhi_or_cocm_by_the_same_practitioner_is_allowed(code):
    """R-BHI-1, R-BHI-2: BHI (99484) and CoCM (99492–99494, G2214) are known services; CCM in the same month by
    the same practitioner is allowed with consent to both and separate minutes, not a conflict."""
    decision = run(doc(time_entries=TWENTY, other_services=[other(code)]))
    assert decision["status"] == "ready" and codes(decision) == [("99490", 1)]
    assert "R-BHI-2" in finding(decision, "CCM.CONCURRENT.BHI")["rules"]


def test_g2214_blocks_the_cocm_add_ons_like_their_mirror_codes():
    """R-BHI-2, R-2026-1: the APCM CoCM add-ons are never billed with G2214 (or 99492/99493) in the month; R-BHI-3:
    RHC/FQHC report G2214 like everyone else from 2026, so the same rule holds in an RHC setting."""
    from tests.rules.builders import BHI_ELEMENTS, consent

    for practice in (
        {"timezone": "America/Chicago", "setting": "office"},
        {"timezone": "America/Chicago", "setting": "rhc"},
    ):
        d = doc(
            practice=practice,
            consents=[consent("apcm"), consent("bhi", at="2026-05-02T10:00:00-05:00", elements=BHI_ELEMENTS)],
            behavioral_health_activities=[
                {"date": "2026-05-08", "kind": "cocm_registry"},
                {"date": "2026-05-20", "kind": "cocm_psychiatric_review"},
            ],
            other_services=[other("G2214")],
            policy={"apcm_behavioral_health_addon": "cocm"},
        )
        decision = run(d)
        assert [c for c, _ in codes(decision)] == ["G0557"]
        assert "APCM.BH_ADDON.MIRROR_BILLED" in finding_codes(decision)


@pytest.mark.parametrize("code", ["98984", "98985", "98986", "98979"])
def test_2026_rtm_codes_are_known_concurrent_services(code):
    """R-2026-5: the 2026 RTM codes are known services, allowed with CCM when no minute counts twice."""
    decision = run(doc(time_entries=TWENTY, other_services=[other(code)]))
    assert decision["status"] == "ready" and "CCM.CONCURRENT.RPM" in finding_codes(decision)


def test_dmht_minutes_are_never_ccm_minutes():
    """R-2026-7: DMHT (G0552–G0554) may coexist with CCM, but its management minutes do not count for CCM."""
    d = doc(
        other_services=[other("G0553")],
        time_entries=[entry(25, counted_for="G0553", id="dmht"), entry(15, "2026-05-20T09:00:00-05:00")],
    )
    decision = run(d)
    assert decision["lines"] == []  # 15 CCM minutes: the DMHT 25 are not CCM's
    assert "CCM.CONCURRENT.DMHT" in finding_codes(decision)


def test_g0136_is_no_longer_an_sdoh_assessment():
    """R-2026-6: G0136 is a known code (physical activity and nutrition assessment), not care management."""
    decision = run(doc(time_entries=TWENTY, other_services=[other("G0136")]))
    assert decision["status"] == "ready" and "nutrition" in finding(decision, "CCM.CONCURRENT.G0136")["message"]
