"""Consent in force for each program (R-CONS-1..3, R-CONS-6, R-CONS-7, R-TIME-7)."""

from __future__ import annotations

from dataclasses import dataclass

from ccmops.rules.calendar import MonthWindow, month_window
from ccmops.rules.contract import ConsentIn, PatientMonth
from ccmops.rules.findings import Findings
from ccmops.rules.policies import Policies
from ccmops.rules.timecount import FAR_FUTURE, Interval

REQUIRED_ELEMENTS = ("cost_sharing", "one_practitioner_per_month", "right_to_stop")
# BHI and CoCM consent also records permission to consult relevant specialists (R-CONS-7).
PROGRAM_ELEMENTS = {"bhi": (*REQUIRED_ELEMENTS, "specialist_consultation")}
PROGRAM_NAMES = {"ccm": "CCM", "pcm": "PCM", "apcm": "APCM", "bhi": "BHI"}


@dataclass(frozen=True)
class ConsentState:
    program: str
    intervals: tuple[Interval, ...]  # UTC intervals when a valid consent covers services
    first_documented: object  # datetime of the earliest valid consent, or None
    findings: Findings

    def covers_month(self, window: MonthWindow) -> bool:
        return any(a < window.end and b > window.start for a, b in self.intervals)


def _until(consent: ConsentIn, zone: str):
    """A revocation takes effect at the end of the calendar month it is made in (R-CONS-2)."""
    if consent.revoked_at is None:
        return FAR_FUTURE
    local = consent.revoked_at.astimezone(month_window("2000-01", zone).zone)
    return month_window(f"{local.year:04d}-{local.month:02d}", zone).end


def consent_state(pm: PatientMonth, program: str, window: MonthWindow, policies: Policies) -> ConsentState:
    findings = Findings()
    name = PROGRAM_NAMES[program]
    programs = {program}  # a CCM consent never covers APCM (R-CONS-6)
    code = f"{program.upper()}.CONSENT"
    rules = {"apcm": ("R-CONS-6",), "bhi": ("R-CONS-7",)}.get(program, ("R-CONS-1", "R-CONS-2"))
    required = PROGRAM_ELEMENTS.get(program, REQUIRED_ELEMENTS)
    zone = pm.practice.timezone
    mine = [c for c in pm.consents if c.program in programs and c.practitioner_id == pm.billing_practitioner.id]
    intervals: list[Interval] = []
    for c in mine:
        missing = [e for e in required if e not in c.elements]
        if missing:
            findings.refusal(
                f"{code}.INCOMPLETE",
                f"The {name} consent documented {c.documented_at.date()} does not record that the patient was "
                f"told: {', '.join(m.replace('_', ' ') for m in missing)}.",
                *rules,
            )
            continue
        intervals.append((c.documented_at, _until(c, zone)))
    valid = [i for i in intervals if i[0] < window.end]
    if not valid:
        others = [c for c in pm.consents if c.program in programs and c.practitioner_id != pm.billing_practitioner.id]
        if others:
            findings.refusal(
                f"{code}.OTHER_PRACTITIONER",
                f"The {name} consent on file names practitioner {others[0].practitioner_id}; a change of billing "
                "practitioner needs a new consent obtained by the new practitioner.",
                "R-CONS-3",
            )
        elif not mine and program == "apcm" and any(c.program == "ccm" for c in pm.consents):
            findings.refusal(
                f"{code}.MISSING",
                "No documented APCM consent with this practitioner; the CCM consent on file does not cover APCM, "
                "so a patient moving from CCM to APCM gives a new consent.",
                "R-CONS-6",
            )
        elif not mine:
            findings.refusal(f"{code}.MISSING", f"No documented {name} consent with this practitioner.", *rules)
    elif not any(b > window.start for a, b in valid):
        findings.refusal(
            f"{code}.REVOKED",
            f"The patient stopped {name} before this month (revocation effective at the end of its month).",
            "R-CONS-2",
        )
    for c in mine:
        if c.revoked_at is not None and window.start <= _until(c, zone) <= window.end and c.revoked_at < window.end:
            findings.info(
                f"{code}.REVOKED_THIS_MONTH",
                f"The patient stopped {name} on {c.revoked_at.date()}; the revocation takes effect at the end of "
                "this month, so this month is still billable and no later month is.",
                "R-CONS-2",
            )
    firsts = sorted(a for a, _ in valid)
    return ConsentState(program, tuple(valid), firsts[0] if firsts else None, findings)
