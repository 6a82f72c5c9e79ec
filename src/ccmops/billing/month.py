"""This month's standing of patients, decided by the rules engine (never just summed)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from ccmops.billing.facts import fact_reads, patient_months
from ccmops.platform.compiled import Compiled, compiled
from ccmops.platform.pipeline import together
from ccmops.rules.decision import Decision
from ccmops.rules.engine import evaluate
from ccmops.rules.years import operational_rule_set_for

LADDERS = {"ccm": [(20, "99490"), (40, "99439"), (60, "99439")], "pcm": [(30, "99426"), (60, "99427"), (90, "99427")]}


@dataclass(frozen=True)
class Standing:
    minutes: int
    next_threshold: int | None
    next_code: str | None
    decision: Decision | None
    days_left: int
    provisional_rules: int | None = None  # the year whose rules counted it, when the month's year has none yet

    @property
    def minutes_short(self) -> int:
        return max(0, (self.next_threshold or 0) - self.minutes)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def standings(patients, program_by_patient: dict[int, str], today: dt.date, facts: list | None = None):
    """Each patient's standing this month, decided by the engine (`facts`: the rows of `fact_reads` when the
    caller has read them already)."""
    month = month_of(today)
    days_left = calendar.monthrange(today.year, today.month)[1] - today.day
    facts = patient_months(list(patients), month, facts)
    rules, provisional = operational_rule_set_for(today.year)  # provisional in a year this release lacks
    out = {}
    for p in patients:
        pm = facts.get(p.id)
        decision = evaluate(pm, rules=rules) if pm is not None else None
        minutes = (
            decision.counted_minutes.clinical_staff + decision.counted_minutes.billing_practitioner if decision else 0
        )
        program = program_by_patient.get(p.id, "ccm")
        nxt = next(((t, c) for t, c in LADDERS.get(program, []) if minutes < t), (None, None))
        out[p.id] = Standing(minutes, nxt[0], nxt[1], decision, days_left, rules.year if provisional else None)
    return out


def store(patients, program_by_patient: dict[int, str], today: dt.date, facts: list | None = None):
    """Decide and store the standings of these patients for today's month."""
    from django.utils import timezone

    from ccmops.billing.models import MonthStanding
    from ccmops.platform.upsert import upsert

    result = standings(patients, program_by_patient, today, facts)
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
            now,
        )
        for p in patients
        for s in [result[p.id]]
    ]
    upsert(
        MonthStanding,
        ["practice", "patient", "month", "minutes", "next_threshold", "next_code", "status", "codes", "computed_at"],
        rows,
        conflict=["patient", "month"],
        update=["minutes", "next_threshold", "next_code", "status", "codes", "computed_at"],
    )
    return result


_PATIENT = -918_273_643  # a sentinel: no patient has a negative id


def refresh_reads(patient, today: dt.date) -> list[tuple[str, list]]:
    """What re-deciding the patient's month reads (its active program, then its month's facts): for a caller
    that sends these with statements of its own (`ccmops.platform.pipeline.together`) and hands their rows to
    `refresh`."""
    from ccmops.enrollment.models import Enrollment

    active_program = compiled(  # compiled once (platform.compiled): this runs on every change to a patient's time
        "active program",
        lambda: Compiled(
            Enrollment.objects.filter(patient_id=_PATIENT, status="active").order_by("id").values_list("program")[:1],
            patient=_PATIENT,
        ),
    )
    return [active_program.statement(patient=patient.id), *fact_reads([patient], month_of(today))]


def refresh(patient, today: dt.date | None = None, rows: list | None = None) -> None:
    """Re-decide one patient's month after its facts changed (call inside the change's transaction). `rows`:
    the rows of `refresh_reads(patient, today)` when the caller has read them already."""
    from django.utils import timezone

    today = today or timezone.localdate()
    program, *facts = rows if rows is not None else together(*refresh_reads(patient, today))
    store([patient], {patient.id: program[0][0] if program else "ccm"}, today, facts)


def cached(patients, program_by_patient: dict[int, str], today: dt.date) -> dict[int, Standing]:
    """Stored standings for today's month; the missing ones are decided now and stored."""
    from ccmops.billing.models import MonthStanding

    month = month_of(today)
    days_left = calendar.monthrange(today.year, today.month)[1] - today.day
    found = MonthStanding.objects.filter(patient__in=[p.id for p in patients], month=month).values_list(
        "patient_id", "minutes", "next_threshold", "next_code"
    )
    rules, provisional = operational_rule_set_for(today.year)
    year = rules.year if provisional else None
    out = {
        pid: Standing(minutes, threshold, code or None, None, days_left, year)
        for pid, minutes, threshold, code in found
    }
    missing = [p for p in patients if p.id not in out]
    if missing:
        out.update(store(missing, program_by_patient, today))
    return out
