"""Which minutes count (R-TIME-1..10, R-SUP-1..3)."""

import pytest
from tests.rules.builders import codes, consent, doc, entry, excluded, run


def test_practice_local_month_boundary_2350_on_the_last_day():
    """R-TIME-10: 23:50 on 31 May in Chicago is 04:50 on 1 June UTC, and still May."""
    d = doc(time_entries=[entry(10, "2026-05-31T23:50:00-05:00"), entry(10, "2026-05-01T00:00:00-05:00")])
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 20
    assert codes(decision) == [("99490", 1)]


def test_entry_running_past_midnight_counts_only_this_months_part():
    """R-TIME-1: no carry-over; the part after local midnight belongs to June."""
    d = doc(time_entries=[entry(30, "2026-05-31T23:50:00-05:00", id="late")])
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 10
    assert {
        "entry_id": "late",
        "minutes": 20,
        "reason": "OTHER_MONTH",
        "rules": ["R-TIME-1", "R-TIME-10"],
    } in decision["excluded_time"]


def test_utc_instant_in_next_local_month_is_excluded():
    # 2026-06-01T03:00Z is 22:00 on 31 May in Chicago (counts), but 2026-06-01T05:30Z is 00:30 on 1 June (does not)
    d = doc(time_entries=[entry(20, "2026-06-01T03:00:00+00:00"), entry(20, "2026-06-01T05:30:00+00:00")])
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 20
    assert excluded(decision)["OTHER_MONTH"] == 20


def test_dst_change_day_counts_real_minutes():
    """On 8 March 2026 Chicago springs forward at 02:00: 01:50 CST + 20 real minutes ends at 03:10 CDT."""
    d = doc(month="2026-03", time_entries=[entry(20, "2026-03-08T01:50:00-06:00")])
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 20
    assert decision["lines"][0]["date_of_service"] == "2026-03-08"


def test_november_fall_back_month_window_is_31_days_of_local_time():
    d = doc(
        month="2026-11",
        time_entries=[entry(20, "2026-11-30T23:40:00-06:00"), entry(5, "2026-11-01T00:10:00-05:00")],
    )
    assert run(d)["counted_minutes"]["clinical_staff"] == 25


def test_consent_mid_month_excludes_earlier_minutes():
    """R-TIME-7, R-CONS-1: minutes before the consent timestamp do not count, even the same day."""
    d = doc(
        consents=[consent(at="2026-05-10T12:00:00-05:00")],
        time_entries=[
            entry(15, "2026-05-04T09:00:00-05:00", id="before"),
            entry(30, "2026-05-10T11:50:00-05:00", id="straddles"),
            entry(15, "2026-05-20T09:00:00-05:00", id="after"),
        ],
    )
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 35
    assert excluded(decision) == {"BEFORE_CONSENT": 25}
    assert codes(decision) == [("99490", 1)]


@pytest.mark.parametrize(
    ("changes", "reason", "rules"),
    [
        ({"role": "non_clinical"}, "NON_CLINICAL", ["R-TIME-3"]),
        ({"us": False}, "OUTSIDE_US", ["R-SUP-3"]),
        ({"counted_for": "99457"}, "COUNTED_ELSEWHERE", ["R-TIME-5"]),
        ({"program": "rpm"}, "OTHER_PROGRAM", ["R-TIME-5"]),
    ],
)
def test_whole_entry_exclusions(changes, reason, rules):
    decision = run(doc(time_entries=[entry(25, **changes, id="x")]))
    assert decision["excluded_time"] == [{"entry_id": "x", "minutes": 25, "reason": reason, "rules": rules}]
    assert decision["status"] == "nothing_billable"


def test_partner_staff_minutes_count_like_practice_minutes():
    """R-SUP-1, R-SUP-2, R-PCM-3: contracted clinical staff under general supervision count."""
    d = doc(time_entries=[entry(12, employer="partner", staff="p-1"), entry(8, "2026-05-07T09:00:00-05:00")])
    assert codes(run(d)) == [("99490", 1)]


