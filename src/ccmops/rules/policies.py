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
    maximum: int | None = None  # a Medicare limit: a practice may lower it, never raise it


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
        ("R-CCM-2", "R-CLM-EDIT-1"),
        "Most 99439 units per month: 0, 1 or 2. Two is Medicare's limit, which a practice may lower but never "
        "raise; 0 means no 99439 at all.",
        maximum=2,
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
        "initiating_visit_reading",
        "conservative",
        str,
        ("R-INIT-6", "R-INIT-1"),
        "A new patient's first visit counts as seen within the window only if it discussed care management "
        "(conservative, default), or any visit does (literal reading of CMS's wording).",
        ("conservative", "literal"),
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
        False,
        bool,
        ("R-APCM-6",),
        "Hold CCM/PCM for review when another practitioner bills APCM for the month (allowed since 89 FR "
        "97896–97; an opt-in review hold).",
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
        0,
        int,
        ("R-2026-1",),
        "Counted BHI minutes a practice asks for before an APCM behavioral-health add-on (CMS set no minute "
        "threshold: the gate is a documented activity of the month).",
    ),
    PolicySpec(
        "minimum_diagnoses_ccm",
        2,
        int,
        ("R-CLM-FORM-1",),
        "Chronic-condition diagnoses listed on a CCM/APCM level 2–3 claim at least.",
    ),
    PolicySpec(
        "require_signed_notes",
        True,
        bool,
        ("R-DOC-1", "R-TIME-8"),
        "Hold a month whose counted minutes belong to time entries no note signed by its author documents "
        "(applies where the facts state the notes, as the close always does).",
    ),
    PolicySpec(
        "unknown_coverage",
        "hold",
        str,
        ("R-COV-1",),
        "A month whose Part B fee-for-service coverage is unknown or partial: held for review (default), or "
        "decided as covered.",
        ("hold", "assume_covered"),
    ),
    PolicySpec(
        "family_choice",
        "most_specific",
        str,
        ("R-FAM-1",),
        "When several families' criteria are met: the most specific code documented and the program the "
        "patient is enrolled in (default), or the highest compliant allowed amount.",
        ("most_specific", "highest_paying"),
    ),
    PolicySpec(
        "pcm_requires_complexity_reason",
        True,
        bool,
        ("R-ELIG-3",),
        "PCM needs a disease-specific care plan that records why the one condition is complex or high-risk "
        "(recent hospitalization, frequent medication changes, comorbidities).",
    ),
    PolicySpec(
        "hold_unconfirmed_crosswalk_diagnoses",
        True,
        bool,
        ("R-DX-3",),
        "Hold a month whose claim diagnoses were suggested from SNOMED CT until a person confirms them.",
    ),
    PolicySpec(
        "provisional_fees",
        "label",
        str,
        ("R-2027-3",),
        "A month priced with a year's provisional fees (no final fee file loaded): closed with its amounts "
        "labelled provisional (default; claims carry the practice's charges), or held until a file is loaded.",
        ("label", "hold"),
    ),
)

# Policies that later revisions of cms-rules.md settled as rules; a stored override of one is refused by name.
RETIRED = {
    "ccm_consent_covers_apcm": "R-CONS-6 is a rule now: a CCM consent never covers APCM",
    "apcm_recent_care_management_waives_visit": "R-APCM-4 is settled: any known professional service counts",
}

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
    initiating_visit_reading: str = "conservative"
    other_practitioner_time_counts_as_staff: bool = True
    simultaneous_staff_count_once: bool = True
    facility_stay_whole_days: bool = True
    block_same_practitioner_care_plan_oversight: bool = True
    block_same_practitioner_esrd: bool = True
    hold_ccm_in_other_practitioner_apcm_month: bool = False
    apcm_behavioral_health_addon: str = "general_bhi"
    apcm_bhi_minimum_minutes: int = 0
    minimum_diagnoses_ccm: int = 2
    require_signed_notes: bool = True
    unknown_coverage: str = "hold"
    family_choice: str = "most_specific"
    pcm_requires_complexity_reason: bool = True
    hold_unconfirmed_crosswalk_diagnoses: bool = True
    provisional_fees: str = "label"

    @property
    def g0511_last_payable(self) -> dt.date:
        return dt.date.fromisoformat(self.g0511_last_payable_date)

    def cap(self, code: str) -> int | None:
        """Unit cap for an add-on code under these policies; None when uncapped. A cap that is a Medicare limit
        (99439) is taken as written, 0 included; for the others 0 means no cap."""
        value = getattr(self, f"cap_{code}", None)
        spec = _BY_NAME.get(f"cap_{code}")
        if spec is not None and spec.maximum is not None:
            return min(value, spec.maximum)
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
            if name in RETIRED:
                raise PolicyError(where, f"no longer a policy: {RETIRED[name]}")
            if spec is None:
                raise PolicyError(where, f"unknown policy; expected one of {', '.join(sorted(_BY_NAME))}")
            if spec.kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PolicyError(where, "expected a whole number ≥ 0")
            if spec.kind is bool and not isinstance(value, bool):
                raise PolicyError(where, "expected true or false")
            if spec.kind is str and not isinstance(value, str):
                raise PolicyError(where, "expected a string")
            if spec.maximum is not None and value > spec.maximum:
                raise PolicyError(
                    where,
                    f"at most {spec.maximum}: Medicare's limit ({', '.join(spec.rules)}) may be lowered, never raised",
                )
            if spec.choices and value not in spec.choices:
                raise PolicyError(where, f"expected one of {', '.join(spec.choices)}")
            if name == "g0511_last_payable_date":
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise PolicyError(where, "expected a date YYYY-MM-DD") from None
            changes[name] = value
        return dataclasses.replace(self, **changes) if changes else self  # most documents override nothing


class PolicyError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


DEFAULT_POLICIES = Policies()
assert {f.name for f in dataclasses.fields(Policies)} == set(_BY_NAME)
assert all(getattr(DEFAULT_POLICIES, s.name) == s.default for s in SPECS)
