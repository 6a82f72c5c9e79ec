"""Program drift (pure): a consistency figure that declines month after month.

A figure drifts when, over its latest DRIFT_MONTHS + 1 completed months with a value, it fell at every step by
more than STEP_POINTS and by at least TOTAL_POINTS in all (ENGINE POLICY defaults; docs/operating-models.md,
Program health).
A month in progress is never part of the series: its figures are partial by nature. A month without a value
(no enrolled patients, no notes, or another party owned the function then) breaks the run, so a party is only
judged on months it was responsible for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

DRIFT_MONTHS = 2  # consecutive declining steps, i.e. three months
STEP_POINTS = 0.5  # percentage points a step must fall by to count as a decline
TOTAL_POINTS = 5.0  # percentage points the figure must fall by over the run

# The consistency figures watched for drift, with their labels (values are shares, 0–1).
WATCHED: dict[str, str] = {
    "touched_share": "enrolled patients touched",
    "billable_share": "enrolled patients reaching a billable month",
    "live_share": "time captured live by a timer",
    "completeness": "documentation completeness",
    "reach_rate": "monthly calls that reached the patient",
}


@dataclass(frozen=True)
class Drift:
    figure: str
    label: str
    months: tuple[str, ...]
    values: tuple[float, ...]

    @property
    def drop_points(self) -> float:
        return round(100 * (self.values[0] - self.values[-1]), 1)

    def describe(self) -> str:
        path = " → ".join(f"{round(100 * v)} %" for v in self.values)
        return f"{self.label.capitalize()} fell {self.drop_points:g} points over {len(self.months)} months ({path})"

    def as_dict(self) -> dict:
        return {
            "figure": self.figure,
            "label": self.label,
            "months": list(self.months),
            "values": [round(v, 4) for v in self.values],
            "drop_points": self.drop_points,
            "description": self.describe(),
        }


def detect(
    series: Mapping[str, Sequence[tuple[str, float | None]]],
    *,
    months: int = DRIFT_MONTHS,
    step_points: float = STEP_POINTS,
    total_points: float = TOTAL_POINTS,
) -> list[Drift]:
    """The watched figures that drift at the end of their series (oldest month first)."""
    found = []
    for figure, points in series.items():
        if figure not in WATCHED:
            continue
        tail: list[tuple[str, float]] = []
        for month, value in reversed(points):
            if value is None:
                break
            tail.append((month, value))
            if len(tail) == months + 1:
                break
        if len(tail) < months + 1:
            continue
        tail.reverse()
        values = [v for _, v in tail]
        steps_fall = all(100 * (a - b) > step_points for a, b in pairwise(values))
        if steps_fall and 100 * (values[0] - values[-1]) >= total_points:
            found.append(Drift(figure, WATCHED[figure], tuple(m for m, _ in tail), tuple(values)))
    return found
