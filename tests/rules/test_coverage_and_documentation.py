"""Covered and alive (R-COV-1, R-COV-2), every billed minute documented (R-DOC-1, R-TIME-8), and the new
patient's first visit (R-INIT-6) — each gate applies where the document states its facts (the close always does)."""

import pytest
from tests.rules.builders import codes, doc, entry, excluded, finding, finding_codes, run

PART_B = [{"kind": "part_b_ffs", "start": "2016-03-01"}]


def covered(*periods, **changes) -> dict:
    d = doc(time_entries=[entry(45)], **changes)
    d["patient"]["coverage"] = list(periods)
    return d


def test_a_document_that_states_no_coverage_is_decided_as_before():
    assert codes(run(doc(time_entries=[entry(45)]))) == [("99490", 1), ("99439", 1)]


def test_part_b_fee_for_service_for_the_whole_month_bills():
    """R-COV-1."""
    decision = run(covered(*PART_B))
    assert decision["status"] == "ready" and codes(decision) == [("99490", 1), ("99439", 1)]


def test_medicare_advantage_is_not_billed_to_the_mac():
    """R-COV-1: an MA enrollee's claims go to the plan (CARC 24 at the MAC)."""
    decision = run(covered({"kind": "medicare_advantage", "start": "2026-01-01"}))
    assert decision["lines"] == [] and decision["status"] == "nothing_billable"
    assert "bill the plan" in finding(decision, "COVERAGE.MEDICARE_ADVANTAGE")["message"].lower()
    assert finding(decision, "COVERAGE.MEDICARE_ADVANTAGE")["rules"] == ["R-COV-1"]


@pytest.mark.parametrize("kind", ["part_d", "part_a_only", "medicaid", "commercial"])
def test_no_part_b_means_nothing_billable_to_medicare(kind):
    """R-COV-1: Part D, Part A only and non-Medicare coverage never make a patient billable to Medicare."""
    decision = run(covered({"kind": kind}))
    assert decision["lines"] == [] and "COVERAGE.NO_PART_B" in finding_codes(decision)


@pytest.mark.parametrize(
    "periods",
    [
        [],  # nothing on file
        [{"kind": "unknown"}],
        [{"kind": "part_b_ffs", "start": "2026-05-10"}],  # began mid-month
        [{"kind": "part_b_ffs", "end": "2026-05-20"}],  # ended mid-month
    ],
)
def test_unknown_or_partial_coverage_holds_under_a_policy(periods):
    """R-COV-1: unknown or partial coverage holds (default); `assume_covered` bills with a warning."""
    d = covered(*periods)
    decision = run(d)
    assert decision["status"] == "hold" and finding(decision, "COVERAGE.UNKNOWN")["severity"] == "hold"
    d["policy"] = {"unknown_coverage": "assume_covered"}
    decision = run(d)
    assert decision["status"] == "ready" and finding(decision, "COVERAGE.UNKNOWN")["severity"] == "warning"


def test_medicare_secondary_holds():
    decision = run(covered({"kind": "part_b_ffs", "medicare_secondary": True}))
    assert decision["status"] == "hold" and "COVERAGE.MEDICARE_SECONDARY" in finding_codes(decision)


def test_coverage_that_ended_before_the_month_is_no_coverage():
    decision = run(covered({"kind": "part_b_ffs", "end": "2026-04-30"}, {"kind": "commercial", "start": "2026-05-01"}))
    assert decision["lines"] == [] and "COVERAGE.NO_PART_B" in finding_codes(decision)


def test_no_minute_and_no_date_of_service_after_death():
    """R-COV-2, R-CLM-DOS-2: died on the 5th; minutes on the 14th are excluded, the month bills what was reached
    before, dated on or before the 5th — never the 14th."""
    d = doc(
        time_entries=[entry(25, "2026-05-04T09:00:00-05:00"), entry(30, "2026-05-14T09:00:00-05:00")],
        patient__deceased_on="2026-05-05",
    )
    d["patient"]["coverage"] = PART_B
    decision = run(d)
    assert codes(decision) == [("99490", 1)]
    assert all(line["date_of_service"] <= "2026-05-05" for line in decision["lines"])
    assert excluded(decision)["AFTER_DEATH"] == 30
    assert "PATIENT.DIED_THIS_MONTH" in finding_codes(decision)


def test_last_day_of_month_policy_never_dates_after_death():
    d = doc(time_entries=[entry(25, "2026-05-04T09:00:00-05:00")], patient__deceased_on="2026-05-05")
    d["policy"] = {"date_of_service": "last_day_of_month"}
    assert [line["date_of_service"] for line in run(d)["lines"]] == ["2026-05-05"]


