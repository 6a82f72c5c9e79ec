"""The model-fit assessment (pure): which operating model — in-house, managed or a hybrid split — a practice can
execute consistently, at what cost and margin, with the reasons and the risks.

Work per function is a number of staff hours per new enrollment or per enrolled patient-month (WORKLOAD, each
overridable in the questionnaire). Each model gives every function to the practice or to the partner (the same
presets as the responsibility matrix). The practice's share of the work meets its CCM hours, which vary month to
month (absences, busy weeks, leakage from weak workflow discipline); the partner's share is executed at the
partner's contracted consistency. A seeded Monte-Carlo run of month-by-month execution gives the distribution
of the share of enrolled patients who reach a billable month, and from it revenue, cost and margin.

Nothing here reads a database or a clock: the same questionnaire and seed give the same result.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from ccmops.access.operating_model import PARTNER, PRACTICE, PRESETS, Function, Preset
from ccmops.assessment.questionnaire import WORKLOAD, Questionnaire
from ccmops.rules.years import load_fee_schedule, rule_set_for

WEEKS_PER_MONTH = 52 / 12
MODELS = (Preset.IN_HOUSE, Preset.HYBRID_PARTNER_MONTHLY, Preset.HYBRID_PARTNER_OUTREACH, Preset.MANAGED)

# Staff hours per unit of work. "per_new" is per newly enrolled patient (outreach to several candidates, the
# consent conversation, the initial care plan); "per_pm" is per enrolled patient-month.
MONTHLY_FUNCTIONS = (
    Function.MONTHLY_OUTREACH,
    Function.CARE_COORDINATION,
    Function.TIME_TRACKING,
    Function.DOCUMENTATION,
)
ENROLLMENT_FUNCTIONS = (Function.IDENTIFICATION, Function.ENROLLMENT_CONSENT, Function.CARE_PLANNING)


@dataclass(frozen=True)
class Distribution:
    p10: float
    p50: float
    p90: float
    histogram: tuple[int, ...]  # runs per 10-point band of the figure (0–9 %, …, 90–100 %), or per bin

    def as_dict(self) -> dict:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90, "histogram": list(self.histogram)}


@dataclass
class ModelResult:
    model: Preset
    practice_functions: list[Function]
    partner_functions: list[Function]
    practice_hours_needed_steady: float  # per month, once the program is at its target size
    practice_hours_needed_ramp: float  # per month during enrollment ramp
    practice_hours_available: float  # per month, before variability
    enrollment_coverage: float  # available / needed for the practice's enrollment work during the ramp
    monthly_coverage: float  # available / needed for the practice's monthly work at steady state
    consistency: Distribution  # share of enrolled patients billed per month (steady-state months)
    worst_month: Distribution  # the lowest month of each run
    revenue: Distribution  # over the whole horizon, dollars
    cost: Distribution
    margin: Distribution
    monthly_consistency_p50: list[float]  # month by month, the median across runs
    feasible: bool = False
    risks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "model": self.model.value,
            "label": self.model.label,
            "practice_functions": [f.value for f in self.practice_functions],
            "partner_functions": [f.value for f in self.partner_functions],
            "practice_hours_needed_steady": round(self.practice_hours_needed_steady, 1),
            "practice_hours_needed_ramp": round(self.practice_hours_needed_ramp, 1),
            "practice_hours_available": round(self.practice_hours_available, 1),
            # None where the practice owns none of that work (nothing to cover).
            "enrollment_coverage": _finite(self.enrollment_coverage),
            "monthly_coverage": _finite(self.monthly_coverage),
            "consistency": self.consistency.as_dict(),
            "worst_month": self.worst_month.as_dict(),
            "revenue": self.revenue.as_dict(),
            "cost": self.cost.as_dict(),
            "margin": self.margin.as_dict(),
            "monthly_consistency_p50": [round(x, 3) for x in self.monthly_consistency_p50],
            "feasible": self.feasible,
            "risks": self.risks,
        }


def _finite(x: float) -> float | None:
    return None if x == float("inf") else round(x, 2)


@dataclass
class Assessment:
    questionnaire: Questionnaire
    eligible: int
    target_enrolled: int
    revenue_per_billed_month: float
    results: dict[Preset, ModelResult]
    recommended: Preset
    reasons: list[str]
    monitor: list[str]
    alternatives: dict[Preset, str]

    def as_dict(self) -> dict:
        return {
            "practice": self.questionnaire.practice,
            "eligible_patients": self.eligible,
            "target_enrolled": self.target_enrolled,
            "revenue_per_billed_month": round(self.revenue_per_billed_month, 2),
            "recommended": self.recommended.value,
            "recommended_label": self.recommended.label,
            "reasons": self.reasons,
            "monitor": self.monitor,
            "why_not": {k.value: v for k, v in self.alternatives.items()},
            "models": {k.value: v.as_dict() for k, v in self.results.items()},
            "seed": self.questionnaire.seed,
            "runs": self.questionnaire.runs,
            "months": self.questionnaire.months,
        }


def _workload(q: Questionnaire) -> dict[Function, dict[str, float]]:
    table = {f: dict(v) for f, v in WORKLOAD.items()}
    for key, value in q.workload.items():
        table[Function(key)].update(value)
    if q.measured is not None and q.measured.hours_per_patient_month is not None:
        # Scale the monthly functions so they add up to what the practice actually spends.
        base = sum(table[f]["per_pm"] for f in MONTHLY_FUNCTIONS)
        if base:
            for f in MONTHLY_FUNCTIONS:
                table[f]["per_pm"] *= q.measured.hours_per_patient_month / base
    return table


def revenue_per_billed_month(year: int) -> float:
    """Expected allowed amount for a billed CCM month: 99490, plus 99439 for the share of months that reach 40
    minutes (ENGINE assumption: a quarter), national non-facility rates of the year (R-PAY-1 fee file)."""
    rules = rule_set_for(year)
    fees = load_fee_schedule(year)
    factor = rules.factor(qualifying_apm_participant=False) if rules else Decimal("0")
    base = fees.rate("99490", facility=False, conversion_factor=factor)
    addon = fees.rate("99439", facility=False, conversion_factor=factor)
    return float(base + addon * Decimal("0.25"))


def _measured_practice(q: Questionnaire) -> bool:
    """The questionnaire carries at least three months of the practice's own execution figures."""
    return q.measured is not None and q.measured.by_party == PRACTICE and q.measured.months >= 3


