"""Whatever the sequence of timer operations, no interval is counted twice for one staff member and the sum
of entries equals the time the timer tracked (hypothesis)."""

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccmops.errors import Conflict
from ccmops.timetracking.entries import open_timer
from ccmops.timetracking.models import TimeEntry, TimeEntrySegment
from ccmops.timetracking.services import heartbeat, pause_timer, resolve_idle, resume_timer, start_timer, stop_timer

OPS = st.lists(
    st.tuples(
        st.sampled_from(["start", "beat", "quiet", "pause", "resume", "keep", "drop", "stop"]),
        st.integers(min_value=0, max_value=45),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_no_interval_counted_twice_and_entries_sum_to_segments(demo, ops):
    from ccmops.organizations.models import User
    from ccmops.patients.models import Patient

    nora = User.objects.get(username="nora.rn")
    patient = Patient.objects.get(family_name="Moen")
    TimeEntrySegment.objects.all().delete()
    TimeEntry.objects.all().delete()
    from ccmops.timetracking.models import Timer, TimerSegment

    TimerSegment.objects.all().delete()
    Timer.objects.all().delete()
    now = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
    for op, minutes in ops:
        now += dt.timedelta(minutes=minutes, seconds=7)
        timer = open_timer(nora)
        try:
            if op == "start":
                start_timer(patient=patient, staff=nora, program="ccm", activity="care_coordination_call", now=now)
            elif timer is None:
                continue
            elif op == "beat":
                heartbeat(timer=timer, staff=nora, active=True, now=now)
            elif op == "quiet":
                heartbeat(timer=timer, staff=nora, active=False, now=now)
            elif op == "pause":
                pause_timer(timer=timer, staff=nora, now=now)
            elif op == "resume":
                resume_timer(timer=timer, staff=nora, now=now)
            elif op in ("keep", "drop"):
                resolve_idle(timer=timer, staff=nora, keep=op == "keep", now=now)
            else:
                stop_timer(timer=timer, staff=nora, now=now)
        except Conflict:
            pass
    timer = open_timer(nora)
    if timer is not None:
        stop_timer(timer=timer, staff=nora, now=now + dt.timedelta(minutes=1))
    segments = sorted(TimeEntrySegment.objects.filter(staff=nora).values_list("start", "end"))
    for (_a1, b1), (a2, _b2) in itertools.pairwise(segments):
        assert b1 <= a2, "one staff member's intervals overlap"
    for a, b in segments:
        assert a < b
    total = sum(int((b - a).total_seconds()) for a, b in segments)
    assert total == sum(TimeEntry.objects.filter(staff=nora).values_list("seconds", flat=True))
