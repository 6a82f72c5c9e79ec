"""National PFS allowed amounts: total RVU × conversion factor, to the cent (cms-rules.md §7)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

CENT = Decimal("0.01")
COINSURANCE = Decimal("0.20")  # R-PAY-1


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FeeSchedule:
    year: int
    nonfacility_rvu: dict[str, Decimal]
    facility_rvu: dict[str, Decimal]

    def has(self, code: str) -> bool:
        return code in self.nonfacility_rvu

    def rate(self, code: str, *, facility: bool, conversion_factor: Decimal) -> Decimal:
        """Allowed amount for one unit; facility rate where the code has one, else non-facility."""
        rvu = self.facility_rvu.get(code) if facility else None
        return cents((rvu if rvu is not None else self.nonfacility_rvu[code]) * conversion_factor)


@lru_cache(maxsize=8)
def load_fee_schedule(year: int) -> FeeSchedule:
    path = resources.files("ccmops.rules") / "data" / "fees" / f"pfs_{year}.csv"
    nf: dict[str, Decimal] = {}
    fac: dict[str, Decimal] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            nf[row["code"]] = Decimal(row["nonfacility_rvu"])
            if row["facility_rvu"]:
                fac[row["code"]] = Decimal(row["facility_rvu"])
    return FeeSchedule(year, nf, fac)


def patient_share(allowed: Decimal, *, qmb: bool) -> Decimal:
    """20% coinsurance of the allowed amount; nothing for a QMB patient (R-PAY-1, R-PAY-2, R-APCM-5)."""
    return Decimal("0.00") if qmb else cents(allowed * COINSURANCE)
