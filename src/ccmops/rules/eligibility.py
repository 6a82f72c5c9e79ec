"""Eligibility screening for CCM, PCM and APCM from registry facts (R-ELIG-1..4, R-INIT-1, R-INIT-5). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from ccmops.rules.calendar import months_before
from ccmops.rules.conditions import Classification, condition_name

MEDICARE = frozenset({"medicare", "dual_eligible"})
OPEN_STATUSES = frozenset({"candidate", "outreach"})
ENROLLED_NOW = frozenset({"consented", "active", "paused"})  # enrolled today: not a candidate


@dataclass(frozen=True)
class PatientFacts:
    birth_date: dt.date
    deceased_on: dt.date | None
    payer: str  # medicare | dual_eligible | medicaid | private | none | "" (unknown)
    conditions: Classification
    last_visit: dt.date | None  # last ambulatory face-to-face visit with the practice
    enrollment: dict[str, str] = field(default_factory=dict)  # program -> enrollment status


class Reason(NamedTuple):  # a tuple: hashed and compared in C, as screening a registry looks each one up often
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


@lru_cache(maxsize=8192)
def _names(chronic: frozenset[str]) -> tuple[str, ...]:
    """The names of the qualifying conditions, in the order of their keys (one name per condition)."""
    return tuple(condition_name(c) for c in sorted(chronic))


def screen(facts: PatientFacts, program: str, on: dt.date) -> Screening:
    """Screen one patient for one program on a date; every reason that applies is listed (coverage and life,
    conditions, unclassified codes, the initiating visit, enrollment — in that order). Each part is decided by
    a memoized function of only the facts it reads: a population shares most of them, so screening a registry
    decides each distinct part once."""
    names = _names(facts.conditions.chronic)
    head, blocking, review = _standing(program, facts.deceased_on, facts.payer, names, facts.conditions.unclassified)
    visit, needs_visit = _visit(program, facts.last_visit, on)
    status = "not_eligible" if blocking else ("review" if review else "eligible")
    enrollment = facts.enrollment.get(program)
    if not enrollment:
        return Screening(program, status, head + visit, names, needs_visit)
    status = _ENROLLMENT_STATUS.get(enrollment, status)
    return Screening(program, status, head + visit + _enrollment(enrollment), names, needs_visit)


_ENROLLMENT_STATUS = {
    **dict.fromkeys(ENROLLED_NOW, "enrolled"),
    "declined": "declined",
    "enrolled_elsewhere": "enrolled_elsewhere",
}


@lru_cache(maxsize=65536)
def _standing(
    program: str, deceased_on: dt.date | None, payer: str, names: tuple[str, ...], unclassified: tuple[str, ...]
) -> tuple[tuple[Reason, ...], bool, bool]:
    """The reasons from life, coverage and conditions, and whether they block (not eligible) or ask for review."""
    reasons: list[Reason] = []
    blocking = False
    review = False
    if deceased_on is not None:
        reasons.append(Reason("DECEASED", f"Deceased on {deceased_on}.", ()))
        blocking = True
    if payer in MEDICARE:
        reasons.append(Reason("MEDICARE", f"Medicare coverage ({payer.replace('_', ' ')}).", ("R-ELIG-4",)))
    elif payer:
        reasons.append(Reason("NOT_MEDICARE", f"Not covered by Traditional Medicare (payer: {payer}).", ()))
        blocking = True
    else:
        reasons.append(Reason("COVERAGE_UNKNOWN", "Medicare coverage unknown: verify eligibility before outreach.", ()))
        review = True
    if program == "ccm":
        if len(names) >= 2:
            reasons.append(Reason("CONDITIONS", f"{len(names)} chronic conditions: {', '.join(names)}.", ("R-ELIG-1",)))
        else:
            what = ", ".join(names) if names else "none"
            reasons.append(
                Reason("TOO_FEW_CONDITIONS", f"CCM needs two or more chronic conditions; found {what}.", ("R-ELIG-1",))
            )
            blocking = True
    elif program == "pcm":
        if names:
            reasons.append(Reason("CONDITIONS", f"Qualifying condition(s): {', '.join(names)}.", ("R-ELIG-3",)))
        else:
            reasons.append(
                Reason("NO_CONDITION", "PCM needs one high-risk chronic condition; none found.", ("R-ELIG-3",))
            )
            blocking = True
    else:
        level = "G0556" if len(names) <= 1 else "G0557/G0558"
        reasons.append(Reason("APCM_LEVEL", f"{len(names)} chronic condition(s): APCM level {level}.", ("R-APCM-1",)))
    if unclassified:
        reasons.append(
            Reason(
                "UNCLASSIFIED",
                f"Codes not on the chronic-condition lists: {', '.join(unclassified[:8])}.",
                ("R-ELIG-1",),
            )
        )
    return tuple(reasons), blocking, review


@lru_cache(maxsize=65536)
def _visit(program: str, last_visit: dt.date | None, on: dt.date) -> tuple[tuple[Reason, ...], bool]:
    """The initiating-visit reason (R-INIT-1; APCM R-INIT-5 looks back three years) and whether one is needed."""
    window = 36 if program == "apcm" else 12
    rules = ("R-INIT-5",) if program == "apcm" else ("R-INIT-1",)
    if last_visit is None or last_visit < months_before(on, window):
        when = f"last seen {last_visit}" if last_visit else "no visit on record"
        return (Reason("INITIATING_VISIT", f"Needs an initiating visit before services start ({when}).", rules),), True
    return (Reason("SEEN_RECENTLY", f"Seen {last_visit}: no initiating visit needed.", rules),), False


@lru_cache(maxsize=64)
def _enrollment(enrollment: str) -> tuple[Reason, ...]:
    if enrollment in OPEN_STATUSES:
        return ()
    return (Reason("ENROLLMENT", f"Enrollment status: {enrollment.replace('_', ' ')}.", ()),)
