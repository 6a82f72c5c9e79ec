"""Time entries: recording one (from a timer's stop, or entered by hand with a reason), with the staff facts the
engine needs and overlaps flagged; voiding a mistaken one and restoring a voided one. Each write re-decides the
patient's month and, for a closed month, queues an adjustment (`ccmops.months`)."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ccmops.access.policy import OrgKind
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.months.ledger import closed_month_read, queue_adjustment_if_closed
from ccmops.months.standings import refresh as refresh_standing
from ccmops.months.standings import refresh_reads
from ccmops.platform.pipeline import together
from ccmops.rules.years import RULE_SETS, rule_set_for
from ccmops.timetracking.models import ACTIVITIES, PROGRAMS, TimeEntry, TimeEntrySegment, Timer

ACTIVITY_KEYS = {k for k, _ in ACTIVITIES}
PROGRAM_KEYS = {k for k, _ in PROGRAMS}


def _check(program: str, activity: str) -> None:
    if program not in PROGRAM_KEYS:
        raise InvalidInput(f"program: expected one of {', '.join(sorted(PROGRAM_KEYS))}")
    if activity not in ACTIVITY_KEYS:
        raise InvalidInput(f"activity: expected one of {', '.join(sorted(ACTIVITY_KEYS))}")


def open_timer(staff) -> Timer | None:
    return Timer.objects.filter(open_staff=staff).select_related("patient", "practice").first()


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
