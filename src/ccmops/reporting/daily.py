"""Per-staff daily totals: the minutes each staff member logged per day (voided entries left out), how much of
it a live timer captured, and how many entries and patients — the care manager's "how was my day" and the
lead's check that work is spread over the month rather than crammed into its last days (R-TIME rules count
the time; this is the operational view of it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from ccmops.timetracking.models import TimeEntry


@dataclass(frozen=True)
class Day:
    seconds: int = 0
    live_seconds: int = 0  # captured by a running timer (the rest was entered after the fact)
    entries: int = 0
    patients: int = 0

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def live_share(self) -> float | None:
        return self.live_seconds / self.seconds if self.seconds else None

    def as_dict(self) -> dict:
        share = self.live_share
        return {
            "minutes": self.minutes,
            "live_minutes": self.live_seconds // 60,
            "live_share": round(share, 3) if share is not None else None,
            "entries": self.entries,
            "patients": self.patients,
        }


def days_ending(last: dt.date, count: int) -> list[dt.date]:
    """The `count` days up to and including `last`, oldest first."""
    return [last - dt.timedelta(days=i) for i in range(count - 1, -1, -1)]


def daily_totals(
    *, staff_ids: Iterable[int], practice_ids: Iterable[int], days: list[dt.date], zone: dt.tzinfo
) -> dict[int, dict[dt.date, Day]]:
    """Per staff member and day (in `zone`), their time on the practices' patients; one grouped query. A day
    without time is absent."""
    if not days:
        return {}
    start = dt.datetime.combine(days[0], dt.time.min, zone)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time.min, zone)
    rows = (
        TimeEntry.objects.filter(
            staff_id__in=list(staff_ids),
            practice_id__in=list(practice_ids),
            voided_at__isnull=True,
            start__gte=start,
            start__lt=end,
        )
        .annotate(day=TruncDate("start", tzinfo=zone))
        .values("staff_id", "day")
        .annotate(
            total=Sum("seconds"),
            live=Sum("seconds", filter=Q(source="timer")),
            n=Count("id"),
            people=Count("patient_id", distinct=True),
        )
        .order_by()
    )
    out: dict[int, dict[dt.date, Day]] = {}
    for row in rows:
        out.setdefault(row["staff_id"], {})[row["day"]] = Day(row["total"], row["live"] or 0, row["n"], row["people"])
    return out


@dataclass(frozen=True)
class StaffDays:
    """One staff member's row: a Day per column (an empty Day when nothing was logged) and the total."""

    user: object
    days: list[Day]

    @property
    def total(self) -> Day:
        return Day(
            sum(d.seconds for d in self.days),
            sum(d.live_seconds for d in self.days),
            sum(d.entries for d in self.days),
            0,  # patients over several days are not the sum of each day's; not shown
        )


def staff_rows(users: list, totals: dict[int, dict[dt.date, Day]], days: list[dt.date]) -> list[StaffDays]:
    empty = Day()
    return [StaffDays(u, [totals.get(u.id, {}).get(d, empty) for d in days]) for u in users]


def last_days(
    users: list, practice_ids: Iterable[int], last: dt.date, zone: dt.tzinfo, count: int = 7
) -> tuple[list[dt.date], list[StaffDays]]:
    """The `count` days up to `last` and, per user, their Day on each (time on the practices' patients)."""
    days = days_ending(last, count)
    totals = daily_totals(staff_ids=[u.id for u in users], practice_ids=practice_ids, days=days, zone=zone)
    return days, staff_rows(users, totals, days)
