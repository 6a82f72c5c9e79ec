"""Preconditions: eligibility, consent, initiating visit, care plan."""

import pytest
from tests.rules.builders import BP, codes, consent, doc, entry, finding, finding_codes, run

TWENTY = [entry(25, "2026-05-06T09:00:00-05:00")]


def test_one_chronic_condition_is_not_enough_for_ccm():
    d = doc(time_entries=TWENTY)
    d["patient"]["conditions"] = [
        {"code": "I50.32", "system": "icd10cm"},
        {"code": "I50.9", "system": "icd10cm"},
    ]
    decision = run(d)
    assert decision["lines"] == []
    f = finding(decision, "CCM.ELIGIBILITY.CONDITIONS")
    assert f["rules"] == ["R-ELIG-1"]
    assert "found 1 (Heart failure" in f["message"]  # two heart-failure codes are one condition


def test_abated_and_future_conditions_do_not_count():
    d = doc(time_entries=TWENTY)
    d["patient"]["conditions"] = [
        {"code": "I50.32", "system": "icd10cm"},
        {"code": "J44.9", "system": "icd10cm", "abated": "2026-02-01"},
        {"code": "E11.9", "system": "icd10cm", "onset": "2026-06-15"},
    ]
    assert "CCM.ELIGIBILITY.CONDITIONS" in finding_codes(run(d))


def test_no_consent_no_line_and_minutes_excluded():
    decision = run(doc(consents=[], time_entries=TWENTY))
    assert decision["lines"] == []
    assert "CCM.CONSENT.MISSING" in finding_codes(decision)
    assert decision["excluded_time"][0]["reason"] == "BEFORE_CONSENT"


def test_consent_missing_an_element_is_refused_and_named():
    """R-CONS-2: cost sharing, one practitioner per month and the right to stop must all be explained."""
    decision = run(doc(consents=[consent(elements=["cost_sharing", "right_to_stop"])], time_entries=TWENTY))
    f = finding(decision, "CCM.CONSENT.INCOMPLETE")
    assert "one practitioner per month" in f["message"]
    assert decision["lines"] == []


def test_consent_with_another_practitioner_needs_reconsent():
    """R-CONS-3: a new billing practitioner obtains a new consent."""
    decision = run(doc(consents=[consent(practitioner_id="npi-other")], time_entries=TWENTY))
    assert "CCM.CONSENT.OTHER_PRACTITIONER" in finding_codes(decision)
    assert decision["lines"] == []


def test_revocation_takes_effect_at_month_end():
    """R-CONS-2: stopped on 10 May: May is billable, June is not."""
    c = consent(revoked_at="2026-05-10T09:00:00-05:00")
    may = run(doc(consents=[c], time_entries=[entry(25, "2026-05-20T09:00:00-05:00")]))
    assert codes(may) == [("99490", 1)]
    assert "CCM.CONSENT.REVOKED_THIS_MONTH" in finding_codes(may)
    june = run(doc(month="2026-06", consents=[c], time_entries=[entry(25, "2026-06-03T09:00:00-05:00")]))
    assert june["lines"] == []
    assert "CCM.CONSENT.REVOKED" in finding_codes(june)


def test_reconsent_after_revocation_counts_from_the_new_consent():
    consents = [consent(revoked_at="2026-03-10T09:00:00-05:00"), consent(at="2026-05-12T09:00:00-05:00")]
    d = doc(
        consents=consents,
        time_entries=[entry(25, "2026-05-05T09:00:00-05:00"), entry(25, "2026-05-13T09:00:00-05:00")],
    )
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 25
    assert codes(decision) == [("99490", 1)]


def test_consent_need_not_be_on_the_initiating_visit_date():
    """R-INIT-4: consent obtained weeks after the visit is fine."""
    decision = run(doc(consents=[consent(at="2026-03-02T10:00:00-06:00")], time_entries=TWENTY))
    assert codes(decision) == [("99490", 1)]


def test_initiating_visit_required_for_a_patient_not_seen_within_a_year():
    """R-INIT-1: last seen in 2024 → an initiating visit is required; R-INIT-3 it must discuss CCM."""
    visits = [
        {
            "date": "2024-11-02",
            "kind": "em",
            "code": "99213",
            "practitioner_id": BP,
            "care_management_discussed": True,
        }
    ]
    decision = run(doc(visits=visits, consents=[consent(at="2026-04-01T10:00:00-05:00")], time_entries=TWENTY))
    assert decision["lines"] == []
    f = finding(decision, "CCM.INITIATING_VISIT.MISSING")
    assert {"R-INIT-1", "R-INIT-2", "R-INIT-3"} <= set(f["rules"])


