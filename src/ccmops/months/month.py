"""The one month value of the program: a calendar month `YYYY-MM`, whose days and instants are those of the
practice's time zone (never the server's)."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from ccmops.errors import InvalidInput
from ccmops.rules.calendar import MonthWindow, month_window


@dataclass(frozen=True, order=True)
class Month:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str, field: str = "month") -> Month:
        """`YYYY-MM` (ASCII digits, month 01–12).

        Raises:
            InvalidInput: anything else, naming `field`.
        """
        ok = (
            isinstance(text, str)
            and len(text) == 7
            and text[4] == "-"
            and (text[:4] + text[5:]).isascii()
            and (text[:4] + text[5:]).isdigit()
            and 1 <= int(text[5:]) <= 12
        )
        if not ok:
            raise InvalidInput(f"{field}: expected YYYY-MM, got {text!r}")
        return cls(int(text[:4]), int(text[5:]))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def at(cls, instant: dt.datetime, zone: str) -> Month:
        """The month an instant falls in, in the time zone `zone` (a practice's: R-TIME-10)."""
        return cls.of(instant.astimezone(zoneinfo.ZoneInfo(zone)).date())

    @classmethod
    def current(cls, zone: str) -> Month:
        """This month in the time zone `zone` (a practice's)."""
        return cls.of(timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.number, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.number, calendar.monthrange(self.year, self.number)[1])

    def previous(self) -> Month:
        return Month.of(self.first_day - dt.timedelta(days=1))

    def back(self, months: int) -> Month:
        """The month `months` months before this one."""
        total = self.year * 12 + self.number - 1 - months
        return Month(total // 12, total % 12 + 1)

    def next(self) -> Month:
        return Month.of(self.last_day + dt.timedelta(days=1))

    def window(self, zone: str) -> MonthWindow:
        """Local midnight on the 1st to local midnight on the next 1st, in `zone`."""
        return month_window(str(self), zone)


def month_of(day: dt.date) -> str:
    """The `YYYY-MM` of a calendar day (already the practice's)."""
    return str(Month.of(day))


def checked(text: str, field: str = "month") -> str:
    """`text` when it is a month `YYYY-MM`.

    Raises:
        InvalidInput: it is not, naming `field`.
    """
    return str(Month.parse(text, field))
