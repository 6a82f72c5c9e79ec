"""Drift detection (pure): a watched figure falling month after month, and the cases that are not drift."""

import pytest

from ccmops.reporting.drift import detect


def series(*values):
    return [(f"2026-{i + 1:02d}", v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "drifts"),
    [
        ((0.9, 0.9, 0.8, 0.7, 0.6), True),  # three falling months, 20 points
        ((0.9, 0.88, 0.86), False),  # falling, but only 4 points in all
        ((0.9, 0.8, 0.7, 0.75), False),  # recovered in the latest month
        ((0.9, 0.8, 0.8, 0.7), False),  # a flat step breaks the run
        ((0.8, 0.7), False),  # two months are not enough
        ((0.9, 0.8, None, 0.7, 0.6), False),  # a month without a value breaks the run
        ((0.5, 0.6, 0.7), False),  # improving
        ((None, 0.95, 0.85, 0.7), True),  # the run only needs its own three months
    ],
)
def test_drift_needs_consecutive_declines_of_enough_points(values, drifts):
    found = detect({"billable_share": series(*values)})
    assert bool(found) is drifts
    if drifts:
        d = found[0]
        assert d.figure == "billable_share"
        assert len(d.months) == 3 and d.values[0] > d.values[-1]
        assert "fell" in d.describe() and f"{d.drop_points:g} points" in d.describe()


def test_unwatched_figures_are_ignored():
    assert detect({"median_lag_hours": series(90, 60, 30, 10)}) == []
