"""The model-fit assessment's input: the practice's staff, discipline, pricing and measured months, validated
(pydantic). Pure: no Django, no database."""

from __future__ import annotations

import statistics

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ccmops.access.operating_model import Function

# Staff hours per unit of work. "per_new" is per newly enrolled patient (outreach to several candidates, the
# consent conversation, the initial care plan); "per_pm" is per enrolled patient-month.
WORKLOAD: dict[Function, dict[str, float]] = {
    Function.IDENTIFICATION: {"per_new": 0.15, "per_pm": 0.0},
    Function.ENROLLMENT_CONSENT: {"per_new": 0.75, "per_pm": 0.0},
    Function.CARE_PLANNING: {"per_new": 1.0, "per_pm": 0.05},
    Function.MONTHLY_OUTREACH: {"per_new": 0.0, "per_pm": 0.25},
    Function.CARE_COORDINATION: {"per_new": 0.0, "per_pm": 0.15},
    Function.TIME_TRACKING: {"per_new": 0.0, "per_pm": 0.02},
    Function.DOCUMENTATION: {"per_new": 0.0, "per_pm": 0.1},
    Function.BILLING: {"per_new": 0.0, "per_pm": 0.03},
    Function.CLINICAL_OVERSIGHT: {"per_new": 0.0, "per_pm": 0.0},  # the practitioner's, not care staff's
}


class Staff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1, description="RN, LPN, MA, CHW, …")
    hours_per_week: float = Field(ge=0, le=60, description="hours this person can give to CCM each week")
    cost_per_hour: float = Field(ge=0, le=500, description="loaded cost, dollars")


class Discipline(BaseModel):
    """Workflow discipline, each 1 (absent) to 5 (excellent)."""

    model_config = ConfigDict(extra="forbid")
    dedicated_roles: int = Field(ge=1, le=5, description="CCM work is someone's named job, not squeezed in")
    documentation_habits: int = Field(ge=1, le=5)
    time_tracking_habits: int = Field(ge=1, le=5)
    leadership_focus: int = Field(ge=1, le=5)

    @property
    def mean(self) -> float:
        scores = (self.dedicated_roles, self.documentation_habits, self.time_tracking_habits, self.leadership_focus)
        return sum(scores) / 4


class Pricing(BaseModel):
    """What a partner charges per enrolled patient-month for each model (managed covers all execution)."""

    model_config = ConfigDict(extra="forbid")
    managed_per_patient_month: float = Field(ge=0, le=500)
    hybrid_monthly_per_patient_month: float = Field(ge=0, le=500, description="partner runs the monthly work")
    hybrid_outreach_per_patient_month: float = Field(ge=0, le=500, description="partner calls and enrolls")
    partner_consistency: float = Field(
        default=0.85, gt=0, le=1, description="share of patients the partner brings to a billable month"
    )


class Measured(BaseModel):
    """The practice's own program-health figures; when present they replace the questionnaire's assumptions."""

    model_config = ConfigDict(extra="forbid")
    months: int = Field(ge=1)
    enrolled: int = Field(ge=0)
    billable_share: float = Field(ge=0, le=1, description="share of enrolled patients billed, latest three months")
    hours_per_patient_month: float | None = Field(default=None, ge=0, le=10)
    by_party: str = Field(default="practice", pattern="^(practice|partner)$")


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    practice: str = Field(default="", max_length=200)
    panel_patients: int = Field(ge=0, le=1_000_000)
    medicare_share: float = Field(ge=0, le=1)
    eligible_share: float = Field(
        default=0.65, ge=0, le=1, description="share of Medicare patients with two or more chronic conditions"
    )
    eligible_patients: int | None = Field(default=None, ge=0, description="from screening; replaces the estimate")
    expected_enrollment_rate: float = Field(ge=0, le=1)
    ramp_months: int = Field(default=6, ge=1, le=24)
    monthly_dropout: float = Field(default=0.015, ge=0, le=0.5)
    staff: list[Staff] = Field(default_factory=list)
    discipline: Discipline
    desire_for_control: int = Field(ge=1, le=5, description="1 happy to hand off … 5 wants to run it themselves")
    pricing: Pricing
    workload: dict[str, dict[str, float]] = Field(default_factory=dict, description="overrides of WORKLOAD")
    target_consistency: float = Field(default=0.7, gt=0, le=1)
    year: int = Field(default=2026, ge=2025, le=2026)
    months: int = Field(default=12, ge=3, le=36)
    runs: int = Field(default=400, ge=20, le=5000)
    seed: int = 1
    measured: Measured | None = None

    @model_validator(mode="after")
    def _workload_keys(self):
        names = {f.value for f in Function}
        for key, value in self.workload.items():
            if key not in names:
                raise ValueError(f"workload: unknown function {key!r}; expected one of {sorted(names)}")
            if set(value) - {"per_new", "per_pm"}:
                raise ValueError(f"workload.{key}: expected keys per_new and per_pm")
        return self

    @property
    def eligible(self) -> int:
        if self.eligible_patients is not None:
            return self.eligible_patients
        return round(self.panel_patients * self.medicare_share * self.eligible_share)

    @property
    def target_enrolled(self) -> int:
        if self.measured is not None:
            return max(self.measured.enrolled, round(self.eligible * self.expected_enrollment_rate))
        return round(self.eligible * self.expected_enrollment_rate)

    @property
    def staff_hours_per_week(self) -> float:
        return sum(s.hours_per_week for s in self.staff)

    @property
    def cost_per_hour(self) -> float:
        hours = self.staff_hours_per_week
        if not hours:
            return statistics.fmean([s.cost_per_hour for s in self.staff]) if self.staff else 0.0
        return sum(s.hours_per_week * s.cost_per_hour for s in self.staff) / hours


class QuestionnaireError(ValueError):
    """Bad questionnaire input, with every problem named by its field path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_questionnaire(data: object) -> Questionnaire:
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(
            [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()]
        ) from None
