"""Each patient's standing this month (counted minutes, the next threshold and its code), stored when its facts
change so that the worklist reads it instead of re-deciding hundreds of months per page.

Deciding a standing runs the rules engine over the month's facts, which billing gathers from every layer of
monthly work; billing therefore provides the decision when the application starts (`provide`), and the layers
below it — time, notes, consent, care plans — ask the ledger to `refresh` a patient's month after a change."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ccmops.months.models import MonthStanding
from ccmops.months.month import month_of
from ccmops.platform.pipeline import together
from ccmops.platform.upsert import upsert
from ccmops.rules.decision import Decision
from ccmops.rules.families import time_steps
from ccmops.rules.years import operational_rule_set_for


@dataclass(frozen=True)
class Standing:
    minutes: int
    next_threshold: int | None
    next_code: str | None
    decision: Decision | None
    days_left: int
    provisional_rules: int | None = None  # the year whose rules counted it, when the month's year has none yet
    holds: tuple[str, ...] = ()  # codes of the engine's hold findings: why the month would not be billed now

    @property
    def minutes_short(self) -> int:
        return max(0, (self.next_threshold or 0) - self.minutes)


Decide = Callable[[list, dict[int, str], dt.date, list | None], dict[int, Standing]]
Reads = Callable[[Any, dt.date], list[tuple[str, list]]]


@dataclass
class _Provided:
    decide: Decide | None = None
    reads: Reads | None = None


_provided = _Provided()


def provide(*, decide: Decide, reads: Reads) -> None:
    """Billing's service, registered at start-up: `decide(patients, program_by_patient, today, facts)` gives each
    patient's Standing (facts: rows of `reads` already read, or None); `reads(patient, today)` gives the statements
    that re-deciding one patient's month reads, its active program first."""
    _provided.decide, _provided.reads = decide, reads


def _service() -> _Provided:
    if _provided.decide is None or _provided.reads is None:
        raise RuntimeError("no standing decider: ccmops.billing is not installed (its AppConfig.ready provides it)")
    return _provided


def next_step(program: str, minutes: int) -> tuple[int | None, str | None]:
    """The next time threshold of the program's clinical-staff ladder above `minutes`, with its code."""
    return next(((t, c) for t, c in time_steps(program) if minutes < t), (None, None))


def days_left(today: dt.date) -> int:
    return calendar.monthrange(today.year, today.month)[1] - today.day


def decided(patients, program_by_patient: dict[int, str], today: dt.date) -> dict[int, Standing]:
    """These patients' standings decided now (with the engine's decision), not stored."""
    return _service().decide(patients, program_by_patient, today, None)


def store(patients, program_by_patient: dict[int, str], today: dt.date, facts: list | None = None):
    """Decide and store the standings of these patients for today's month."""
    result = _service().decide(patients, program_by_patient, today, facts)
    month = month_of(today)
    now = timezone.now()
    rows = [
        (
            p.practice_id,
            p.id,
            month,
            s.minutes,
            s.next_threshold,
            s.next_code or "",
            s.decision.status.value if s.decision else "",
            [[x.code, x.units] for x in s.decision.lines] if s.decision else [],
            list(s.holds),
            now,
        )
        for p in patients
        for s in [result[p.id]]
    ]
    upsert(
        MonthStanding,
        [
            "practice",
            "patient",
            "month",
            "minutes",
            "next_threshold",
            "next_code",
            "status",
            "codes",
            "holds",
            "computed_at",
        ],
        rows,
        conflict=["patient", "month"],
        update=["minutes", "next_threshold", "next_code", "status", "codes", "holds", "computed_at"],
    )
    return result


def refresh_reads(patient, today: dt.date) -> list[tuple[str, list]]:
    """What re-deciding the patient's month reads: for a caller that sends these with statements of its own
    (`ccmops.platform.pipeline.together`) and hands their rows to `refresh`."""
    return _service().reads(patient, today)


def refresh(patient, today: dt.date | None = None, rows: list | None = None) -> None:
    """Re-decide one patient's month after its facts changed (call inside the change's transaction). `today`:
    the practice's day (by default today in its time zone); `rows`: the rows of `refresh_reads(patient, today)`
    when the caller has read them already."""
    today = today or timezone.localdate(timezone=zoneinfo.ZoneInfo(patient.practice.time_zone))
    program, *facts = rows if rows is not None else together(*refresh_reads(patient, today))
    store([patient], {patient.id: program[0][0] if program else "ccm"}, today, facts)


def cached(patients, program_by_patient: dict[int, str], today: dt.date) -> dict[int, Standing]:
    """Stored standings for today's month; the missing ones are decided now and stored."""
    month = month_of(today)
    left = days_left(today)
    found = MonthStanding.objects.filter(patient__in=[p.id for p in patients], month=month).values_list(
        "patient_id", "minutes", "next_threshold", "next_code", "holds"
    )
    rules, provisional = operational_rule_set_for(today.year)
    year = rules.year if provisional else None
    out = {
        pid: Standing(minutes, threshold, code or None, None, left, year, tuple(holds or ()))
        for pid, minutes, threshold, code, holds in found
    }
    missing = [p for p in patients if p.id not in out]
    if missing:
        out.update(store(missing, program_by_patient, today))
    return out
