"""What program health shows: each month's figures, each party's view, an operating-model change and the whole
health of a practice (computed by `metrics`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ccmops.access.operating_model import Function
from ccmops.organizations.models import Organization
from ccmops.reporting import drift

BUCKETS = ("0", "<10", "10–19", "20–39", "40–59", "60+")
FUNNEL = ("outreach", "consented", "active", "declined", "unable_to_reach", "disenrolled")
PROGRAMS = ("ccm", "pcm", "apcm")

# Which function's owner answers for each figure (the responsibility matrix decides who is judged on what).
FIGURE_FUNCTION: dict[str, Function] = {
    "touched_share": Function.MONTHLY_OUTREACH,
    "billable_share": Function.MONTHLY_OUTREACH,
    "reach_rate": Function.MONTHLY_OUTREACH,
    "unreachable_rate": Function.MONTHLY_OUTREACH,
    "live_share": Function.TIME_TRACKING,
    "median_lag_hours": Function.TIME_TRACKING,
    "completeness": Function.DOCUMENTATION,
    "completeness_spread": Function.DOCUMENTATION,
    "new_enrollments": Function.ENROLLMENT_CONSENT,
    "capture_rate": Function.BILLING,
}
FIGURE_LABELS = {
    "touched_share": "Enrolled patients touched",
    "billable_share": "Enrolled patients billable",
    "reach_rate": "Monthly calls reaching the patient",
    "unreachable_rate": "Patients turned unreachable",
    "live_share": "Time captured live",
    "median_lag_hours": "Median lag of late entries (hours)",
    "completeness": "Documentation completeness",
    "completeness_spread": "Completeness spread across staff (points)",
    "new_enrollments": "Patients activated",
    "capture_rate": "Revenue captured of potential",
}
PERCENT_FIGURES = {
    "touched_share",
    "billable_share",
    "reach_rate",
    "unreachable_rate",
    "live_share",
    "completeness",
    "capture_rate",
}


@dataclass
class MonthFigures:
    month: str
    in_progress: bool
    model: str = ""
    enrolled: int = 0
    touched: int = 0
    billable: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    live_seconds: int = 0
    late_seconds: int = 0
    median_lag_hours: float | None = None
    notes: int = 0
    completeness: float | None = None  # 0–1
    completeness_by_staff: dict[str, float] = field(default_factory=dict)
    attempts: int = 0
    reached: int = 0
    became_unreachable: int = 0
    funnel: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FUNNEL, 0))
    evaluated: bool = False
    revenue_captured: Decimal | None = None
    revenue_potential: Decimal | None = None

    @staticmethod
    def _share(a: int | float, b: int | float) -> float | None:
        return a / b if b else None

    @property
    def touched_share(self) -> float | None:
        return self._share(self.touched, self.enrolled)

    @property
    def billable_share(self) -> float | None:
        return self._share(self.billable, self.enrolled)

    @property
    def live_share(self) -> float | None:
        return self._share(self.live_seconds, self.live_seconds + self.late_seconds)

    @property
    def reach_rate(self) -> float | None:
        return self._share(self.reached, self.attempts)

    @property
    def unreachable_rate(self) -> float | None:
        return self._share(self.became_unreachable, self.enrolled)

    @property
    def completeness_spread(self) -> float | None:
        values = list(self.completeness_by_staff.values())
        return round(100 * (max(values) - min(values)), 1) if len(values) > 1 else None

    @property
    def new_enrollments(self) -> int:
        return self.funnel["active"]

    @property
    def capture_rate(self) -> float | None:
        if self.revenue_potential:
            return float(self.revenue_captured / self.revenue_potential)
        return None

    def figure(self, name: str):
        return getattr(self, name)

    def as_dict(self) -> dict:
        out = {
            "month": self.month,
            "in_progress": self.in_progress,
            "model": self.model,
            "enrolled": self.enrolled,
            "touched": self.touched,
            "billable": self.billable,
            "minutes_distribution": self.buckets,
            "live_minutes": self.live_seconds // 60,
            "late_minutes": self.late_seconds // 60,
            "notes": self.notes,
            "completeness_by_staff": {k: round(v, 3) for k, v in self.completeness_by_staff.items()},
            "attempts": self.attempts,
            "reached": self.reached,
            "became_unreachable": self.became_unreachable,
            "funnel": self.funnel,
            "evaluated": self.evaluated,
            "revenue_captured": str(self.revenue_captured) if self.revenue_captured is not None else None,
            "revenue_potential": str(self.revenue_potential) if self.revenue_potential is not None else None,
        }
        for name in FIGURE_FUNCTION:
            value = self.figure(name)
            out[name] = round(value, 4) if isinstance(value, float) else value
        return out


@dataclass
class PartyView:
    """One responsible party's figures: only the months and functions it owned."""

    organization: Organization
    functions_by_month: dict[str, list[str]]
    series: dict[str, list[tuple[str, float | None]]]
    work: dict[str, dict]  # month → the work its staff did (minutes, live share, notes, calls)
    drift: list[drift.Drift]

    def as_dict(self) -> dict:
        return {
            "party": self.organization.slug,
            "name": self.organization.name,
            "kind": self.organization.kind,
            "functions_by_month": self.functions_by_month,
            "figures": {k: [[m, v] for m, v in pts] for k, pts in self.series.items()},
            "work": self.work,
            "drift": [d.as_dict() for d in self.drift],
        }


@dataclass
class ModelChange:
    effective_from: dt.date
    before: str
    after: str
    before_figures: dict[str, float | None]
    after_figures: dict[str, float | None]


@dataclass
class Health:
    practice: Organization
    months: list[MonthFigures]
    parties: list[PartyView]
    drift: list[drift.Drift]
    change: ModelChange | None
    revenue_variation: float | None  # coefficient of variation of captured revenue over evaluated months

    def as_dict(self) -> dict:
        return {
            "practice": self.practice.slug,
            "name": self.practice.name,
            "months": [m.as_dict() for m in self.months],
            "parties": [p.as_dict() for p in self.parties],
            "drift": [d.as_dict() for d in self.drift],
            "drifting": bool(self.drift) or any(p.drift for p in self.parties),
            "model_change": None
            if self.change is None
            else {
                "effective_from": self.change.effective_from.isoformat(),
                "before": self.change.before,
                "after": self.change.after,
                "before_figures": self.change.before_figures,
                "after_figures": self.change.after_figures,
            },
            "revenue_variation": self.revenue_variation,
        }

    @property
    def completed(self) -> list[MonthFigures]:
        return [m for m in self.months if not m.in_progress]

    @property
    def latest_evaluated(self) -> MonthFigures | None:
        return next((m for m in reversed(self.months) if m.revenue_captured is not None), None)
