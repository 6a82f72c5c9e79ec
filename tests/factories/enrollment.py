"""Enrollment in tests: every consent element, a complete care plan, an instant an hour ago."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

ALL = ["cost_sharing", "one_practitioner_per_month", "right_to_stop"]


def complete(content: dict) -> dict:
    """Fill the elements a template leaves to the care team."""
    return {
        **content,
        "expected_outcomes": "Stable blood pressure and glucose; no admissions.",
        "prognosis": "Good with adherence.",
        "community_services": "Meals on Wheels referral.",
        "coordination": "Cardiology (Dr. Lee) receives the plan; pharmacy reconciliation quarterly.",
    }


def an_hour_ago():
    return timezone.now() - dt.timedelta(hours=1)
