"""Timer and time-entry use cases. Timers live on the server: reloads, several tabs, browser crashes and
server restarts lose nothing, and one staff member cannot have two timers, so no minute is counted twice."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ccmops.access.policy import OrgKind
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ccmops.months.ledger import closed_month_read, queue_adjustment_if_closed
from ccmops.months.standings import refresh as refresh_standing
from ccmops.months.standings import refresh_reads
from ccmops.platform.compiled import Compiled, compiled
from ccmops.platform.pipeline import together
from ccmops.rules.years import RULE_SETS, rule_set_for
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


def staff_facts(*, staff, patient) -> tuple[str, str, int]:
    """(staff_role, credential, employer organization id) of a staff member working on this patient: their
    membership of the patient's practice, else of a partner; a practitioner of the practice is the billing
    practitioner or another practitioner, others are clinical or non-clinical staff with their credential."""
    (memberships,) = together(_memberships(staff, patient))
    return _staff_facts_of(memberships, patient)


def _memberships(staff, patient) -> tuple[str, list]:
    """One plain query (memberships in the model's order, with the staff member's practitioner record at this
    practice): it runs on every time entry, and the ORM's building of it cost more than running it."""
    return (
        "SELECT m.organization_id, o.kind, m.is_clinical_staff, m.credential, p.id, p.credential "
        "FROM organizations_membership m JOIN organizations_organization o ON o.id = m.organization_id "
        "LEFT JOIN organizations_practitioner p ON p.user_id = m.user_id AND p.practice_id = %s "
        "WHERE m.user_id = %s AND m.active = %s ORDER BY o.name, m.role",
        [patient.practice_id, staff.id, True],
    )


def _staff_facts_of(memberships: list[tuple], patient) -> tuple[str, str, int]:
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
    q = TimeEntrySegment.objects.filter(staff=staff, start__lt=end, end__gt=start, entry__voided_at__isnull=True)
    if exclude_entry:
        q = q.exclude(entry_id=exclude_entry)
    return q.select_related("entry", "patient").first()


_OVERLAPS = (
    "SELECT DISTINCT s.entry_id FROM timetracking_timeentrysegment s "
    "JOIN timetracking_timeentry e ON e.id = s.entry_id "
    "WHERE s.patient_id = %s AND s.staff_id <> %s AND e.voided_at IS NULL AND "
)
_SEGMENTS_INSERT = (
    'INSERT INTO timetracking_timeentrysegment (practice_id, entry_id, staff_id, patient_id, start, "end") VALUES '
)


def _overlaps_read(patient, staff, segments: list[tuple[dt.datetime, dt.datetime]]) -> tuple[str, list]:
    """The entries of other staff on the patient whose time overlaps these segments."""
    at = connection.ops.adapt_datetimefield_value
    overlapping = " OR ".join(['(s.start < %s AND s."end" > %s)'] * len(segments))  # placeholders only
    return (
        _OVERLAPS + f"({overlapping})",
        [patient.id, staff.id, *(v for a, b in segments for v in (at(b), at(a)))],
    )


def _flag_overlaps(entry: TimeEntry, others: set[int]) -> None:
    """Other staff's entries on the same patient that overlap are flagged both ways (counted once by the
    engine, R-TIME-9)."""
    if others:
        entry.overlaps_with = sorted(others)
        entry.save(update_fields=["overlaps_with"])
        for other in TimeEntry.objects.filter(id__in=others):
            other.overlaps_with = sorted(set(other.overlaps_with) | {entry.id})
            other.save(update_fields=["overlaps_with"])


def create_entry(
    *,
    patient,
    staff,
    program,
    activity,
    segments,
    source,
    entered_at,
    note="",
    late_reason="",
    timer=None,
    memberships: list | None = None,
    restoring: TimeEntry | None = None,
    restored_by=None,
    restore_reason: str = "",
) -> TimeEntry:
    """Record the entry and its segments, flag overlaps, queue an adjustment when its month is closed, re-decide
    the patient's month and audit it. `memberships`: the rows of `_memberships(staff, patient)` when the caller
    has read them already. `restoring`: a voided entry this one restores (its staff facts are kept as they
    were recorded)."""
    if restoring is not None:
        role, credential, employer = restoring.staff_role, restoring.credential, restoring.employer_id
    else:
        if memberships is None:
            (memberships,) = together(_memberships(staff, patient))
        role, credential, employer = _staff_facts_of(memberships, patient)
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
        **(
            {
                "located_in_us": restoring.located_in_us,
                "counted_for": restoring.counted_for,
                "restored_from": restoring,
                "restored_by": restored_by,
                "restore_reason": restore_reason,
            }
            if restoring is not None
            else {}
        ),
    )
    # The segments are written, and all that follows from them is read, in one round trip (ccmops.platform.pipeline).
    at = connection.ops.adapt_datetimefield_value
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(segments))  # placeholders only
    day = timezone.localtime(end).date()
    _, overlapping, closed, *month = together(
        (
            _SEGMENTS_INSERT + rows,
            [v for a, b in segments for v in (patient.practice_id, entry.id, staff.id, patient.id, at(a), at(b))],
        ),
        _overlaps_read(patient, staff, segments),
        closed_month_read(entry),
        *refresh_reads(patient, day),  # after the insert: the month's facts include the new segments
    )
    _flag_overlaps(entry, {entry_id for (entry_id,) in overlapping})
    queue_adjustment_if_closed(entry, closed)
    refresh_standing(patient, day, month)
    record_audit(
        action=AuditAction.CREATE,
        user=staff,
        patient=patient,
        obj=entry,
        detail={
            "source": source,
            "seconds": seconds,
            "program": program,
            "activity": activity,
            **({"restores": restoring.id} if restoring is not None else {}),
        },
    )
    return entry


