"""Eligibility screening for CCM, PCM and APCM from registry facts (R-ELIG-1..4, R-INIT-1, R-INIT-5). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from ccmops.rules.calendar import months_before
from ccmops.rules.conditions import Classification, condition_name

MEDICARE = frozenset({"medicare", "dual_eligible"})
OPEN_STATUSES = frozenset({"candidate", "outreach"})
ENROLLED = frozenset({"consented", "active", "paused"})


@dataclass(frozen=True)
class PatientFacts:
    birth_date: dt.date
    deceased_on: dt.date | None
    payer: str  # medicare | dual_eligible | medicaid | private | none | "" (unknown)
    conditions: Classification
    last_visit: dt.date | None  # last ambulatory face-to-face visit with the practice
    enrollment: dict[str, str] = field(default_factory=dict)  # program -> enrollment status


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Screening:
    program: str
    status: str  # eligible | review | not_eligible | enrolled | declined | enrolled_elsewhere
    reasons: tuple[Reason, ...]
    qualifying: tuple[str, ...]  # names of the qualifying chronic conditions
    initiating_visit_needed: bool


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@lru_cache(maxsize=8192)
def _names(chronic: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ordered = tuple(sorted(chronic))
    return ordered, tuple(condition_name(c) for c in ordered)


_months_before = lru_cache(maxsize=256)(months_before)


def screen(facts: PatientFacts, program: str, on: dt.date) -> Screening:
    """Screen one patient for one program on a date; every reason that applies is listed."""
    reasons: list[Reason] = []
    blocking = False
    review = False
    chronic, names = _names(facts.conditions.chronic)
    window = 36 if program == "apcm" else 12
    needs_visit = facts.last_visit is None or facts.last_visit < _months_before(on, window)

    if facts.deceased_on is not None:
        reasons.append(Reason("DECEASED", f"Deceased on {facts.deceased_on}.", ()))
        blocking = True
    if facts.payer in MEDICARE:
        reasons.append(Reason("MEDICARE", f"Medicare coverage ({facts.payer.replace('_', ' ')}).", ("R-ELIG-4",)))
    elif facts.payer:
        reasons.append(Reason("NOT_MEDICARE", f"Not covered by Traditional Medicare (payer: {facts.payer}).", ()))
        blocking = True
    else:
        reasons.append(Reason("COVERAGE_UNKNOWN", "Medicare coverage unknown: verify eligibility before outreach.", ()))
        review = True
    if program == "ccm":
        if len(chronic) >= 2:
            reasons.append(
                Reason("CONDITIONS", f"{len(chronic)} chronic conditions: {', '.join(names)}.", ("R-ELIG-1",))
            )
        else:
            what = ", ".join(names) if names else "none"
            reasons.append(
                Reason("TOO_FEW_CONDITIONS", f"CCM needs two or more chronic conditions; found {what}.", ("R-ELIG-1",))
            )
            blocking = True
    elif program == "pcm":
        if chronic:
            reasons.append(Reason("CONDITIONS", f"Qualifying condition(s): {', '.join(names)}.", ("R-ELIG-3",)))
        else:
            reasons.append(
                Reason("NO_CONDITION", "PCM needs one high-risk chronic condition; none found.", ("R-ELIG-3",))
            )
            blocking = True
    else:
        level = "G0556" if len(chronic) <= 1 else "G0557/G0558"
        reasons.append(Reason("APCM_LEVEL", f"{len(chronic)} chronic condition(s): APCM level {level}.", ("R-APCM-1",)))
    if facts.conditions.unclassified:
        reasons.append(
            Reason(
                "UNCLASSIFIED",
                f"Codes not on the chronic-condition lists: {', '.join(facts.conditions.unclassified[:8])}.",
                ("R-ELIG-1",),
            )
        )
    if needs_visit:
        when = f"last seen {facts.last_visit}" if facts.last_visit else "no visit on record"
        reasons.append(
            Reason(
                "INITIATING_VISIT",
                f"Needs an initiating visit before services start ({when}).",
                ("R-INIT-5",) if program == "apcm" else ("R-INIT-1",),
            )
        )
    elif facts.last_visit:
        reasons.append(
            Reason(
                "SEEN_RECENTLY",
                f"Seen {facts.last_visit}: no initiating visit needed.",
                ("R-INIT-5",) if program == "apcm" else ("R-INIT-1",),
            )
        )
    status = "not_eligible" if blocking else ("review" if review else "eligible")
    enrollment = facts.enrollment.get(program)
    if enrollment in ENROLLED:
        status = "enrolled"
    elif enrollment == "declined":
        status = "declined"
    elif enrollment == "enrolled_elsewhere":
        status = "enrolled_elsewhere"
    if enrollment and enrollment not in OPEN_STATUSES:
        reasons.append(Reason("ENROLLMENT", f"Enrollment status: {enrollment.replace('_', ' ')}.", ()))
    return Screening(program, status, tuple(reasons), names, needs_visit)
