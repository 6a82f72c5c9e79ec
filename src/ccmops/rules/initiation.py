"""Whether an initiating visit is required before services start, and from when minutes count
(R-INIT-1..3, R-INIT-5, R-APCM-4, R-TIME-7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmops.rules.calendar import MonthWindow, months_before
from ccmops.rules.contract import PatientMonth, VisitIn
from ccmops.rules.findings import Findings
from ccmops.rules.policies import Policies

QUALIFYING_KINDS = frozenset({"em", "awv", "ippe", "tcm"})
NON_QUALIFYING_EM = frozenset({"99211"})  # R-INIT-2: level 1 E/M does not qualify


@dataclass(frozen=True)
class Initiation:
    required: bool
    visit: VisitIn | None
    counts_from: dt.datetime | None  # instant from which minutes count; None when not required
    findings: Findings

    @property
    def satisfied(self) -> bool:
        return not self.required or self.visit is not None


def _qualifies(v: VisitIn, practitioner_id: str) -> bool:
    return v.practitioner_id == practitioner_id and v.kind in QUALIFYING_KINDS and v.code not in NON_QUALIFYING_EM


def initiation(
    pm: PatientMonth, program: str, window: MonthWindow, policies: Policies, services_start: dt.date
) -> Initiation:
    """Evaluate the initiating-visit rule for a program whose services started on `services_start`."""
    findings = Findings()
    apcm = program == "apcm"
    months = policies.initiating_visit_months_apcm if apcm else policies.initiating_visit_months_ccm_pcm
    rules = ("R-INIT-5", "R-APCM-4") if apcm else ("R-INIT-1", "R-INIT-3")
    bp = pm.billing_practitioner.id
    since = months_before(services_start, months)
    seen = [v for v in pm.visits if _qualifies(v, bp) and since <= v.date < services_start]
    if seen:
        return Initiation(False, None, None, findings)
    if apcm and policies.apcm_recent_care_management_waives_visit:
        prior = [
            c
            for c in pm.consents
            if c.program in ("ccm", "pcm") and c.practitioner_id == bp and c.documented_at.date() >= since
        ]
        if prior:
            findings.info(
                "APCM.INITIATING_VISIT.WAIVED",
                "No visit in three years, but care management in the prior 12 months waives it (policy).",
                "R-APCM-4",
            )
            return Initiation(False, None, None, findings)
    candidates = [
        v for v in pm.visits if _qualifies(v, bp) and v.care_management_discussed and since <= v.date <= window.last_day
    ]
    label = program.upper()
    if not candidates:
        undiscussed = [
            v for v in pm.visits if _qualifies(v, bp) and not v.care_management_discussed and v.date >= since
        ]
        detail = (
            f" The visit on {undiscussed[0].date} did not discuss care management, so it cannot initiate it."
            if undiscussed
            else ""
        )
        findings.refusal(
            f"{label}.INITIATING_VISIT.MISSING",
            f"The billing practitioner has not seen the patient within {months} months before services began "
            f"({services_start}); an initiating visit (E/M level 2–5, AWV, IPPE or TCM face-to-face) that "
            f"discusses care management is required first.{detail}",
            *rules,
            "R-INIT-2",
        )
        return Initiation(True, None, None, findings)
    visit = min(candidates, key=lambda v: v.date)
    return Initiation(True, visit, window.day_start(visit.date), findings)


@dataclass(frozen=True)
class VisitFact:
    date: dt.date
    kind: str
    code: str
    practitioner_id: str
    care_management_discussed: bool


def initiating_visit_status(
    visits: list[VisitFact], practitioner_id: str, services_start: dt.date, *, months: int
) -> tuple[bool, VisitFact | None]:
    """(required, the visit that satisfies it) for a practitioner whose services start on `services_start`:
    required when the practitioner has not seen the patient within `months` before (R-INIT-1, R-INIT-5); then
    a qualifying visit that discussed care management initiates it (R-INIT-2, R-INIT-3)."""
    since = months_before(services_start, months)
    ok = [
        v
        for v in visits
        if v.practitioner_id == practitioner_id and v.kind in QUALIFYING_KINDS and v.code not in NON_QUALIFYING_EM
    ]
    if any(since <= v.date < services_start for v in ok):
        return False, None
    initiating = [v for v in ok if v.care_management_discussed and v.date >= since]
    return True, (min(initiating, key=lambda v: v.date) if initiating else None)