def _execution_rate(q: Questionnaire) -> float:
    """Share of the work that turns into a billable month when the practice has the hours: reach, time actually
    captured, documentation that supports the claim. Driven by workflow discipline, or measured."""
    if _measured_practice(q):
        return max(0.05, min(0.98, q.measured.billable_share))
    return 0.5 + 0.1 * (q.discipline.mean - 1)  # 1 → 0.50, 5 → 0.90


def _leakage(q: Questionnaire) -> float:
    """Share of nominal CCM hours lost to other work; dedicated roles and leadership focus protect them."""
    protect = (q.discipline.dedicated_roles + q.discipline.leadership_focus) / 2
    return 0.35 - 0.07 * (protect - 1)  # 1 → 35 %, 5 → 7 %


def _distribution(values: list[float], *, bins: tuple[float, ...] | None = None) -> Distribution:
    xs = sorted(values)
    n = len(xs)

    def pct(p: float) -> float:
        return xs[min(n - 1, max(0, round(p * (n - 1))))]

    if bins is None:
        hist = [0] * 10
        for x in xs:
            hist[min(9, int(x * 10))] += 1
    else:
        hist = [0] * (len(bins) + 1)
        for x in xs:
            hist[sum(1 for b in bins if x >= b)] += 1
    return Distribution(pct(0.1), pct(0.5), pct(0.9), tuple(hist))


