"""Calendar-month math in the practice's time zone (R-TIME-1, R-TIME-10)."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class MonthWindow:
    """A calendar month in one time zone, as a half-open UTC interval [start, end)."""

    year: int
    month: int
    zone: zoneinfo.ZoneInfo
    start: dt.datetime
    end: dt.datetime

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, _calendar.monthrange(self.year, self.month)[1])

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        """The UTC instant at which a local day begins (correct across DST changes)."""
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(dt.UTC)

    def contains_date(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


@lru_cache(maxsize=4096)
def month_window(month: str, zone_name: str) -> MonthWindow:
    """The window of `YYYY-MM` in `zone_name`: local midnight on the 1st to local midnight on the next 1st."""
    year, mon = int(month[:4]), int(month[5:7])
    zone = zoneinfo.ZoneInfo(zone_name)
    start = dt.datetime(year, mon, 1, tzinfo=zone)
    nxt = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    return MonthWindow(year, mon, zone, start.astimezone(dt.UTC), nxt.astimezone(dt.UTC))


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (clamped to the month's length)."""
    total = day.year * 12 + day.month - 1 - months
    year, mon = divmod(total, 12)
    mon += 1
    return dt.date(year, mon, min(day.day, _calendar.monthrange(year, mon)[1]))