def test_overlapping_staff_minutes_count_once():
    """R-TIME-9: two staff on the same call at the same time: the minutes count once."""
    d = doc(
        time_entries=[
            entry(20, "2026-05-06T09:00:00-05:00", staff="rn-1", id="a"),
            entry(20, "2026-05-06T09:10:00-05:00", staff="rn-2", id="b"),
        ]
    )
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 30
    assert decision["excluded_time"] == [
        {"entry_id": "b", "minutes": 10, "reason": "OVERLAP", "rules": ["R-TIME-9", "R-TIME-5"]}
    ]


def test_overlap_policy_off_still_counts_one_staff_member_once():
    d = doc(
        policy={"simultaneous_staff_count_once": False},
        time_entries=[
            entry(20, "2026-05-06T09:00:00-05:00", staff="rn-1"),
            entry(20, "2026-05-06T09:10:00-05:00", staff="rn-2"),
            entry(20, "2026-05-06T09:05:00-05:00", staff="rn-1"),
        ],
    )
    assert run(d)["counted_minutes"]["clinical_staff"] == 20 + 20 + 5


def test_facility_stay_days_are_excluded():
    """R-TIME-6: days of an inpatient stay do not count; days outside it do."""
    d = doc(
        time_entries=[
            entry(15, "2026-05-11T10:00:00-05:00"),
            entry(15, "2026-05-14T10:00:00-05:00"),
            entry(15, "2026-05-20T10:00:00-05:00"),
        ]
    )
    d["patient"]["facility_stays"] = [{"kind": "inpatient", "start": "2026-05-10", "end": "2026-05-14"}]
    decision = run(d)
    assert excluded(decision) == {"FACILITY_STAY": 30}
    assert decision["counted_minutes"]["clinical_staff"] == 15
    assert decision["status"] == "nothing_billable"


def test_facility_stay_partial_days_policy():
    d = doc(policy={"facility_stay_whole_days": False}, time_entries=[entry(20, "2026-05-14T10:00:00-05:00")])
    d["patient"]["facility_stays"] = [{"kind": "snf", "start": "2026-05-10", "end": "2026-05-14"}]
    assert codes(run(d)) == [("99490", 1)]


def test_billing_practitioner_time_counts_toward_staff_codes():
    """R-TIME-3, R-TIME-4: the practitioner's own time may count as staff time; none is required."""
    d = doc(time_entries=[entry(10, role="billing_practitioner"), entry(10, "2026-05-08T09:00:00-05:00")])
    decision = run(d)
    assert codes(decision) == [("99490", 1)]
    assert decision["counted_minutes"] == {"clinical_staff": 10, "billing_practitioner": 10}


def test_other_practitioner_time_policy():
    d = doc(time_entries=[entry(20, role="other_practitioner")])
    assert codes(run(d)) == [("99490", 1)]
    d["policy"] = {"other_practitioner_time_counts_as_staff": False}
    assert excluded(run(d)) == {"NON_CLINICAL": 20}


def test_date_of_service_is_the_day_the_last_unit_was_reached():
    """R-CLM-DOS-1 (default policy) and R-CLM-DOS-2 (last day of month)."""
    d = doc(time_entries=[entry(25, "2026-05-04T09:00:00-05:00"), entry(20, "2026-05-18T09:00:00-05:00")])
    assert {x["date_of_service"] for x in run(d)["lines"]} == {"2026-05-18"}
    d["policy"] = {"date_of_service": "last_day_of_month"}
    assert {x["date_of_service"] for x in run(d)["lines"]} == {"2026-05-31"}


def test_other_months_minutes_are_reported_not_counted():
    d = doc(time_entries=[entry(30, "2026-04-20T09:00:00-05:00", id="april"), entry(20)])
    decision = run(d)
    assert decision["counted_minutes"]["clinical_staff"] == 20
    assert {
        "entry_id": "april",
        "minutes": 30,
        "reason": "OTHER_MONTH",
        "rules": ["R-TIME-1", "R-TIME-10"],
    } in decision["excluded_time"]
