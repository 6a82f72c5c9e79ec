"""CY2026: CF $33.4009 (non-QP) / $33.5675 (QP) (R-2026-2); APCM behavioral-health add-ons G0568–G0570
(R-2026-1); G0511 deleted (R-RHC-2)."""

from decimal import Decimal

from ccmops.rules.years.cy2025 import CY2025

CY2026 = CY2025.next_year(
    2026,
    conversion_factor=Decimal("33.4009"),
    conversion_factor_qp=Decimal("33.5675"),
    apcm_bh_addons=True,
    g0511_transition=False,
    fee_file="PPRRVU2026_care_management.csv",
)
