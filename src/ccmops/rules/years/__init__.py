"""Rule sets by calendar year. A new CMS year is a new module; a past year's module is never edited."""

from __future__ import annotations

from ccmops.rules.fees import FeeSchedule
from ccmops.rules.years.base import RuleSet
from ccmops.rules.years.cy2025 import CY2025
from ccmops.rules.years.cy2026 import CY2026
from ccmops.rules.years.cy2027 import CY2027

RULE_SETS: dict[int, RuleSet] = {r.year: r for r in (CY2025, CY2026, CY2027)}


def rule_set_for(year: int) -> RuleSet | None:
    return RULE_SETS.get(year)


def operational_rule_set_for(year: int) -> tuple[RuleSet | None, bool]:
    """The rule set for counting a month's minutes and thresholds as the work happens, and whether it is
    provisional: the year's own, else — for a year after the last one this release knows — the latest one.
    Care managers' timers and worklists keep working on the 1st of January before a release adds the new
    year's rules; billing (month close) never uses a provisional rule set."""
    if year in RULE_SETS:
        return RULE_SETS[year], False
    latest = max(RULE_SETS)
    return (RULE_SETS[latest], True) if year > latest else (None, False)


def load_fee_schedule(year: int) -> FeeSchedule:
    """The fee schedule the release ships for a rule year (its rule set's, provisional ones included)."""
    rules = rule_set_for(year)
    if rules is None:
        raise LookupError(f"no rule set for {year}")
    return rules.fees()
