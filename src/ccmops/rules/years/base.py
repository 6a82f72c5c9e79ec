"""What changes from one CMS year to the next: its conversion factors, the code features it has, and the fee
file that prices it (R-2027-3: a year's fee schedule is data, `ccmops.rules.pprrvu`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from ccmops.rules.pprrvu import parse_pprrvu


@dataclass(frozen=True)
class RuleSet:
    year: int
    conversion_factor: Decimal
    conversion_factor_qp: Decimal
    apcm_bh_addons: bool  # G0568–G0570 exist (R-2026-1)
    g0511_transition: bool  # RHC/FQHC G0511 still payable for part of the year (R-RHC-1)
    fee_file: str  # the shipped PPRRVU extract that prices the year until a file is loaded (data/fees/)
    # Where the amounts come from when they are not the year's final fee file (R-2027-3); "" when they are.
    provisional_fees: str = ""

    def fees(self):
        """The shipped fee schedule for the year: the fee file's RVUs at this rule set's conversion factors."""
        return _shipped(self)

    def factor(self, *, qualifying_apm_participant: bool) -> Decimal:
        return self.conversion_factor_qp if qualifying_apm_participant else self.conversion_factor

    def next_year(self, year: int, **changes) -> RuleSet:
        """A later year with this year's rules and what `changes` says differs (see docs/rules-engine.md,
        *A new year*)."""
        return dataclasses.replace(self, year=year, **changes)


@lru_cache(maxsize=16)
def _shipped(rules: RuleSet):

    path = resources.files("ccmops.rules") / "data" / "fees" / rules.fee_file
    file_year = int(rules.fee_file[6:10])  # PPRRVU<year>_…
    schedule = parse_pprrvu(path.read_text(encoding="utf-8"), year=file_year, source=f"{rules.fee_file} (shipped)")
    return dataclasses.replace(
        schedule,
        year=rules.year,
        conversion_factor=rules.conversion_factor,
        conversion_factor_qp=rules.conversion_factor_qp,
        source=rules.provisional_fees or schedule.source,
        provisional=bool(rules.provisional_fees),
    )