def simulate(q: Questionnaire, model: Preset, *, rev_per_billed: float) -> ModelResult:
    owners = PRESETS[model]
    work = _workload(q)
    practice_fns = [f for f in Function if owners[f] == PRACTICE and f is not Function.CLINICAL_OVERSIGHT]
    partner_fns = [f for f in Function if owners[f] == PARTNER]
    per_new_practice = sum(work[f]["per_new"] for f in practice_fns)
    per_pm_practice = sum(work[f]["per_pm"] for f in practice_fns)
    monthly_practice = owners[Function.MONTHLY_OUTREACH] == PRACTICE
    enrolls_practice = owners[Function.ENROLLMENT_CONSENT] == PRACTICE
    fee = {
        Preset.IN_HOUSE: 0.0,
        Preset.MANAGED: q.pricing.managed_per_patient_month,
        Preset.HYBRID_PARTNER_MONTHLY: q.pricing.hybrid_monthly_per_patient_month,
        Preset.HYBRID_PARTNER_OUTREACH: q.pricing.hybrid_outreach_per_patient_month,
    }[model]
    target = q.target_enrolled
    new_per_ramp_month = target / q.ramp_months
    hours_available = q.staff_hours_per_week * WEEKS_PER_MONTH
    need_ramp = new_per_ramp_month * per_new_practice + (target / 2) * per_pm_practice
    need_steady = target * q.monthly_dropout * per_new_practice + target * per_pm_practice
    enroll_need = new_per_ramp_month * sum(work[f]["per_new"] for f in ENROLLMENT_FUNCTIONS if f in practice_fns)
    monthly_need = target * sum(work[f]["per_pm"] for f in MONTHLY_FUNCTIONS if f in practice_fns)
    execution = _execution_rate(q)
    leakage = _leakage(q)
    cost_per_hour = q.cost_per_hour
    partner_rate = q.pricing.partner_consistency
    if q.measured is not None and q.measured.by_party == PARTNER and q.measured.months >= 3:
        partner_rate = max(0.05, min(0.98, q.measured.billable_share))

    rng = random.Random(f"{q.seed}:{model.value}")  # noqa: S311 — a reproducible simulation, not a secret
    steady_from = min(q.ramp_months, q.months - 1)
    consistency_runs: list[float] = []
    worst_runs: list[float] = []
    revenue_runs: list[float] = []
    cost_runs: list[float] = []
    margin_runs: list[float] = []
    per_month: list[list[float]] = [[] for _ in range(q.months)]
    for _ in range(q.runs):
        enrolled = 0.0
        revenue = cost = 0.0
        shares: list[float] = []
        for month in range(q.months):
            # Practice hours this month: each staff member may be absent a week (8 % a week), and one week in
            # four on average is a busy week that takes half the CCM hours; leakage takes its steady share.
            hours = 0.0
            for s in q.staff:
                for _week in range(4):
                    h = s.hours_per_week * WEEKS_PER_MONTH / 4
                    if rng.random() < 0.08:
                        h = 0.0
                    elif rng.random() < 0.25:
                        h *= 0.5
                    hours += h
            hours = max(0.0, hours * (1 - leakage * rng.uniform(0.7, 1.3)))
            planned = min(float(target), target * (month + 1) / q.ramp_months)
            kept = enrolled * (1 - q.monthly_dropout)
            wanted_new = max(0.0, planned - kept)  # the plan for the month plus any shortfall so far
            # Enrollment comes first (a patient not enrolled cannot be served), then the monthly work.
            enroll_hours = wanted_new * per_new_practice
            if enrolls_practice:
                done = min(1.0, hours / enroll_hours) if enroll_hours else 1.0
                new = wanted_new * done * (0.8 + 0.2 * execution)
            else:
                new = wanted_new * max(0.0, min(1.0, rng.gauss(0.95, 0.05)))
            used = min(hours, new * per_new_practice)
            left = hours - used
            enrolled = min(float(target), kept + new)
            pm_hours = enrolled * per_pm_practice
            coverage = min(1.0, left / pm_hours) if pm_hours else 1.0
            used += min(left, pm_hours)
            if monthly_practice:
                rate = coverage * execution * rng.uniform(0.93, 1.07)
            else:
                rate = partner_rate * rng.gauss(1.0, 0.04)
                # In some hybrids the practice still owns part of the monthly chain (documentation, coordination);
                # work it cannot cover leaves months unbillable.
                if any(f in practice_fns for f in MONTHLY_FUNCTIONS):
                    rate *= min(1.0, coverage + 0.1) * (0.75 + 0.25 * min(1.0, execution / 0.9))
            rate = max(0.0, min(1.0, rate))
            billed = enrolled * rate
            revenue += billed * rev_per_billed
            cost += used * cost_per_hour + enrolled * fee
            # Consistency: patients billed against the program as planned, so a stalled enrollment counts too.
            share = billed / planned if planned else 0.0
            per_month[month].append(share)
            if month >= steady_from:
                shares.append(share)
        consistency_runs.append(statistics.fmean(shares))
        worst_runs.append(min(shares))
        revenue_runs.append(revenue)
        cost_runs.append(cost)
        margin_runs.append(revenue - cost)
    result = ModelResult(
        model=model,
        practice_functions=practice_fns,
        partner_functions=partner_fns,
        practice_hours_needed_steady=need_steady,
        practice_hours_needed_ramp=need_ramp,
        practice_hours_available=hours_available * (1 - leakage),
        enrollment_coverage=(hours_available * (1 - leakage) / enroll_need) if enroll_need else float("inf"),
        monthly_coverage=(hours_available * (1 - leakage) / monthly_need) if monthly_need else float("inf"),
        consistency=_distribution(consistency_runs),
        worst_month=_distribution(worst_runs),
        revenue=_money(revenue_runs),
        cost=_money(cost_runs),
        margin=_money(margin_runs),
        monthly_consistency_p50=[statistics.median(m) for m in per_month],
    )
    result.feasible = result.consistency.p10 >= q.target_consistency
    return result


