"""What changes from one CMS year to the next."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ccmops.rules.fees import FeeSchedule, load_fee_schedule


@dataclass(frozen=True)
class RuleSet:
    year: int
    conversion_factor: Decimal
    conversion_factor_qp: Decimal
    codes: frozenset[str]
    apcm_bh_addons: bool  # G0568–G0570 exist (R-2026-1)
    g0511_transition: bool  # RHC/FQHC G0511 still payable for part of the year (R-RHC-1)
    sources: tuple[str, ...]

    def fees(self) -> FeeSchedule:
        return load_fee_schedule(self.year)

    def factor(self, *, qualifying_apm_participant: bool) -> Decimal:
        return self.conversion_factor_qp if qualifying_apm_participant else self.conversion_factor
