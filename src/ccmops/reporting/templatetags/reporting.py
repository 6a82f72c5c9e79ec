"""Formatting for program-health pages."""

from __future__ import annotations

from django import template

from ccmops.reporting.figures import FIGURE_LABELS

register = template.Library()
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@register.filter
def pct(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{round(100 * float(value))} %"


@register.filter
def month_name(month: str) -> str:
    return f"{MONTHS[int(month[5:]) - 1]} {month[:4]}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def figure_label(name: str) -> str:
    return FIGURE_LABELS.get(name, name)


@register.filter
def any_drift(parties) -> bool:
    return any(p.drift for p in parties)


@register.filter
def short_model(label: str) -> str:
    """ "Hybrid: practice enrolls, …" → "Hybrid"."""
    return label.split(":")[0]
