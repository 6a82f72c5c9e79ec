"""Timers: one open timer per staff member on a patient, started, paused, resumed, kept alive by heartbeats
(with idle time handled), stopped into a time entry (`entries.create_entry`) or discarded."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ccmops.errors import Conflict, NotFound
from ccmops.platform.compiled import Compiled, compiled
from ccmops.platform.pipeline import together
from ccmops.timetracking.entries import _check, _memberships, create_entry
from ccmops.timetracking.idle import IdleRules, counted_until, judge
from ccmops.timetracking.models import TimeEntry, Timer, TimerSegment

SHORTEST_ENTRY_SECONDS = 60


def short_stop_notice(seconds: int) -> str:
    return (
        f"Less than a minute was timed ({seconds} s), so no time entry was saved. If that time was care management, "
        "add it with the call it belongs to."
    )


def rules_for(practice) -> IdleRules:
    return IdleRules(
        dt.timedelta(minutes=practice.timer_idle_credit_minutes), dt.timedelta(minutes=practice.timer_idle_drop_minutes)
    )


@transaction.atomic
def start_timer(*, patient, staff, program: str, activity: str, now: dt.datetime | None = None) -> Timer:
    """Start (or, from another tab, rejoin) the staff member's timer on this patient and program."""
    _check(program, activity)
    now = now or timezone.now()
    current = Timer.objects.select_for_update().filter(open_staff=staff).first()
    if current is not None:
        if current.patient_id == patient.id and current.program == program:
            return current
        raise Conflict(
            f"Your timer is already open on {current.patient} ({current.program.upper()}); "
            "stop or pause it before starting another."
        )
    try:
        # No savepoint: a concurrent start (another tab's) makes this insert fail, which ends the start with a
        # conflict and rolls it back; two statements fewer on every start.
        with transaction.atomic(savepoint=False):
            timer = Timer.objects.create(
                practice=patient.practice,  # the patient's, read with it (the reply's elapsed time needs it)
                patient=patient,
                staff=staff,
                program=program,
                activity=activity,
                state="running",
                open_staff=staff,
                created_at=now,
                last_activity_at=now,
                last_heartbeat_at=now,
            )
    except IntegrityError:
        raise Conflict("Another tab just started a timer; reload to see it.") from None
    TimerSegment.objects.create(practice_id=patient.practice_id, timer=timer, start=now)
    return timer


_TIMER, _STAFF = -918_273_641, -918_273_642  # sentinels: no timer or user has a negative id


def _lock_query(related: tuple[str, ...]) -> Compiled:
    # Lock the timer row only: FOR UPDATE with select_related would also lock the practice and patient rows,
    # which every audited write's foreign-key check needs (PostgreSQL deadlocked under the soak). Compiled once
    # per process (ccmops.platform.compiled): it runs on every heartbeat and stop.
    return compiled(
        ("timer lock", related),
        lambda: Compiled(
            Timer.objects.select_for_update(of=("self",), no_key=True)
            .select_related("practice", "patient", *related)
            .filter(pk=_TIMER, staff_id=_STAFF)[:1],
            timer=_TIMER,
            staff=_STAFF,
        ),
    )


def _lockable(locked: Timer | None, timer: Timer) -> Timer:
    if locked is None:
        raise NotFound(f"No timer {timer.pk} of yours.")
    if locked.state in ("stopped", "discarded"):
        raise Conflict(f"This timer was already {locked.state} (perhaps in another tab).")
    return locked


def _lock(timer: Timer, staff, *related: str) -> Timer:
    """The staff member's own timer, locked for this transaction (another's is not found: 404, not 409)."""
    return _lockable(_lock_query(related).first(timer=timer.pk, staff=staff.id), timer)


def _lock_with_segments(timer: Timer, staff, *related: str) -> tuple[Timer, list[TimerSegment]]:
    """`_lock`, and the timer's segments in time order (read under the lock), in one round trip."""
    lock = _lock_query(related)
    segments = compiled(
        "timer segments",
        lambda: Compiled(TimerSegment.objects.filter(timer_id=_TIMER).order_by("start", "id"), timer=_TIMER),
    )
    statements = lock.statement(timer=timer.pk, staff=staff.id), segments.statement(timer=timer.pk)
    if None in statements:  # an id no row can have
        raise NotFound(f"No timer {timer.pk} of yours.")
    locked, found = together(*statements)
    return _lockable(next(iter(lock.instances(locked)), None), timer), segments.instances(found)


def _open_segment(segments) -> TimerSegment | None:
    return next((s for s in segments if s.end is None), None)


def _apply_idle(timer: Timer, now: dt.datetime, *, user_active: bool) -> None:
    """Settle an idle gap when the user shows activity again."""
    if timer.state != "running":
        return
    verdict = judge(timer.last_activity_at, now, rules_for(timer.practice))
    segment = _open_segment(timer.segments.all()) if verdict.kind == "drop" else None
    if segment is not None:
        segment.end = max(segment.start, verdict.idle_from)
        segment.save(update_fields=["end"])
        if user_active:
            TimerSegment.objects.create(practice_id=timer.practice_id, timer=timer, start=now)
        timer.idle_since = timer.idle_until = None
    elif verdict.kind == "ask" and user_active and timer.idle_since is None:
        timer.idle_since, timer.idle_until = verdict.idle_from, verdict.idle_to
    if user_active:
        timer.last_activity_at = now


BEAT_FIELDS = ["last_activity_at", "last_heartbeat_at", "idle_since", "idle_until", "version"]  # all a beat changes


