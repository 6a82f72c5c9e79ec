"""Reads of recorded time for the pages."""

from __future__ import annotations

from ccmops.errors import InvalidInput
from ccmops.months.month import Month
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry


def time_months(patient, *, earlier: str | None = None) -> list[tuple[str, str, list[TimeEntry]]]:
    """(month, label, entries) for this month and last month (in the practice's time zone) and, given, an
    `earlier` month: entries newest first, voided ones included and marked. Last month's stay in view until it is
    closed, for the late write-up or a mistake to void; an earlier month is looked up on request (a mistake found
    later: voiding it queues it for that month's biller once the month is closed).

    Raises:
        InvalidInput: `earlier` is not a month YYYY-MM before last month.
    """
    zone = patient.practice.time_zone
    current = Month.current(zone)
    this, last = str(current), str(current.previous())
    wanted = [(this, "this month"), (last, "last month")]
    if earlier:
        earlier = str(Month.parse(earlier, "time"))
        if earlier >= last:
            raise InvalidInput(f"time: {earlier} is not before last month ({last}); its time is shown already")
        wanted.append((earlier, "earlier"))
    months: dict[str, list[TimeEntry]] = {m: [] for m, _ in wanted}
    for m, _ in wanted[1:]:  # this month's entries come with last month's: their windows adjoin
        window = month_window(m, patient.practice.time_zone)
        end = None if m == last else window.end
        entries = TimeEntry.objects.filter(patient=patient, end__gt=window.start)
        if end is not None:
            entries = entries.filter(start__lt=end)
        for e in entries.select_related("staff", "employer", "voided_by", "restored_by").order_by("-start"):
            key = str(Month.at(e.start, zone))
            if key in months:
                months[key].append(e)
    voided = [e.id for listed in months.values() for e in listed if e.voided_at]
    restored = dict(  # voided entry -> the entry that restored it
        TimeEntry.objects.filter(restored_from_id__in=voided).values_list("restored_from_id", "id") if voided else ()
    )
    for listed in months.values():
        for e in listed:
            e.restored_as_id = restored.get(e.id)
    return [(m, label, months[m]) for m, label in wanted]
