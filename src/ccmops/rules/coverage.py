"""Covered and alive for the month (R-COV-1, R-COV-2): whether the month may be billed to the Medicare
administrative contractor at all. A document that states no coverage or death facts is decided without them."""

from __future__ import annotations

from ccmops.rules.calendar import MonthWindow
from ccmops.rules.contract import PatientMonth
from ccmops.rules.findings import Findings
from ccmops.rules.policies import Policies

PAYER_NAMES = {
    "part_b_ffs": "Medicare Part B fee-for-service",
    "medicare_advantage": "Medicare Advantage (Part C)",
    "part_a_only": "Medicare Part A only",
    "part_d": "Medicare Part D (drugs)",
    "medicaid": "Medicaid",
    "commercial": "commercial insurance",
    "other": "another payer",
    "none": "no insurance",
    "unknown": "coverage of unknown type",
}


def coverage_gate(pm: PatientMonth, window: MonthWindow, policies: Policies, f: Findings) -> bool:
    """True when the month may be billed to the MAC; every reason it may not is a finding."""
    ok = True
    died = pm.patient.deceased_on
    if died is not None and died < window.first_day:
        f.refusal(
            "PATIENT.DECEASED",
            f"The patient died on {died}, before this month: no service can be dated after a death.",
            "R-COV-2",
        )
        ok = False
    elif died is not None and window.contains_date(died):
        f.info(
            "PATIENT.DIED_THIS_MONTH",
            f"The patient died on {died}: minutes after that day are not counted and no date of service is later.",
            "R-COV-2",
            "R-CLM-DOS-2",
        )
    periods = pm.patient.coverage
    if periods is None:
        return ok
    first, last = window.first_day, window.last_day
    this_month = [c for c in periods if (c.start is None or c.start <= last) and (c.end is None or c.end >= first)]
    kinds = {c.kind for c in this_month}
    part_b = [c for c in this_month if c.kind == "part_b_ffs"]
    whole = [c for c in part_b if (c.start is None or c.start <= first) and (c.end is None or c.end >= last)]
    if "medicare_advantage" in kinds:
        f.refusal(
            "COVERAGE.MEDICARE_ADVANTAGE",
            "The patient is in a Medicare Advantage plan this month: its claims go to the plan, not to the Medicare "
            "contractor (which returns them with CARC 24). Bill the plan under its own rules.",
            "R-COV-1",
        )
        return False
    if not part_b:
        known = sorted(k for k in kinds if k != "unknown")
        if known:
            f.refusal(
                "COVERAGE.NO_PART_B",
                f"No Medicare Part B fee-for-service coverage this month (on file: "
                f"{', '.join(PAYER_NAMES[k] for k in known)}): nothing is billable to Medicare.",
                "R-COV-1",
            )
            return False
        return (
            _unknown(f, policies, "No coverage on file says whether the patient has Part B fee-for-service this month.")
            and ok
        )
    if any(c.medicare_secondary for c in part_b):
        f.hold(
            "COVERAGE.MEDICARE_SECONDARY",
            "Medicare is the secondary payer this month: the claim goes to the primary payer first.",
            "R-COV-1",
        )
    if not whole:
        return (
            _unknown(
                f,
                policies,
                "Part B fee-for-service covers only part of this month; check eligibility for the whole month.",
            )
            and ok
        )
    return ok


def _unknown(f: Findings, policies: Policies, message: str) -> bool:
    if policies.unknown_coverage == "hold":
        f.hold("COVERAGE.UNKNOWN", f"{message} Verify eligibility before billing (policy).", "R-COV-1")
    else:
        f.warning("COVERAGE.UNKNOWN", f"{message} Decided as covered (policy).", "R-COV-1")
    return True