def test_initiating_visit_in_month_gates_earlier_minutes():
    visits = [
        {
            "date": "2026-05-12",
            "kind": "awv",
            "code": "G0439",
            "practitioner_id": BP,
            "care_management_discussed": True,
        }
    ]
    d = doc(
        visits=visits,
        consents=[consent(at="2026-05-01T08:00:00-05:00")],
        time_entries=[entry(25, "2026-05-05T09:00:00-05:00"), entry(22, "2026-05-13T09:00:00-05:00")],
    )
    decision = run(d)
    assert {e["reason"] for e in decision["excluded_time"]} == {"BEFORE_INITIATING_VISIT"}
    assert decision["counted_minutes"]["clinical_staff"] == 22
    assert "CCM.G0506.AVAILABLE" in finding_codes(decision)  # R-G0506-1


@pytest.mark.parametrize(
    ("visit", "billable"),
    [
        ({"kind": "em", "code": "99211", "care_management_discussed": True}, False),  # R-INIT-2
        ({"kind": "em", "code": "99213", "care_management_discussed": False}, False),  # R-INIT-3
        ({"kind": "tcm", "code": "99495", "care_management_discussed": True}, True),
        ({"kind": "ippe", "code": "G0402", "care_management_discussed": True}, True),
    ],
)
def test_which_visits_initiate(visit, billable):
    visits = [{"date": "2026-05-02", "practitioner_id": BP, **visit}]
    decision = run(doc(visits=visits, consents=[consent(at="2026-05-02T16:00:00-05:00")], time_entries=TWENTY))
    assert bool(decision["lines"]) is billable


def test_visit_by_another_practitioner_does_not_initiate():
    visits = [
        {
            "date": "2026-05-02",
            "kind": "em",
            "code": "99214",
            "practitioner_id": "npi-other",
            "care_management_discussed": True,
        }
    ]
    decision = run(doc(visits=visits, consents=[consent(at="2026-05-02T16:00:00-05:00")], time_entries=TWENTY))
    assert "CCM.INITIATING_VISIT.MISSING" in finding_codes(decision)


def test_no_care_plan_no_bill():
    decision = run(doc(care_plan=None, time_entries=TWENTY))
    assert decision["lines"] == []
    assert finding(decision, "CCM.CARE_PLAN.MISSING")["rules"] == ["R-PLAN-1", "R-PLAN-2"]


def test_care_plan_established_next_month_is_missing_this_month():
    plan = {"kind": "comprehensive", "established_at": "2026-06-02T10:00:00-05:00", "revisions": []}
    assert "CCM.CARE_PLAN.MISSING" in finding_codes(run(doc(care_plan=plan, time_entries=TWENTY)))


def test_unshared_care_plan_holds_the_month():
    """R-PLAN-3: lines exist, but a person must record that the plan was given to the patient."""
    plan = {"kind": "comprehensive", "established_at": "2026-01-29T10:00:00-06:00", "revisions": []}
    decision = run(doc(care_plan=plan, time_entries=TWENTY))
    assert decision["status"] == "hold"
    assert codes(decision) == [("99490", 1)]
    assert finding(decision, "CCM.CARE_PLAN.NOT_SHARED")["severity"] == "hold"


def test_disease_specific_plan_does_not_support_ccm():
    plan = {
        "kind": "disease_specific",
        "established_at": "2026-01-29T10:00:00-06:00",
        "shared_with_patient_at": "2026-01-29T10:30:00-06:00",
        "revisions": [],
    }
    assert "CCM.CARE_PLAN.WRONG_KIND" in finding_codes(run(doc(care_plan=plan, time_entries=TWENTY)))


def test_all_failures_are_reported_not_just_the_first():
    d = doc(consents=[], care_plan=None, time_entries=TWENTY)
    d["patient"]["conditions"] = []
    assert {"CCM.ELIGIBILITY.CONDITIONS", "CCM.CONSENT.MISSING", "CCM.CARE_PLAN.MISSING"} <= finding_codes(run(d))


def test_g0506_on_another_date_than_the_initiating_visit_is_flagged():
    """R-G0506-1: G0506 is billed once, with the initiating visit, on its date of service."""
    visits = [
        {"date": "2026-05-12", "kind": "em", "code": "99214", "practitioner_id": BP, "care_management_discussed": True}
    ]
    other = [{"code": "G0506", "practitioner_id": BP, "same_group": True, "date": "2026-05-20"}]
    d = doc(
        visits=visits,
        consents=[consent(at="2026-05-12T16:00:00-05:00")],
        other_services=other,
        time_entries=[entry(25, "2026-05-14T09:00:00-05:00")],
    )
    decision = run(d)
    assert "CCM.G0506.NOT_WITH_INITIATING_VISIT" in finding_codes(decision)
    assert "CCM.G0506.AVAILABLE" not in finding_codes(decision)
