"""Program functions, the operating-model presets and how to read the matrix in force on a date (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Function(StrEnum):
    """A program function that some party owns in a practice's responsibility matrix."""

    IDENTIFICATION = "identification"
    ENROLLMENT_CONSENT = "enrollment_consent"
    CARE_PLANNING = "care_planning"
    MONTHLY_OUTREACH = "monthly_outreach"
    CARE_COORDINATION = "care_coordination"
    TIME_TRACKING = "time_tracking"
    DOCUMENTATION = "documentation"
    BILLING = "billing"
    CLINICAL_OVERSIGHT = "clinical_oversight"

    @property
    def label(self) -> str:
        return FUNCTION_LABELS[self]


FUNCTION_LABELS = {
    Function.IDENTIFICATION: "Identification of eligible patients",
    Function.ENROLLMENT_CONSENT: "Enrollment and consent",
    Function.CARE_PLANNING: "Care planning",
    Function.MONTHLY_OUTREACH: "Monthly outreach",
    Function.CARE_COORDINATION: "Care coordination",
    Function.TIME_TRACKING: "Time tracking",
    Function.DOCUMENTATION: "Documentation",
    Function.BILLING: "Billing",
    Function.CLINICAL_OVERSIGHT: "Clinical oversight",
}

PRACTICE = "practice"
PARTNER = "partner"


class Preset(StrEnum):
    """Named operating models; each is just a way to fill the matrix."""

    IN_HOUSE = "in_house"
    MANAGED = "managed"
    HYBRID_PARTNER_MONTHLY = "hybrid_partner_monthly"
    HYBRID_PARTNER_OUTREACH = "hybrid_partner_outreach"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return PRESET_LABELS[self]


PRESET_LABELS = {
    Preset.IN_HOUSE: "In-house",
    Preset.MANAGED: "Managed by a partner",
    Preset.HYBRID_PARTNER_MONTHLY: "Hybrid: practice enrolls, partner runs the monthly work",
    Preset.HYBRID_PARTNER_OUTREACH: "Hybrid: partner does outreach, practice documents and coordinates",
    Preset.CUSTOM: "Custom",
}

_P, _X = PRACTICE, PARTNER
# Which party owns each function under each preset. Clinical oversight is always the practice's.
PRESETS: dict[Preset, dict[Function, str]] = {
    Preset.IN_HOUSE: dict.fromkeys(Function, _P),
    Preset.MANAGED: {**dict.fromkeys(Function, _X), Function.CLINICAL_OVERSIGHT: _P},
    Preset.HYBRID_PARTNER_MONTHLY: {
        Function.IDENTIFICATION: _P,
        Function.ENROLLMENT_CONSENT: _P,
        Function.CARE_PLANNING: _P,
        Function.MONTHLY_OUTREACH: _X,
        Function.CARE_COORDINATION: _X,
        Function.TIME_TRACKING: _X,
        Function.DOCUMENTATION: _X,
        Function.BILLING: _P,
        Function.CLINICAL_OVERSIGHT: _P,
    },
    Preset.HYBRID_PARTNER_OUTREACH: {
        **dict.fromkeys(Function, _P),
        Function.MONTHLY_OUTREACH: _X,
        Function.ENROLLMENT_CONSENT: _X,
    },
}


def preset_parties(preset: Preset) -> dict[Function, str]:
    """Party (`practice` or `partner`) owning each function under a preset; CUSTOM has no fixed answer."""
    if preset is Preset.CUSTOM:
        raise ValueError("the custom preset has no fixed assignment")
    return dict(PRESETS[preset])


def needs_partner(parties: Mapping[Function, str]) -> bool:
    return any(party == PARTNER for party in parties.values())


def classify(parties: Mapping[Function, str]) -> Preset:
    """The preset a complete assignment matches, or CUSTOM."""
    for preset, table in PRESETS.items():
        if all(parties.get(f) == table[f] for f in Function):
            return preset
    return Preset.CUSTOM


def check_assignment(parties: Mapping[Function, str]) -> list[str]:
    """Problems with a proposed assignment: every function owned, clinical oversight kept by the practice."""
    problems = [f"{f.label}: no owner" for f in Function if parties.get(f) not in (PRACTICE, PARTNER)]
    if parties.get(Function.CLINICAL_OVERSIGHT) == PARTNER:
        problems.append("Clinical oversight: always stays with the practice")
    return problems


@dataclass(frozen=True)
class MatrixVersion:
    """One version of a practice's matrix: who owns each function from `effective_from` on."""

    practice_id: int
    version: int
    effective_from: dt.date
    owners: Mapping[Function, int]  # function -> owning organization id


def matrix_in_force(versions: Iterable[MatrixVersion], on: dt.date) -> MatrixVersion | None:
    """The version in force on a date: latest effective date not after it; ties go to the later version."""
    candidates = [v for v in versions if v.effective_from <= on]
    if not candidates:
        return None
    return max(candidates, key=lambda v: (v.effective_from, v.version))
