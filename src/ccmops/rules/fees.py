"""National PFS allowed amounts: total RVU × conversion factor, to the cent (cms-rules.md §7), from a fee
schedule that is data (R-2027-3): a shipped or loaded PPRRVU file (`ccmops.rules.pprrvu`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
COINSURANCE = Decimal("0.20")  # R-PAY-1
NON_PHYSICIAN_SHARE = Decimal("0.85")  # R-PAY-4: NP, PA and CNS billing under their own NPI
NON_PHYSICIAN_CREDENTIALS = frozenset({"NP", "PA", "CNS"})  # CNMs are paid 100% since 2011 (R-PAY-4)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class FeeSchedule:
    year: int
    nonfacility_rvu: dict[str, Decimal]
    facility_rvu: dict[str, Decimal]
    conversion_factor: Decimal = Decimal(0)
    conversion_factor_qp: Decimal = Decimal(0)
    source: str = ""  # the file and release, or how provisional amounts were made
    provisional: bool = False  # not the year's final fee file (R-2027-3)
    status: dict[str, str] = field(default_factory=dict)

    def has(self, code: str) -> bool:
        return code in self.nonfacility_rvu

    def factor(self, *, qualifying_apm_participant: bool) -> Decimal:
        return self.conversion_factor_qp if qualifying_apm_participant else self.conversion_factor

    def rate(self, code: str, *, facility: bool, conversion_factor: Decimal | None = None) -> Decimal:
        """Allowed amount for one unit; facility rate where the code has one, else non-facility."""
        rvu = self.facility_rvu.get(code) if facility else None
        cf = self.conversion_factor if conversion_factor is None else conversion_factor
        return cents((rvu if rvu is not None else self.nonfacility_rvu[code]) * cf)

    def practitioner_rate(
        self, code: str, *, facility: bool, qualifying_apm_participant: bool, credential: str
    ) -> Decimal:
        """One unit's allowed amount for the billing practitioner: 85% for an NP, PA or CNS (R-PAY-4)."""
        rate = self.rate(
            code,
            facility=facility,
            conversion_factor=self.factor(qualifying_apm_participant=qualifying_apm_participant),
        )
        return cents(rate * NON_PHYSICIAN_SHARE) if credential in NON_PHYSICIAN_CREDENTIALS else rate


def patient_share(allowed: Decimal, *, qmb: bool) -> Decimal:
    """20% coinsurance of each line's allowed amount, an estimate (R-PAY-5); nothing for a QMB patient
    (R-PAY-1, R-PAY-2, R-APCM-5)."""
    return Decimal("0.00") if qmb else cents(allowed * COINSURANCE)
