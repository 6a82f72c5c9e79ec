"""Timer and time-entry use cases. Timers live on the server: reloads, several tabs, browser crashes and
server restarts lose nothing, and one staff member cannot have two timers, so no minute is counted twice."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from ccmops.access.policy import OrgKind
from ccmops.billing.month import refresh as refresh_standing
from ccmops.compiled import Compiled, compiled
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.timetracking.idle import IdleRules, counted_until, judge
from ccmops.timetracking.models import ACTIVITIES, PROGRAMS, TimeEntry, TimeEntrySegment, Timer, TimerSegment

ACTIVITY_KEYS = {k for k, _ in ACTIVITIES}
PROGRAM_KEYS = {k for k, _ in PROGRAMS}


def rules_for(practice) -> IdleRules:
    return IdleRules(
        dt.timedelta(minutes=practice.timer_idle_credit_minutes), dt.timedelta(minutes=practice.timer_idle_drop_minutes)
    )


def _check(program: str, activity: str) -> None:
    if program not in PROGRAM_KEYS:
        raise InvalidInput(f"program: expected one of {', '.join(sorted(PROGRAM_KEYS))}")
    if activity not in ACTIVITY_KEYS:
        raise InvalidInput(f"activity: expected one of {', '.join(sorted(ACTIVITY_KEYS))}")


def open_timer(staff) -> Timer | None:
    return Timer.objects.filter(open_staff=staff).select_related("patient", "practice").first()


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
        with transaction.atomic():
            timer = Timer.objects.create(
                practice_id=patient.practice_id,
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


def _lock(timer: Timer, staff, *related: str) -> Timer:
    """The staff member's own timer, locked for this transaction (another's is not found: 404, not 409)."""
    # Lock the timer row only: FOR UPDATE with select_related would also lock the practice and patient rows,
    # which every audited write's foreign-key check needs (PostgreSQL deadlocked under the soak). Compiled once
    # per process (ccmops.compiled): it runs on every heartbeat and stop.
    query = compiled(
        ("timer lock", related),
        lambda: Compiled(
            Timer.objects.select_for_update(of=("self",), no_key=True)
            .select_related("practice", "patient", *related)
            .filter(pk=_TIMER, staff_id=_STAFF)[:1],
            timer=_TIMER,
            staff=_STAFF,
        ),
    )
    locked = query.first(timer=timer.pk, staff=staff.id)
    if locked is None:
        raise NotFound(f"No timer {timer.pk} of yours.")
    if locked.state in ("stopped", "discarded"):
        raise Conflict(f"This timer was already {locked.state} (perhaps in another tab).")
    return locked


def _open_segment(timer: Timer) -> TimerSegment | None:
    # From the timer's segments (a handful), so that a caller who prefetched them reads no more.
    return next((s for s in timer.segments.all() if s.end is None), None)


def _apply_idle(timer: Timer, now: dt.datetime, *, user_active: bool) -> None:
    """Settle an idle gap when the user shows activity again (or the timer is paused or stopped)."""
    if timer.state != "running":
        return
    verdict = judge(timer.last_activity_at, now, rules_for(timer.practice))
    segment = _open_segment(timer) if verdict.kind == "drop" else None
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
        segment = _open_segment(timer)
        if segment is not None:
            segment.end = max(segment.start, timer.idle_since)
            segment.save(update_fields=["end"])
            TimerSegment.objects.create(practice_id=timer.practice_id, timer=timer, start=timer.idle_until)
    timer.idle_since = timer.idle_until = None
    timer.version += 1
    timer.save()
    return timer


def _close(timer: Timer, now: dt.datetime) -> None:
    _apply_idle(timer, now, user_active=False)
    segment = _open_segment(timer)
    if segment is not None:
        end = counted_until(timer.last_activity_at, now, rules_for(timer.practice))
        if timer.idle_since is not None:  # unanswered question: count only up to where idling began
            end = min(end, timer.idle_since)
        segment.end = max(segment.start, end)
        segment.save(update_fields=["end"])
    timer.idle_since = timer.idle_until = None


@transaction.atomic
def pause_timer(*, timer: Timer, staff, now: dt.datetime | None = None) -> Timer:
    now = now or timezone.now()
    timer = _lock(timer, staff)
    if timer.state == "running":
        _close(timer, now)
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


def staff_facts(*, staff, patient) -> tuple[str, str, int]:
    """(staff_role, credential, employer organization id) of a staff member working on this patient: their
    membership of the patient's practice, else of a partner; a practitioner of the practice is the billing
    practitioner or another practitioner, others are clinical or non-clinical staff with their credential.

    One plain query (memberships in the model's order, with the staff member's practitioner record at this
    practice): it runs on every time entry, and the ORM's building of it cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.organization_id, o.kind, m.is_clinical_staff, m.credential, p.id, p.credential "
            "FROM organizations_membership m JOIN organizations_organization o ON o.id = m.organization_id "
            "LEFT JOIN organizations_practitioner p ON p.user_id = m.user_id AND p.practice_id = %s "
            "WHERE m.user_id = %s AND m.active = %s ORDER BY o.name, m.role",
            [patient.practice_id, staff.id, True],
        )
        memberships = cursor.fetchall()
    practice_m = next((m for m in memberships if m[0] == patient.practice_id), None)
    partner_m = next((m for m in memberships if m[1] != OrgKind.PRACTICE), None)
    membership = practice_m or partner_m
    if membership is None:
        raise InvalidInput("staff: not a member of the practice or an engaged partner")
    organization_id, _, is_clinical_staff, credential, practitioner_id, practitioner_credential = membership
    if practitioner_id is not None:
        is_billing = patient.billing_practitioner_id == practitioner_id
        return "billing_practitioner" if is_billing else "other_practitioner", practitioner_credential, organization_id
    return "clinical_staff" if is_clinical_staff else "non_clinical", credential, organization_id


