"""Is a practice's month closed, the lock that writes of its facts take on it, and the queue of work recorded
for a closed month (adjustments): what time entries, notes and known services need from the month close
without depending on billing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.months.models import Adjustment, MonthClose
from ccmops.platform.compiled import Compiled, compiled
from ccmops.platform.pipeline import together


def is_closed(practice, month: str, *, lock: bool = False) -> bool:
    """Whether the practice's month is approved and closed (locked). With `lock` (a write of the month's facts,
    inside its transaction), the close row is read with a lock: an approval checking the month meanwhile is waited
    for, so the write then finds the month closed and queues an adjustment (`closed_month_read`)."""
    if not lock:
        return MonthClose.objects.filter(practice=practice, month=month, status="closed").exists()
    rows = MonthClose.objects.select_for_update(no_key=True).filter(practice=practice, month=month)
    return rows.values_list("status", flat=True).first() == "closed"


_PRACTICE, _MONTH = -918_273_644, "month-sentinel"  # values no practice id or month can have


def closed_month_read(entry) -> tuple[str, list]:
    """The read of a time entry's month close (its status, or no row): to send with the entry's other statements
    (`ccmops.platform.pipeline.together`) and hand its rows to `queue_adjustment_if_closed`.

    It locks the row (FOR NO KEY UPDATE on PostgreSQL) for the rest of the entry's transaction. An approval holds
    the row while it checks that no facts changed since the evaluation, so an entry of that month written
    meanwhile waits for the approval's commit and then finds the month closed: it is queued as an adjustment, not
    lost between the check and the close. (Entries of a month being worked have no close row to wait on; and
    SQLite writes one transaction at a time.)"""
    closed = compiled(  # compiled once (platform.compiled): this runs on every new time entry
        "closed month",
        _compile_closed_month_read,
    )
    return closed.statement(practice=entry.practice.id, month=entry.month)


def _compile_closed_month_read() -> Compiled:
    with transaction.atomic():  # a locking read compiles only inside a transaction (where it always runs)
        return Compiled(
            MonthClose.objects.filter(practice_id=_PRACTICE, month=_MONTH)
            .select_for_update(no_key=True)
            .values_list("status")[:1],
            practice=_PRACTICE,
            month=_MONTH,
        )


def queue_adjustment_if_closed(entry, closed: list | None = None, *, voided: bool = False) -> Adjustment | None:
    """Time recorded for a closed month — or, `voided`, removed from it — goes to the adjustment queue instead of
    changing the claim. `closed`: the rows of `closed_month_read(entry)` when the caller has read them already."""
    if closed is None:
        (closed,) = together(closed_month_read(entry))
    if not closed or closed[0][0] != "closed":
        return None
    month = entry.month
    if voided:
        description = f"{entry.minutes} min by {entry.staff} voided after {month} was closed: {entry.void_reason}"
    elif entry.restored_from_id:
        description = (
            f"{entry.minutes} min by {entry.staff} restored (voided entry {entry.restored_from_id}) after {month} "
            f"was closed: {entry.restore_reason}"
        )
    else:
        description = f"{entry.minutes} min by {entry.staff} recorded after {month} was closed"
    return queue_adjustment(entry, month, description, time_entry=entry, voids=voided)


def queue_note_adjustment_if_closed(note, addendum=None) -> Adjustment | None:
    """A note of a closed month signed after the close, or an addendum to one, goes to the adjustment queue:
    the claim was sent on the documentation as it stood, so the biller sees what came after (the notes are what
    supports the minutes billed, R-TIME-8)."""
    month = note.month
    if not is_closed(note.practice, month, lock=True):
        return None
    activity = note.get_activity_display().lower()
    if addendum is not None:
        description = (
            f"addendum by {addendum.author} to the {activity} note of {timezone.localtime(note.created_at):%Y-%m-%d}"
            f" added after {month} was closed"
        )
    else:
        description = f"{activity} note by {note.author} signed after {month} was closed"
    return queue_adjustment(note, month, description, note=note, addendum=addendum)


def queue_adjustment(record, month: str, description: str, **links) -> Adjustment:
    """Queue work of a closed month for the biller: `record` (a time entry, note or known service) gives the
    practice and patient, `links` what the adjustment points at."""
    return Adjustment.objects.create(
        practice=record.practice,
        patient=record.patient,
        month=month,
        created_at=timezone.now(),
        description=description[:300],
        **links,
    )