def test_a_month_after_death_bills_nothing():
    decision = run(doc(time_entries=[entry(45)], patient__deceased_on="2026-04-20"))
    assert decision["lines"] == [] and finding(decision, "PATIENT.DECEASED")["rules"] == ["R-COV-2"]


def test_apcm_in_the_month_of_death_holds():
    """R-COV-2: APCM (no time) in the month of death is held for review, dated no later than the death."""
    d = doc(patient__deceased_on="2026-05-12")
    d["consents"][0]["program"] = "apcm"
    decision = run(d)
    assert codes(decision)[0][0] in ("G0557", "G0556")
    assert decision["status"] == "hold" and "APCM.DIED_THIS_MONTH" in finding_codes(decision)
    assert decision["lines"][0]["date_of_service"] == "2026-05-12"


def signed(note_id: str = "n-1", author: str = "rn-1") -> dict:
    return {"id": note_id, "signed_at": "2026-05-06T10:00:00-05:00", "author": author}


def test_counted_minutes_without_a_signed_note_hold_the_month_naming_the_entries():
    """R-DOC-1, R-TIME-8: the close states each entry's note; minutes with no note, or a draft, hold."""
    d = doc(
        time_entries=[
            {**entry(25, id="te-signed"), "note": signed()},
            {**entry(15, "2026-05-07T09:00:00-05:00", id="te-draft"), "note": {"id": "n-2", "author": "rn-1"}},
            {**entry(10, "2026-05-08T09:00:00-05:00", id="te-none"), "note": None},
        ]
    )
    decision = run(d)
    assert codes(decision) == [("99490", 1), ("99439", 1)]  # the bill is computed, and held
    assert decision["status"] == "hold"
    held = finding(decision, "DOC.UNSIGNED_TIME")
    assert held["rules"] == ["R-DOC-1", "R-TIME-8"]
    assert "te-draft: documented only by an unsigned note (n-2, by rn-1)" in held["message"]
    assert "te-none: no note" in held["message"]
    assert "te-signed" not in held["message"]
    assert decision["undocumented_time"] == [
        {"entry_id": "te-draft", "minutes": 15, "why": "documented only by an unsigned note (n-2, by rn-1)"},
        {"entry_id": "te-none", "minutes": 10, "why": "no note documents it"},
    ]


def test_signed_notes_bill_and_unstated_documentation_is_decided_as_before():
    all_signed = doc(time_entries=[{**entry(45), "note": signed()}])
    assert run(all_signed)["status"] == "ready"
    unstated = doc(time_entries=[entry(45)])
    assert "DOC.UNSIGNED_TIME" not in finding_codes(run(unstated))


def test_the_documentation_hold_is_a_named_policy():
    d = doc(time_entries=[{**entry(45), "note": None}], policy={"require_signed_notes": False})
    decision = run(d)
    assert decision["status"] == "ready"
    assert decision["undocumented_time"] == [
        {"entry_id": d["time_entries"][0]["id"], "minutes": 45, "why": "no note documents it"}
    ]


def new_patient_visit(discussed: bool) -> dict:
    return {
        "date": "2026-03-02",
        "kind": "em",
        "code": "99204",
        "practitioner_id": "npi-1003000001",
        "care_management_discussed": discussed,
    }


def test_a_new_patients_first_visit_that_did_not_discuss_ccm_does_not_initiate_it():
    """R-INIT-6: conservative reading (default): the new-patient visit of March did not discuss CCM, so it does
    not make the patient "seen"; the literal reading (policy) lets any visit within 12 months do."""
    d = doc(time_entries=[entry(45)], visits=[new_patient_visit(False)])
    d["consents"][0]["documented_at"] = "2026-04-02T10:00:00-05:00"
    decision = run(d)
    assert decision["lines"] == []
    missing = finding(decision, "CCM.INITIATING_VISIT.MISSING")
    assert "R-INIT-6" in missing["rules"] and "new patient" in missing["message"]
    d["policy"] = {"initiating_visit_reading": "literal"}
    assert codes(run(d)) == [("99490", 1), ("99439", 1)]
    discussed = doc(time_entries=[entry(45)], visits=[new_patient_visit(True)])
    discussed["consents"][0]["documented_at"] = "2026-04-02T10:00:00-05:00"
    assert codes(run(discussed)) == [("99490", 1), ("99439", 1)]
