"""Server-side timers: one per staff member, idle rules, pause/resume, one entry on stop, no double counting."""

import pytest
from tests.factories.monthly import at

from ccmops.errors import Conflict, InvalidInput
from ccmops.timetracking.entries import add_manual_entry
from ccmops.timetracking.models import TimeEntry, Timer
from ccmops.timetracking.services import (
    elapsed_seconds,
    heartbeat,
    pause_timer,
    resolve_idle,
    resume_timer,
    start_timer,
    stop_timer,
)


def test_start_from_a_second_tab_rejoins_the_same_timer(twyla, nora):
    t1 = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    t2 = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(1))
    assert t1.id == t2.id and Timer.objects.count() == 1


def test_a_second_timer_on_another_patient_is_refused(twyla, nora, demo):
    from ccmops.patients.models import Patient

    start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    other = Patient.objects.get(family_name="Kohler")
    with pytest.raises(Conflict, match="already open on Moen"):
        start_timer(patient=other, staff=nora, program="ccm", activity="care_coordination_call", now=at(1))


def test_stop_creates_one_entry_with_staff_credential_and_employer(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="medication_reconciliation", now=at(0))
    for m in range(1, 12):  # two tabs heartbeating every 30 s for 11 minutes
        heartbeat(timer=timer, staff=nora, active=True, now=at(m))
        heartbeat(timer=timer, staff=nora, active=False, now=at(m + 0.5))
    entry = stop_timer(timer=timer, staff=nora, now=at(12))
    assert TimeEntry.objects.count() == 1
    assert (entry.seconds, entry.source, entry.staff_role, entry.credential, entry.employer_id) == (
        720,
        "timer",
        "clinical_staff",
        "RN",
        twyla.practice_id,
    )
    with pytest.raises(Conflict, match="already stopped"):
        stop_timer(timer=timer, staff=nora, now=at(13))


def test_a_timer_stopped_within_a_second_records_nothing(twyla, nora):
    import datetime as dt

    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    assert stop_timer(timer=timer, staff=nora, now=at(0) + dt.timedelta(milliseconds=400)) is None
    assert not TimeEntry.objects.exists() and Timer.objects.get(pk=timer.pk).state == "stopped"


