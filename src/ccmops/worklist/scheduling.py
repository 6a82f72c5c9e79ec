"""Next-contact suggestion (pure): from minutes so far, the week of the month and the last outcome, snapped to
the patient's contact windows in their time zone."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass

FAILED = frozenset({"no_answer", "voicemail", "wrong_number"})


@dataclass(frozen=True)
class Window:
    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Suggestion:
    at: dt.datetime  # aware, UTC
    reason: str


DEFAULT_WINDOWS = tuple(Window(d, dt.time(9, 0), dt.time(17, 0)) for d in range(5))


def _snap(after: dt.datetime, windows: tuple[Window, ...], zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first moment at or after `after` inside a contact window (searching two weeks)."""
    local = after.astimezone(zone)
    for day in range(15):
        date = local.date() + dt.timedelta(days=day)
        for w in sorted((w for w in windows if w.weekday == date.weekday()), key=lambda w: w.start):
            start = dt.datetime.combine(date, w.start, tzinfo=zone)
            end = dt.datetime.combine(date, w.end, tzinfo=zone)
            candidate = max(start, local) if day == 0 else start
            if candidate < end:
                return candidate.astimezone(dt.UTC)
    return after.astimezone(dt.UTC)


def suggest_next_contact(
    *,
    now: dt.datetime,
    zone_name: str,
    minutes_this_month: int,
    last_outcome: str | None,
    windows: tuple[Window, ...] = (),
    threshold: int = 20,
) -> Suggestion:
    zone = zoneinfo.ZoneInfo(zone_name)
    local = now.astimezone(zone)
    days_in_month = calendar.monthrange(local.year, local.month)[1]
    days_left = days_in_month - local.day
    week = (local.day - 1) // 7 + 1
    windows = windows or DEFAULT_WINDOWS
    if last_outcome in FAILED:
        wait, reason = dt.timedelta(days=1), "Retry after an unanswered call, in another window"
        after = now + wait
        # try a different time of day than the failed call
        after = after.replace(hour=(after.hour + 3) % 24)
    elif minutes_this_month >= threshold:
        first_next = (local.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1, hour=9, minute=0, second=0, microsecond=0
        )
        after, reason = first_next, f"{minutes_this_month} min this month already; next month's first contact"
    elif week >= 3 or days_left <= 10:
        after, reason = (
            now + dt.timedelta(hours=2),
            f"{threshold - minutes_this_month} min short with {days_left} days left",
        )
    else:
        after, reason = now + dt.timedelta(days=3), f"Week {week}: spread this month's contacts"
    return Suggestion(_snap(after, windows, zone), reason)