@transaction.atomic
def heartbeat(*, timer: Timer, staff, active: bool, now: dt.datetime | None = None) -> Timer:
    """A tab says it is open; `active` when the user worked since the last heartbeat."""
    now = now or timezone.now()
    timer = _lock(timer, staff)
    _apply_idle(timer, now, user_active=active)
    timer.last_heartbeat_at = now
    timer.version += 1
    timer.save(update_fields=BEAT_FIELDS)
    return timer


@transaction.atomic
def resolve_idle(*, timer: Timer, staff, keep: bool, now: dt.datetime | None = None) -> Timer:
    """The user answers "count the time I was away?"."""
    timer = _lock(timer, staff)
    if timer.idle_since is None:
        return timer
    if not keep:
        segment = _open_segment(timer.segments.all())
        if segment is not None:
            segment.end = max(segment.start, timer.idle_since)
            segment.save(update_fields=["end"])
            TimerSegment.objects.create(practice_id=timer.practice_id, timer=timer, start=timer.idle_until)
    timer.idle_since = timer.idle_until = None
    timer.version += 1
    timer.save()
    return timer


def _close(timer: Timer, now: dt.datetime, segments) -> TimerSegment | None:
    """End the running timer's open segment where counting stops now (idle beyond the drop threshold is
    dropped; an unanswered idle question counts only up to where idling began). Returns the segment, for the
    caller to save."""
    segment = _open_segment(segments)
    if segment is not None:
        rules = rules_for(timer.practice)
        verdict = judge(timer.last_activity_at, now, rules)
        if verdict.kind == "drop":
            end = verdict.idle_from
        else:
            end = counted_until(timer.last_activity_at, now, rules)
            if timer.idle_since is not None:
                end = min(end, timer.idle_since)
        segment.end = max(segment.start, end)
    timer.idle_since = timer.idle_until = None
    return segment


@transaction.atomic
def pause_timer(*, timer: Timer, staff, now: dt.datetime | None = None) -> Timer:
    now = now or timezone.now()
    timer = _lock(timer, staff)
    if timer.state == "running":
        ended = _close(timer, now, timer.segments.all())
        if ended is not None:
            ended.save(update_fields=["end"])
        timer.state = "paused"
        timer.version += 1
        timer.save()
    return timer


@transaction.atomic
def resume_timer(*, timer: Timer, staff, now: dt.datetime | None = None) -> Timer:
    now = now or timezone.now()
    timer = _lock(timer, staff)
    if timer.state == "paused":
        TimerSegment.objects.create(practice_id=timer.practice_id, timer=timer, start=now)
        timer.state, timer.last_activity_at, timer.last_heartbeat_at = "running", now, now
        timer.version += 1
        timer.save()
    return timer


def elapsed_seconds(timer: Timer, now: dt.datetime | None = None) -> int:
    """What the timer shows: closed segments plus the open one up to where counting currently stops."""
    now = now or timezone.now()
    total = 0.0
    rules = rules_for(timer.practice)
    for start, end in timer.segments.values_list("start", "end"):
        if end is None:
            end = counted_until(timer.last_activity_at, now, rules) if timer.state == "running" else start
        total += max(0.0, (end - start).total_seconds())
    return int(total)


@transaction.atomic
def stop_timer(*, timer: Timer, staff, now: dt.datetime | None = None, note: str = "") -> TimeEntry | None:
    """Stop the timer and record one time entry — none when less than a minute was timed (a start pressed by
    mistake, say: time is recorded in whole minutes, as entries added by hand are, and a stray entry of seconds
    would only ask for a note of its own); the page says so (`short_stop_notice`).

    The busiest write of a care manager's day, so its statements go out in few round trips (ccmops.platform.pipeline):
    the lock with the segments; the segment's end, the timer's state and the staff member's memberships; the
    entry; its segments with the reads that follow from them; the month's facts; the standing; the audit."""
    now = now or timezone.now()
    # the month's standing needs the billing practitioner
    timer, segments = _lock_with_segments(timer, staff, "patient__billing_practitioner")
    ended = _close(timer, now, segments) if timer.state == "running" else None
    timer.state, timer.open_staff = "stopped", None
    timer.version += 1
    patient = timer.patient
    patient.practice = timer.practice  # both read with the lock
    writes = [
        (
            "UPDATE timetracking_timer SET state = %s, open_staff_id = NULL, version = %s, idle_since = NULL, "
            "idle_until = NULL WHERE id = %s",
            [timer.state, timer.version, timer.id],
        )
    ]
    if ended is not None:
        at = connection.ops.adapt_datetimefield_value
        writes.append(('UPDATE timetracking_timersegment SET "end" = %s WHERE id = %s', [at(ended.end), ended.id]))
    *_, memberships = together(*writes, _memberships(staff, patient))
    segments = [(s.start, s.end) for s in segments if s.end is not None and s.end > s.start]
    if sum((b - a).total_seconds() for a, b in segments) < SHORTEST_ENTRY_SECONDS:
        return None
    return create_entry(
        patient=patient,
        staff=staff,
        program=timer.program,
        activity=timer.activity,
        segments=segments,
        source="timer",
        entered_at=now,
        note=note,
        timer=timer,
        memberships=memberships,
    )


@transaction.atomic
def discard_timer(*, timer: Timer, staff) -> None:
    timer = _lock(timer, staff)
    timer.state, timer.open_staff = "discarded", None
    timer.save()
