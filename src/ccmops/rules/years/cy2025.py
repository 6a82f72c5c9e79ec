"""CY2025: CF $32.3465; APCM G0556–G0558 new; RHC/FQHC move from G0511 to individual codes (R-RHC-1)."""

from decimal import Decimal

from ccmops.rules.years.base import RuleSet

CY2025 = RuleSet(
    year=2025,
    conversion_factor=Decimal("32.3465"),
    conversion_factor_qp=Decimal("32.3465"),
    apcm_bh_addons=False,
    g0511_transition=True,
    fee_file="PPRRVU2025_care_management.csv",
)
