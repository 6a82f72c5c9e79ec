"""This month's standing of patients, decided by the rules engine (never just summed): billing's side of the
ledger's standings (`ccmops.months.standings`), which it provides when the application starts."""

from __future__ import annotations

import datetime as dt

from ccmops.billing.facts import fact_reads, patient_months
from ccmops.enrollment.models import Enrollment
from ccmops.months.month import month_of
from ccmops.months.standings import Standing, days_left, next_step
from ccmops.platform.compiled import Compiled, compiled
from ccmops.rules.decision import Severity
from ccmops.rules.engine import evaluate
from ccmops.rules.years import operational_rule_set_for


def standings(patients, program_by_patient: dict[int, str], today: dt.date, facts: list | None = None):
    """Each patient's standing this month, decided by the engine (`facts`: the rows of `fact_reads` when the
    caller has read them already)."""
    month = month_of(today)
    left = days_left(today)
    facts = patient_months(list(patients), month, facts)
    rules, provisional = operational_rule_set_for(today.year)  # provisional in a year this release lacks
    out = {}
    for p in patients:
        pm = facts.get(p.id)
        decision = evaluate(pm, rules=rules) if pm is not None else None
        minutes = (
            decision.counted_minutes.clinical_staff + decision.counted_minutes.billing_practitioner if decision else 0
        )
        threshold, code = next_step(program_by_patient.get(p.id, "ccm"), minutes)
        holds = tuple(f.code for f in decision.findings if f.severity == Severity.HOLD) if decision else ()
        out[p.id] = Standing(minutes, threshold, code, decision, left, rules.year if provisional else None, holds)
    return out


_PATIENT = -918_273_643  # a sentinel: no patient has a negative id


def refresh_reads(patient, today: dt.date) -> list[tuple[str, list]]:
    """What re-deciding the patient's month reads: its active program, then its month's facts."""
    active_program = compiled(  # compiled once (platform.compiled): this runs on every change to a patient's time
        "active program",
        lambda: Compiled(
            Enrollment.objects.filter(patient_id=_PATIENT, status="active").order_by("id").values_list("program")[:1],
            patient=_PATIENT,
        ),
    )
    return [active_program.statement(patient=patient.id), *fact_reads([patient], month_of(today))]
