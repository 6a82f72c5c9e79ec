"""Whether an initiating visit is required before services start, and from when minutes count
(R-INIT-1..3, R-INIT-5, R-INIT-6, R-APCM-4, R-TIME-7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmops.rules.calendar import MonthWindow, months_before
from ccmops.rules.contract import PatientMonth, VisitIn
from ccmops.rules.findings import Findings
from ccmops.rules.policies import Policies

QUALIFYING_KINDS = frozenset({"em", "awv", "ippe", "tcm"})
NON_QUALIFYING_EM = frozenset({"99211"})  # R-INIT-2: level 1 E/M does not qualify
NEW_PATIENT_EM = frozenset({"99202", "99203", "99204", "99205"})  # new-patient office visits (R-INIT-6)


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


def _makes_seen(v: VisitIn, policies: Policies) -> bool:
    """Whether a visit makes the patient "seen" for CCM/PCM: under the conservative reading a new patient's
    first visit does so only if it discussed care management (R-INIT-6); under the literal one any visit does."""
    new = v.new_patient or v.code in NEW_PATIENT_EM or v.kind == "ippe"
    return policies.initiating_visit_reading == "literal" or not new or v.care_management_discussed


def _known_professional_service(pm: PatientMonth, since: dt.date, before: dt.date) -> str | None:
    """APCM: the patient is established when the practitioner or the group furnished any professional service
    in the window — a visit of any kind or a known claim such as earlier CCM or PCM (R-APCM-4, R-INIT-5)."""
    bp = pm.billing_practitioner.id
    for v in pm.visits:
        if (v.practitioner_id == bp or v.same_group) and since <= v.date < before:
            return f"a visit on {v.date}"
    for s in pm.other_services:
        if (s.practitioner_id == bp or s.same_group) and since <= s.date < before:
            return f"{s.code} on {s.date}"
    return None


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
    if apcm:
        if _known_professional_service(pm, since, services_start):
            return Initiation(False, None, None, findings)
    else:
        seen = [
            v for v in pm.visits if _qualifies(v, bp) and since <= v.date < services_start and _makes_seen(v, policies)
        ]
        if seen:
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
            f" The visit on {undiscussed[0].date} did not discuss care management, so it cannot initiate it"
            + (
                " (a new patient's first visit, R-INIT-6)."
                if not apcm and not _makes_seen(undiscussed[0], policies)
                else "."
            )
            if undiscussed
            else ""
        )
        who = (
            "Neither the billing practitioner nor the group has furnished a professional service"
            if apcm
            else ("The billing practitioner has not seen the patient")
        )
        findings.refusal(
            f"{label}.INITIATING_VISIT.MISSING",
            f"{who} within {months} months before services began "
            f"({services_start}); an initiating visit (E/M level 2–5, AWV, IPPE or TCM face-to-face) that "
            f"discusses care management is required first.{detail}",
            *rules,
            "R-INIT-2",
            *(() if apcm else ("R-INIT-6",)),
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
    # A new patient's first visit that did not discuss care management does not make them "seen" (R-INIT-6).
    if any(
        since <= v.date < services_start and (v.code not in NEW_PATIENT_EM or v.care_management_discussed) for v in ok
    ):
        return False, None
    initiating = [v for v in ok if v.care_management_discussed and v.date >= since]
    return True, (min(initiating, key=lambda v: v.date) if initiating else None)
