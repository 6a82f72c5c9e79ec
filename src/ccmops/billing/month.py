"""This month's standing of patients, decided by the rules engine (never just summed)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from ccmops.billing.facts import patient_months
from ccmops.rules.decision import Decision
from ccmops.rules.engine import evaluate

LADDERS = {"ccm": [(20, "99490"), (40, "99439"), (60, "99439")], "pcm": [(30, "99426"), (60, "99427"), (90, "99427")]}


@dataclass(frozen=True)
class Standing:
    minutes: int
    next_threshold: int | None
    next_code: str | None
    decision: Decision | None
    days_left: int

    @property
    def minutes_short(self) -> int:
        return max(0, (self.next_threshold or 0) - self.minutes)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def standings(patients, program_by_patient: dict[int, str], today: dt.date) -> dict[int, Standing]:
    month = month_of(today)
    days_left = calendar.monthrange(today.year, today.month)[1] - today.day
    facts = patient_months(list(patients), month)
    out = {}
    for p in patients:
        pm = facts.get(p.id)
        decision = evaluate(pm) if pm is not None else None
        minutes = (
            decision.counted_minutes.clinical_staff + decision.counted_minutes.billing_practitioner if decision else 0
        )
        program = program_by_patient.get(p.id, "ccm")
        nxt = next(((t, c) for t, c in LADDERS.get(program, []) if minutes < t), (None, None))
        out[p.id] = Standing(minutes, nxt[0], nxt[1], decision, days_left)
    return out
