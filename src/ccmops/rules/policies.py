"""Named policies for every point cms-rules.md marks UNCONFIRMED or ENGINE POLICY.

Each has a documented default; a practice can override it, and so can one evaluation (the `policy` object of
the patient-month contract). `docs/rules-engine.md` lists them; a test keeps that list and this one equal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PolicySpec:
    name: str
    default: Any
    kind: type
    rules: tuple[str, ...]
    description: str
    choices: tuple[str, ...] = ()


SPECS: tuple[PolicySpec, ...] = (
    PolicySpec(
        "complex_ccm_care_plan_event",
        "establishment_or_revision",
        str,
        ("R-CCM-6", "R-ELIG-2"),
        "What complex CCM (99487/99489) needs of the care plan this month: a documented establishment or any "
        "revision (default), only a substantial revision, or nothing beyond a plan on file.",
        ("establishment_or_revision", "substantial_revision", "none"),
    ),
    PolicySpec(
        "cap_99439",
        2,
        int,
        ("R-CCM-2",),
        "Most 99439 units per month (CMS frequency limit two; policy for safety).",
    ),
    PolicySpec("cap_99437", 0, int, ("R-CCM-3",), "Most 99437 units per month; 0 means no cap (none found)."),
    PolicySpec("cap_99489", 0, int, ("R-CCM-5",), "Most 99489 units per month; 0 means no cap (none found)."),
    PolicySpec("cap_99425", 2, int, ("R-PCM-2",), "Most 99425 units per month until an MUE table is checked."),
    PolicySpec("cap_99427", 2, int, ("R-PCM-2",), "Most 99427 units per month until an MUE table is checked."),
    PolicySpec(
        "date_of_service",
        "threshold_reached",
        str,
        ("R-CLM-DOS-1", "R-CLM-DOS-2"),
        "Date of service on every line: the local date the last billed unit's threshold was reached "
        "(default; APCM uses the last day of the month), or the last day of the month.",
        ("threshold_reached", "last_day_of_month"),
    ),
    PolicySpec(
        "g0511_last_payable_date",
        "2025-09-30",
        str,
        ("R-RHC-1",),
        "Last date of service on which RHC/FQHC G0511 is still payable in the 2025 transition (sources say "
        "2025-06-30 or 2025-09-30).",
    ),
    PolicySpec(
        "initiating_visit_months_ccm_pcm",
        12,
        int,
        ("R-INIT-1",),
        "CCM/PCM: an initiating visit is required unless the billing practitioner saw the patient within this "
        "many months before services start.",
    ),
    PolicySpec(
        "initiating_visit_months_apcm",
        36,
        int,
        ("R-INIT-5", "R-APCM-4"),
        "APCM: the same window, three years by default.",
    ),
    PolicySpec(
        "apcm_recent_care_management_waives_visit",
        False,
        bool,
        ("R-APCM-4",),
        "Whether care management received in the prior 12 months waives the APCM initiating visit "
        "(UNCONFIRMED; off by default).",
    ),
    PolicySpec(
        "other_practitioner_time_counts_as_staff",
        True,
        bool,
        ("R-TIME-3",),
        "Time of another practitioner of the practice working under the billing practitioner's direction "
        "counts as clinical staff time (never as the billing practitioner's personal time).",
    ),
    PolicySpec(
        "simultaneous_staff_count_once",
        True,
        bool,
        ("R-TIME-9",),
        "Overlapping minutes of two staff members on the same patient count once.",
    ),
    PolicySpec(
        "facility_stay_whole_days",
        True,
        bool,
        ("R-TIME-6",),
        "Exclude whole local days from admission through discharge (stays are known by date only).",
    ),
    PolicySpec(
        "block_same_practitioner_care_plan_oversight",
        True,
        bool,
        ("R-TIME-5",),
        "Refuse CCM when the same practitioner bills G0181/G0182 care-plan oversight in the month.",
    ),
    PolicySpec(
        "block_same_practitioner_esrd",
        True,
        bool,
        ("R-TIME-5",),
        "Refuse CCM when the same practitioner bills ESRD monthly services 90951–90970 in the month.",
    ),
    PolicySpec(
        "hold_ccm_in_other_practitioner_apcm_month",
        True,
        bool,
        ("R-APCM-6",),
        "Hold CCM/PCM for review when another practitioner bills APCM for the month (UNCONFIRMED).",
    ),
    PolicySpec(
        "ccm_consent_covers_apcm",
        False,
        bool,
        ("R-CONS-6",),
        "Whether a CCM consent also covers APCM (off by default: APCM needs its own consent).",
    ),
    PolicySpec(
        "apcm_behavioral_health_addon",
        "general_bhi",
        str,
        ("R-2026-1",),
        "Which 2026 APCM behavioral-health add-on BHI time supports: general BHI (G0570) or psychiatric "
        "collaborative care (G0568 in the first month of BHI consent, G0569 after).",
        ("general_bhi", "cocm"),
    ),
    PolicySpec(
        "apcm_bhi_minimum_minutes",
        20,
        int,
        ("R-2026-1",),
        "Counted BHI minutes in the month before an APCM behavioral-health add-on is proposed (the descriptor "
        "has no minutes; 20 mirrors 99484).",
    ),
    PolicySpec(
        "minimum_diagnoses_ccm",
        2,
        int,
        ("R-CLM-FORM-1",),
        "Chronic-condition diagnoses listed on a CCM/APCM level 2–3 claim at least.",
    ),
)

_BY_NAME = {s.name: s for s in SPECS}


def spec_named(name: str) -> PolicySpec | None:
    """The policy of that name (None for an unknown one)."""
    return _BY_NAME.get(name)


@dataclass(frozen=True)
class Policies:
    complex_ccm_care_plan_event: str = "establishment_or_revision"
    cap_99439: int = 2
    cap_99437: int = 0
    cap_99489: int = 0
    cap_99425: int = 2
    cap_99427: int = 2
    date_of_service: str = "threshold_reached"
    g0511_last_payable_date: str = "2025-09-30"
    initiating_visit_months_ccm_pcm: int = 12
    initiating_visit_months_apcm: int = 36
    apcm_recent_care_management_waives_visit: bool = False
    other_practitioner_time_counts_as_staff: bool = True
    simultaneous_staff_count_once: bool = True
    facility_stay_whole_days: bool = True
    block_same_practitioner_care_plan_oversight: bool = True
    block_same_practitioner_esrd: bool = True
    hold_ccm_in_other_practitioner_apcm_month: bool = True
    ccm_consent_covers_apcm: bool = False
    apcm_behavioral_health_addon: str = "general_bhi"
    apcm_bhi_minimum_minutes: int = 20
    minimum_diagnoses_ccm: int = 2

    @property
    def g0511_last_payable(self) -> dt.date:
        return dt.date.fromisoformat(self.g0511_last_payable_date)

    def cap(self, code: str) -> int | None:
        """Unit cap for an add-on code under these policies; None when uncapped."""
        value = getattr(self, f"cap_{code}", None)
        return value or None

    def with_overrides(self, overrides: Mapping[str, Any], path: str = "$.policy") -> Policies:
        """A copy with named policies overridden.

        Raises:
            PolicyError: an unknown name or a value of the wrong type or choice, naming its JSON path.
        """
        changes = {}
        for name, value in overrides.items():
            spec = _BY_NAME.get(name)
            where = f"{path}.{name}"
            if spec is None:
                raise PolicyError(where, f"unknown policy; expected one of {', '.join(sorted(_BY_NAME))}")
            if spec.kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PolicyError(where, "expected a whole number ≥ 0")
            if spec.kind is bool and not isinstance(value, bool):
                raise PolicyError(where, "expected true or false")
            if spec.kind is str and not isinstance(value, str):
                raise PolicyError(where, "expected a string")
            if spec.choices and value not in spec.choices:
                raise PolicyError(where, f"expected one of {', '.join(spec.choices)}")
            if name == "g0511_last_payable_date":
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise PolicyError(where, "expected a date YYYY-MM-DD") from None
            changes[name] = value
        return dataclasses.replace(self, **changes)


class PolicyError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


DEFAULT_POLICIES = Policies()
assert {f.name for f in dataclasses.fields(Policies)} == set(_BY_NAME)
assert all(getattr(DEFAULT_POLICIES, s.name) == s.default for s in SPECS)