def test_an_unanswered_idle_question_counts_only_up_to_the_idle_credit(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    heartbeat(timer=timer, staff=nora, active=True, now=at(9))  # 9 min without a sign of work: asked
    assert stop_timer(timer=timer, staff=nora, now=at(10)).seconds == 5 * 60  # stopped without answering


def test_short_idle_is_credited(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    heartbeat(timer=timer, staff=nora, active=True, now=at(4))  # 4 min without activity: credited
    assert stop_timer(timer=timer, staff=nora, now=at(6)).seconds == 360


def test_longer_idle_is_asked_about(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    timer = heartbeat(timer=timer, staff=nora, active=True, now=at(20))  # away 20 min: ask
    assert timer.idle_since == at(5) and timer.idle_until == at(20)
    assert elapsed_seconds(timer, now=at(20)) == 20 * 60  # shown while the question is open
    keep = resolve_idle(timer=timer, staff=nora, keep=True, now=at(21))
    assert stop_timer(timer=keep, staff=nora, now=at(25)).seconds == 25 * 60


def test_answering_drop_removes_the_idle_part(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    timer = heartbeat(timer=timer, staff=nora, active=True, now=at(20))
    timer = resolve_idle(timer=timer, staff=nora, keep=False, now=at(21))
    entry = stop_timer(timer=timer, staff=nora, now=at(25))
    assert entry.seconds == (5 + 5) * 60  # 0–5 (idle credit) and 20–25
    assert entry.segments.count() == 2


def test_long_idle_is_dropped_and_a_crashed_tab_loses_nothing_counted(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    heartbeat(timer=timer, staff=nora, active=True, now=at(3))
    # browser crashed; the user opens the page again 2 hours later and stops
    entry = stop_timer(timer=Timer.objects.get(pk=timer.pk), staff=nora, now=at(123))
    assert entry.seconds == (3 + 5) * 60


def test_pause_and_resume(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    timer = pause_timer(timer=timer, staff=nora, now=at(4))
    timer = resume_timer(timer=timer, staff=nora, now=at(30))
    assert stop_timer(timer=timer, staff=nora, now=at(33)).seconds == 7 * 60


def test_manual_entry_is_late_with_lag_and_reason_and_cannot_overlap(twyla, nora):
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    for m in range(1, 10):
        heartbeat(timer=timer, staff=nora, active=True, now=at(m))
    stop_timer(timer=timer, staff=nora, now=at(10))
    with pytest.raises(InvalidInput, match="reason"):
        add_manual_entry(
            patient=twyla,
            staff=nora,
            program="ccm",
            activity="record_review",
            start=at(-60),
            minutes=15,
            reason="",
            now=at(120),
        )
    with pytest.raises(InvalidInput, match="overlaps your entry"):
        add_manual_entry(
            patient=twyla,
            staff=nora,
            program="ccm",
            activity="record_review",
            start=at(5),
            minutes=15,
            reason="Phone died",
            now=at(120),
        )
    entry = add_manual_entry(
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="record_review",
        start=at(-60),
        minutes=15,
        reason="Call from the car",
        now=at(120),
    )
    assert (entry.source, entry.lag_seconds, entry.late_reason) == ("manual", 165 * 60, "Call from the car")


def _late_call(patient, staff, *, start, minutes):
    """A care coordination call entered after the fact (at minute 60)."""
    return add_manual_entry(
        patient=patient,
        staff=staff,
        program="ccm",
        activity="care_coordination_call",
        start=start,
        minutes=minutes,
        reason="x",
        now=at(60),
    )


def test_overlap_between_two_staff_on_one_patient_is_flagged(twyla, nora, demo):
    from ccmops.organizations.models import User

    patel = User.objects.get(username="dr.patel")
    a = _late_call(twyla, nora, start=at(0), minutes=20)
    b = _late_call(twyla, patel, start=at(10), minutes=20)
    a.refresh_from_db()
    assert a.overlaps_with == [b.id] and b.overlaps_with == [a.id]
    assert b.staff_role == "billing_practitioner"


def test_a_stopped_timers_segments_are_its_entrys_and_each_is_checked_for_overlap(twyla, nora, demo):
    from ccmops.organizations.models import User
    from ccmops.timetracking.models import TimeEntrySegment

    patel = User.objects.get(username="dr.patel")
    other = _late_call(twyla, patel, start=at(32), minutes=10)
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    timer = pause_timer(timer=timer, staff=nora, now=at(4))  # 0–4: no one else
    timer = resume_timer(timer=timer, staff=nora, now=at(30))
    heartbeat(timer=timer, staff=nora, active=True, now=at(34))
    entry = stop_timer(timer=timer, staff=nora, now=at(35))  # 30–35: overlaps Dr Patel's 32–42
    got = TimeEntrySegment.objects.filter(entry=entry).order_by("start").values_list("start", "end", "staff", "patient")
    assert list(got) == [(at(0), at(4), nora.id, twyla.id), (at(30), at(35), nora.id, twyla.id)]
    other.refresh_from_db()
    assert entry.overlaps_with == [other.id] and other.overlaps_with == [entry.id]
    assert TimeEntry.objects.get(pk=entry.pk).overlaps_with == [other.id]


def test_a_stop_that_cannot_record_its_entry_changes_nothing(twyla, nora):
    """The stop's writes go out together with its reads; when the entry cannot be recorded (the care manager
    left the practice meanwhile), the timer is as it was: running, its time still open, nothing recorded."""
    from ccmops.organizations.models import Membership
    from ccmops.timetracking.models import TimerSegment

    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    Membership.objects.filter(user=nora).update(active=False)
    with pytest.raises(InvalidInput, match="not a member"):
        stop_timer(timer=timer, staff=nora, now=at(5))
    timer = Timer.objects.get(pk=timer.pk)
    assert (timer.state, timer.open_staff_id, timer.version) == ("running", nora.id, 1)
    assert list(TimerSegment.objects.filter(timer=timer).values_list("start", "end")) == [(at(0), None)]
    assert not TimeEntry.objects.exists()
    Membership.objects.filter(user=nora).update(active=True)
    assert stop_timer(timer=timer, staff=nora, now=at(5)).seconds == 5 * 60


def test_future_manual_time_is_refused(twyla, nora):
    with pytest.raises(InvalidInput, match="ended already"):
        add_manual_entry(
            patient=twyla,
            staff=nora,
            program="ccm",
            activity="record_review",
            start=at(0),
            minutes=30,
            reason="x",
            now=at(10),
        )


def test_one_timer_feeds_one_program(twyla, nora):
    t = start_timer(patient=twyla, staff=nora, program="pcm", activity="care_coordination_call", now=at(0))
    with pytest.raises(Conflict):
        start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(1))
    assert stop_timer(timer=t, staff=nora, now=at(2)).program == "pcm"


def test_unknown_activity_is_refused(twyla, nora):
    with pytest.raises(InvalidInput, match="activity"):
        start_timer(patient=twyla, staff=nora, program="ccm", activity="gossip", now=at(0))


@pytest.mark.parametrize(
    ("username", "practice", "billing", "expected"),
    [
        ("nora.rn", "maple-street-family-medicine", True, ("clinical_staff", "RN", "maple-street-family-medicine")),
        (
            "dr.patel",
            "maple-street-family-medicine",
            True,
            ("billing_practitioner", "MD", "maple-street-family-medicine"),
        ),
        (
            "dr.patel",
            "maple-street-family-medicine",
            False,
            ("other_practitioner", "MD", "maple-street-family-medicine"),
        ),
        ("ben.biller", "maple-street-family-medicine", True, ("non_clinical", "", "maple-street-family-medicine")),
        ("pat.rn", "riverbend-internal-medicine", True, ("clinical_staff", "RN", "summit-care-partners")),
        ("lee.lpn", "riverbend-internal-medicine", True, ("clinical_staff", "LPN", "summit-care-partners")),
        (
            "dr.okafor",
            "riverbend-internal-medicine",
            True,
            ("billing_practitioner", "DO", "riverbend-internal-medicine"),
        ),
        ("maya.ma", "maple-street-family-medicine", True, None),
    ],
)
def test_an_entry_records_the_staff_members_role_credential_and_employer(demo, username, practice, billing, expected):
    from ccmops.organizations.models import Organization, Practitioner, User
    from ccmops.patients.models import Patient
    from ccmops.timetracking.entries import staff_facts

    staff = User.objects.get(username=username)
    patient = Patient.objects.filter(practice__slug=practice).first()
    mine = Practitioner.objects.filter(user=staff).first()
    patient.billing_practitioner_id = mine.id if billing and mine else None  # False: someone else bills
    if expected is None:
        with pytest.raises(InvalidInput, match="not a member of the practice"):
            staff_facts(staff=staff, patient=patient)
        return
    role, credential, employer = expected
    assert staff_facts(staff=staff, patient=patient) == (role, credential, Organization.objects.get(slug=employer).id)


@pytest.mark.django_db(transaction=True)
def test_two_tabs_starting_at_once_get_one_timer_and_a_conflict():
    """The second tab's start cannot see the first's uncommitted timer; its insert waits on the one-open-timer
    constraint and, once the first commits, fails: a conflict, and nothing of the second start is kept."""
    import datetime as dt
    import threading

    from django.db import connection, transaction

    from ccmops.organizations.models import Organization, User
    from ccmops.patients.models import Patient
    from ccmops.timetracking.models import TimerSegment

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite has one writer at a time, so the second start sees the first's timer")
    practice = Organization.objects.create(slug="tabs", kind="practice", name="Tabs")
    staff = User.objects.create(username="tabs.rn")
    a, b = (
        Patient.objects.create(
            practice=practice, mrn=mrn, given_name="T", family_name=mrn, birth_date=dt.date(1950, 1, 1)
        )
        for mrn in ("A", "B")
    )
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def first_tab() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = start_timer(patient=a, staff=staff, program="ccm", activity="care_coordination_call")
                holding.set()
                release.wait(30)
        finally:
            holding.set()
            connection.close()

    def second_tab() -> None:
        try:
            start_timer(patient=b, staff=staff, program="ccm", activity="care_coordination_call")
        except Conflict as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    tabs = [threading.Thread(target=first_tab), threading.Thread(target=second_tab)]
    tabs[0].start()
    assert holding.wait(30)
    tabs[1].start()
    tabs[1].join(0.5)
    assert tabs[1].is_alive()  # waiting on the first tab's uncommitted timer
    release.set()
    for tab in tabs:
        tab.join(30)
    assert "Another tab just started a timer" in str(outcome["second"])
    assert list(Timer.objects.values_list("id", "patient_id", "state")) == [(outcome["first"].id, a.id, "running")]
    assert list(TimerSegment.objects.values_list("timer_id", flat=True)) == [outcome["first"].id]


def test_less_than_a_minute_timed_records_nothing_and_says_so(twyla, nora, login):
    """A start pressed by mistake and stopped seconds later leaves no time entry of 0 minutes (which would then
    ask for a note); a timer stopped at a minute records its minute."""
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(0))
    assert stop_timer(timer=timer, staff=nora, now=at(59 / 60)) is None
    assert not TimeEntry.objects.exists() and Timer.objects.get().state == "stopped"

    client = login("nora.rn")
    started = client.post(
        f"/api/patients/{twyla.id}/timer/start",
        {"program": "ccm", "activity": "care_coordination_call"},
        content_type="application/json",
    ).json()["timer"]
    stopped = client.post(f"/api/timer/{started['id']}/stop", {"note": ""}, content_type="application/json").json()
    assert stopped["entry"] is None and stopped["notice"].startswith("Less than a minute was timed (")
    assert "no time entry was saved" in stopped["notice"] and not TimeEntry.objects.exists()

    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=at(2))
    entry = stop_timer(timer=timer, staff=nora, now=at(3))
    assert entry is not None and entry.seconds == 60 and entry.minutes == 1