def _own_overlap(staff, start: dt.datetime, end: dt.datetime, exclude_entry: int | None = None):
    q = TimeEntrySegment.objects.filter(staff=staff, start__lt=end, end__gt=start)
    if exclude_entry:
        q = q.exclude(entry_id=exclude_entry)
    return q.select_related("entry", "patient").first()


def _flag_overlaps(entry: TimeEntry, segments: list[tuple[dt.datetime, dt.datetime]]) -> None:
    """Other staff's entries on the same patient that overlap are flagged both ways (counted once by the
    engine, R-TIME-9)."""
    cond = Q()
    for a, b in segments:
        cond |= Q(start__lt=b, end__gt=a)
    others = set(
        TimeEntrySegment.objects.filter(patient_id=entry.patient_id)
        .exclude(staff_id=entry.staff_id)
        .filter(cond)
        .values_list("entry_id", flat=True)
    )
    if others:
        entry.overlaps_with = sorted(others)
        entry.save(update_fields=["overlaps_with"])
        for other in TimeEntry.objects.filter(id__in=others):
            other.overlaps_with = sorted(set(other.overlaps_with) | {entry.id})
            other.save(update_fields=["overlaps_with"])


def _create_entry(
    *, patient, staff, program, activity, segments, source, entered_at, note="", late_reason="", timer=None
) -> TimeEntry:
    role, credential, employer = staff_facts(staff=staff, patient=patient)
    seconds = int(sum((b - a).total_seconds() for a, b in segments))
    end = segments[-1][1]
    entry = TimeEntry.objects.create(
        practice=patient.practice,  # the same instance for the closed-month check and the standing (no re-reads)
        patient=patient,
        staff=staff,
        staff_role=role,
        credential=credential,
        employer_id=employer,
        program=program,
        activity=activity,
        start=segments[0][0],
        end=end,
        seconds=seconds,
        source=source,
        timer=timer,
        entered_at=entered_at,
        lag_seconds=max(0, int((entered_at - end).total_seconds())),
        late_reason=late_reason,
        note=note[:500],
    )
    TimeEntrySegment.objects.bulk_create(
        TimeEntrySegment(practice_id=patient.practice_id, entry=entry, staff=staff, patient=patient, start=a, end=b)
        for a, b in segments
    )
    _flag_overlaps(entry, segments)
    from ccmops.billing.close import queue_adjustment_if_closed

    queue_adjustment_if_closed(entry)
    refresh_standing(patient, timezone.localtime(end).date())
    record_audit(
        action=AuditAction.CREATE,
        user=staff,
        patient=patient,
        obj=entry,
        detail={"source": source, "seconds": seconds, "program": program, "activity": activity},
    )
    return entry


@transaction.atomic
def stop_timer(*, timer: Timer, staff, now: dt.datetime | None = None, note: str = "") -> TimeEntry | None:
    """Stop the timer and record one time entry (nothing when no full second was counted)."""
    now = now or timezone.now()
    timer = _lock(timer, staff, "patient__billing_practitioner")  # the month's standing needs the practitioner
    prefetch_related_objects([timer], "segments")  # one read; closing edits the open one in place
    if timer.state == "running":
        _close(timer, now)
    segments = [(s.start, s.end) for s in timer.segments.all() if s.end is not None and s.end > s.start]
    timer.state, timer.open_staff = "stopped", None
    timer.version += 1
    timer.save(update_fields=["state", "open_staff", "version", "idle_since", "idle_until"])
    if sum((b - a).total_seconds() for a, b in segments) < 1:  # a start and stop within a second: no entry
        return None
    patient = timer.patient
    patient.practice = timer.practice  # both read with the lock
    return _create_entry(
        patient=patient,
        staff=staff,
        program=timer.program,
        activity=timer.activity,
        segments=segments,
        source="timer",
        entered_at=now,
        note=note,
        timer=timer,
    )


@transaction.atomic
def discard_timer(*, timer: Timer, staff) -> None:
    timer = _lock(timer, staff)
    timer.state, timer.open_staff = "discarded", None
    timer.save()


@transaction.atomic
def add_manual_entry(
    *,
    patient,
    staff,
    program: str,
    activity: str,
    start: dt.datetime,
    minutes: int,
    reason: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> TimeEntry:
    """Time entered after the fact: flagged late, with its lag and a required reason; never overlapping the
    same staff member's other time."""
    _check(program, activity)
    now = now or timezone.now()
    if not reason.strip():
        raise InvalidInput("reason: say why this time is entered after the fact")
    if not 1 <= minutes <= 600:
        raise InvalidInput("minutes: expected 1 to 600")
    end = start + dt.timedelta(minutes=minutes)
    if end > now:
        raise InvalidInput("start: the work must have ended already; use the timer for work in progress")
    clash = _own_overlap(staff, start, end)
    if clash is not None:
        raise InvalidInput(
            f"start: overlaps your entry for {clash.patient} from {timezone.localtime(clash.start):%H:%M} to "
            f"{timezone.localtime(clash.end):%H:%M}; the same minutes cannot be counted twice"
        )
    running = open_timer(staff)
    if (
        running is not None
        and running.segments.filter(start__lt=end).filter(Q(end__isnull=True) | Q(end__gt=start)).exists()
    ):
        raise InvalidInput("start: overlaps your open timer")
    return _create_entry(
        patient=patient,
        staff=staff,
        program=program,
        activity=activity,
        segments=[(start, end)],
        source="manual",
        entered_at=now,
        note=note,
        late_reason=reason.strip(),
    )