def _money(values: list[float]) -> Distribution:
    lo, hi = min(values), max(values)
    width = (hi - lo) / 10 or 1.0
    edges = tuple(lo + width * i for i in range(1, 10))
    d = _distribution(values, bins=edges)
    return Distribution(round(d.p10, 2), round(d.p50, 2), round(d.p90, 2), d.histogram)


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"


def _money_str(x: float) -> str:
    return f"${x:,.0f}"


def _coverage_str(x: float) -> str:
    return "fully" if x == float("inf") else _pct(x)


def assess(q: Questionnaire) -> Assessment:
    rev = revenue_per_billed_month(q.year)
    results = {m: simulate(q, m, rev_per_billed=rev) for m in MODELS}
    inhouse = results[Preset.IN_HOUSE]
    hybrid = results[Preset.HYBRID_PARTNER_MONTHLY]
    per_week = WEEKS_PER_MONTH
    for r in results.values():
        if r.practice_functions and r.practice_hours_needed_steady > r.practice_hours_available:
            r.risks.append(
                f"Practice staff would need {r.practice_hours_needed_steady / per_week:.0f} h/week at full size but "
                f"have {r.practice_hours_available / per_week:.0f} h/week after other work takes its share."
            )
        if r.worst_month.p50 < q.target_consistency:
            r.risks.append(
                f"In a typical year the worst month bills only {_pct(r.worst_month.p50)} of the planned program "
                "(absences and busy weeks)."
            )
        if r.partner_functions and q.desire_for_control >= 4:
            r.risks.append("The practice wants to keep control; a partner runs part of the program day to day.")
        if r.margin.p10 < 0:
            r.risks.append(f"In the worst tenth of runs the program loses money ({_money_str(r.margin.p10)}).")

    feasible = [m for m in MODELS if results[m].feasible]
    if feasible:
        best = max(feasible, key=lambda m: results[m].margin.p50)
        # A practice that wants control takes the model where it owns more, if it costs little margin.
        if q.desire_for_control >= 4:
            for m in MODELS:  # ordered from most to least practice-owned
                if m in feasible and results[m].margin.p50 >= results[best].margin.p50 * 0.9:
                    best = m
                    break
    else:
        best = max(MODELS, key=lambda m: (results[m].consistency.p10, results[m].margin.p50))
    chosen = results[best]
    hours_week = q.staff_hours_per_week
    need_week = inhouse.practice_hours_needed_steady / per_week
    enrollment_ok = hybrid.enrollment_coverage >= 1
    monthly_ok = inhouse.monthly_coverage >= 1
    reasons: list[str] = []
    if best is Preset.IN_HOUSE:
        reasons.append(
            f"Your staff's {hours_week:.0f} h/week cover the {need_week:.0f} h/week a program of "
            f"{q.target_enrolled} patients needs (monthly work covered {_coverage_str(inhouse.monthly_coverage)})."
        )
        driver = (
            f"Measured execution ({_pct(_execution_rate(q))} of enrolled patients billed)"
            if _measured_practice(q)
            else f"Workflow discipline {q.discipline.mean:.1f}/5"
        )
        reasons.append(
            f"{driver} keeps execution steady: {_pct(inhouse.consistency.p50)} of the planned program billed in a "
            f"typical month, {_pct(inhouse.consistency.p10)} in the worst tenth of years (target "
            f"{_pct(q.target_consistency)})."
        )
    else:
        if hours_week == 0:
            reasons.append(
                "No staff hours are available for CCM, so every function other than clinical oversight has to be "
                "run by a partner."
            )
        elif not enrollment_ok:
            reasons.append(
                f"Your staff's {hours_week:.0f} h/week cover only {_coverage_str(hybrid.enrollment_coverage)} of "
                "the enrollment work during the ramp, so even enrolling in-house would stall."
            )
        elif not monthly_ok:
            reasons.append(
                f"Your staff's {hours_week:.0f} h/week cover the enrollment work "
                f"({_coverage_str(hybrid.enrollment_coverage)} of what the ramp needs) but not the monthly "
                f"follow-up: in-house the program needs {need_week:.0f} h/week and they would cover "
                f"{_coverage_str(inhouse.monthly_coverage)} of its monthly work."
            )
        else:
            reasons.append(
                f"Your staff's {hours_week:.0f} h/week would cover the work, but in-house execution bills only "
                f"{_pct(inhouse.consistency.p10)} of the planned program in the worst tenth of years "
                f"(target {_pct(q.target_consistency)})"
                + (
                    f", at the measured rate of {_pct(_execution_rate(q))}."
                    if _measured_practice(q)
                    else f", with workflow discipline at {q.discipline.mean:.1f}/5."
                )
            )
        reasons.append(
            f"With the partner running {', '.join(f.label.lower() for f in chosen.partner_functions)}, "
            f"{_pct(chosen.consistency.p50)} of the planned program is billed in a typical month "
            f"({_pct(chosen.consistency.p10)} in the worst tenth of years)."
        )
    others = [m for m in feasible if m is not best]
    if feasible and others:
        runner = max(others, key=lambda m: results[m].margin.p50)
        if results[runner].margin.p50 > chosen.margin.p50:
            reasons.append(
                f"You want to keep control (desire {q.desire_for_control}/5): {runner.label.lower()} earns "
                f"{_money_str(results[runner].margin.p50 - chosen.margin.p50)} more but leaves less to the practice."
            )
        else:
            reasons.append(
                f"Best median margin of the models that reach the target; next is {runner.label.lower()}, "
                f"{_money_str(chosen.margin.p50 - results[runner].margin.p50)} less over {q.months} months."
            )
    reasons.append(
        f"Projected margin over {q.months} months: {_money_str(chosen.margin.p50)} "
        f"(10–90 %: {_money_str(chosen.margin.p10)} to {_money_str(chosen.margin.p90)}), on revenue of "
        f"{_money_str(chosen.revenue.p50)}."
    )
    if q.measured is not None:
        reasons.append(
            f"Based on {q.measured.months} months of the practice's own figures: {q.measured.enrolled} enrolled, "
            f"{_pct(q.measured.billable_share)} of them billed in the latest months, monthly work by the "
            f"{q.measured.by_party}."
        )
    if not feasible:
        reasons.append(
            f"No model reaches the {_pct(q.target_consistency)} consistency target in nine years out of ten; "
            "this one comes closest."
        )

    alternatives: dict[Preset, str] = {}
    for m in MODELS:
        if m is best:
            continue
        r = results[m]
        if not r.feasible:
            alternatives[m] = (
                f"{_pct(r.consistency.p10)} of the planned program billed in the worst tenth of years, below the "
                f"{_pct(q.target_consistency)} target."
            )
        else:
            diff = chosen.margin.p50 - r.margin.p50
            alternatives[m] = (
                f"{_money_str(abs(diff))} {'less' if diff >= 0 else 'more'} margin over {q.months} months"
                + (", but the practice gives up more control." if diff < 0 else ".")
            )

    monitor = ["Share of enrolled patients billed each month (program health); drift is flagged automatically."]
    if chosen.practice_functions:
        monitor.append("Hours behind by staff member against the pro-rated monthly target.")
        monitor.append("Time captured live versus entered after the fact, and documentation completeness.")
    if chosen.partner_functions:
        monitor.append("The partner's figures separately from the practice's, against the contracted consistency.")
    if any(f in chosen.practice_functions for f in ENROLLMENT_FUNCTIONS):
        monitor.append("Enrollment funnel: candidates reached, consents, activations per month.")
    return Assessment(q, q.eligible, q.target_enrolled, rev, results, best, reasons, monitor, alternatives)
