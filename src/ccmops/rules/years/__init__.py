"""Rule sets by calendar year. A new CMS year is a new module; a past year's module is never edited."""

from __future__ import annotations

from ccmops.rules.years.base import RuleSet
from ccmops.rules.years.cy2025 import CY2025
from ccmops.rules.years.cy2026 import CY2026

RULE_SETS: dict[int, RuleSet] = {r.year: r for r in (CY2025, CY2026)}


def rule_set_for(year: int) -> RuleSet | None:
    return RULE_SETS.get(year)
