"""Idle rules for timers (pure): idle up to `credit` is credited; between `credit` and `drop` the user is asked;
beyond `drop` the idle time is dropped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class IdleRules:
    credit: dt.timedelta
    drop: dt.timedelta


@dataclass(frozen=True)
class IdleVerdict:
    kind: str  # none | ask | drop
    idle_from: dt.datetime | None = None  # counting stops here when the idle part is not kept
    idle_to: dt.datetime | None = None  # the user came back here


def judge(last_activity: dt.datetime, now: dt.datetime, rules: IdleRules) -> IdleVerdict:
    gap = now - last_activity
    if gap <= rules.credit:
        return IdleVerdict("none")
    idle_from = last_activity + rules.credit
    return IdleVerdict("ask" if gap <= rules.drop else "drop", idle_from, now)


def counted_until(last_activity: dt.datetime, now: dt.datetime, rules: IdleRules) -> dt.datetime:
    """Where a running segment's counted time ends right now: idle beyond the credit is not shown as
    counted until the user says to keep it."""
    return min(now, last_activity + rules.credit) if now - last_activity > rules.credit else now