@transaction.atomic
def stop_timer(*, timer: Timer, staff, now: dt.datetime | None = None, note: str = "") -> TimeEntry | None:
    """Stop the timer and record one time entry (nothing when no full second was counted).

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
    if sum((b - a).total_seconds() for a, b in segments) < 1:  # a start and stop within a second: no entry
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
    if start.tzinfo is None:
        raise InvalidInput("start: expected a time with its UTC offset (e.g. 2026-11-03T09:00:00-06:00)")
    if rule_set_for(timezone.localtime(start).year) is None and start < now:
        first = min(RULE_SETS)
        raise InvalidInput(f"start: {start:%Y-%m-%d} is before {first}, the first year ccmops has Medicare rules for")
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
    return create_entry(
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


def _entry_reason(reason: str, ask: str) -> str:
    """A void's or restore's reason: 5 to 300 characters, kept with the entry and audited."""
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput(f"reason: {ask} (it is kept with the entry and audited)")
    if len(reason) > 300:
        raise InvalidInput(f"reason: at most 300 characters, got {len(reason)}")
    return reason


def _locked_entry(entry: TimeEntry) -> TimeEntry:
    """The entry, locked for the change, with its practice, patient and staff."""
    return (
        TimeEntry.objects.select_for_update(of=("self",))
        .select_related("practice", "patient", "staff")
        .get(pk=entry.pk)
    )


@transaction.atomic
def void_entry(*, entry: TimeEntry, by, reason: str, as_billing: bool = False) -> TimeEntry:
    """Void a mistaken entry (the wrong patient, minutes typed wrong, a timer left running): it stays on record
    with who voided it, when and why, and counts nowhere from now on — not in the month's minutes, the engine's
    decision, overlaps or reports. Nothing is edited: the right time, if any, is entered again as a new entry.
    The staff member who recorded it voids it, or billing staff (`as_billing`, the interface has checked the
    grant). An entry of a closed month goes to its adjustment queue with the time it removes.

    Raises:
        InvalidInput: no reason.
        PermissionDenied: another staff member's entry, without billing.
        Conflict: already voided.
    """
    reason = _entry_reason(reason, "say what was wrong with the entry")
    locked = _locked_entry(entry)
    if locked.voided_at is not None:
        raise Conflict(f"Entry {locked.id} was already voided on {timezone.localtime(locked.voided_at):%Y-%m-%d}.")
    if locked.staff_id != by.id and not as_billing:
        raise PermissionDenied("Only the staff member who recorded an entry, or billing staff, can void it.")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), by, reason
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    for other in TimeEntry.objects.filter(id__in=locked.overlaps_with):  # no longer overlapped by this one
        other.overlaps_with = [i for i in other.overlaps_with if i != locked.id]
        other.save(update_fields=["overlaps_with"])
    queue_adjustment_if_closed(locked, voided=True)
    refresh_standing(locked.patient, timezone.localtime(locked.end).date())
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=locked.patient,
        obj=locked,
        detail={"voided": True, "reason": reason, "seconds": locked.seconds, "staff": locked.staff_id},
    )
    return locked


@transaction.atomic
def restore_entry(*, entry: TimeEntry, by, reason: str, as_billing: bool = False) -> TimeEntry:
    """Undo a void made by mistake: a new entry with the voided one's segments, staff, activity, source and time
    of record (so time a live timer captured stays live), linked to it and counting again; the voided entry
    stays on record as it was. The same people who may void may restore. Time of a closed month goes to its
    adjustment queue, as any time recorded after the close.

    Raises:
        InvalidInput: no reason; the staff member has other time over the same minutes now.
        PermissionDenied: another staff member's entry, without billing.
        Conflict: the entry is not voided, or was restored already.
    """
    reason = _entry_reason(reason, "say why the void was a mistake")
    locked = _locked_entry(entry)
    if locked.voided_at is None:
        raise Conflict(f"Entry {locked.id} is not voided; there is nothing to restore.")
    again = TimeEntry.objects.filter(restored_from=locked).first()
    if again is not None:
        raise Conflict(f"Entry {locked.id} was already restored, as entry {again.id}.")
    if locked.staff_id != by.id and not as_billing:
        raise PermissionDenied("Only the staff member who recorded an entry, or billing staff, can restore it.")
    segments = list(locked.segments.order_by("start").values_list("start", "end"))
    for start, end in segments:
        clash = _own_overlap(locked.staff, start, end)
        if clash is not None:
            raise InvalidInput(
                f"entry: {locked.staff} has time for {clash.patient} from {timezone.localtime(clash.start):%H:%M} "
                f"to {timezone.localtime(clash.end):%H:%M} over the same minutes now; the same minutes cannot be "
                "counted twice"
            )
    running = open_timer(locked.staff)
    if running is not None and any(
        running.segments.filter(start__lt=end).filter(Q(end__isnull=True) | Q(end__gt=start)).exists()
        for start, end in segments
    ):
        raise InvalidInput("entry: overlaps the staff member's open timer; stop it first")
    restored = create_entry(
        patient=locked.patient,
        staff=locked.staff,
        program=locked.program,
        activity=locked.activity,
        segments=segments,
        source=locked.source,
        entered_at=locked.entered_at,
        note=locked.note,
        late_reason=locked.late_reason,
        restoring=locked,
        restored_by=by,
        restore_reason=reason,
    )
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=locked.patient,
        obj=locked,
        detail={"restored_as": restored.id, "reason": reason, "seconds": restored.seconds},
    )
    return restored
