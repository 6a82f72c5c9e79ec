"""CY2026: CF $33.4009 (non-QP) / $33.5675 (QP) (R-2026-2); APCM behavioral-health add-ons G0568–G0570
(R-2026-1); G0511 deleted (R-RHC-2)."""

from decimal import Decimal

from ccmops.rules.years.base import RuleSet

CY2026 = RuleSet(
    year=2026,
    conversion_factor=Decimal("33.4009"),
    conversion_factor_qp=Decimal("33.5675"),
    codes=frozenset(
        {
            "99490",
            "99439",
            "99487",
            "99489",
            "99491",
            "99437",
            "99424",
            "99425",
            "99426",
            "99427",
            "G0506",
            "G0556",
            "G0557",
            "G0558",
            "G0568",
            "G0569",
            "G0570",
        }
    ),
    apcm_bh_addons=True,
    g0511_transition=False,
    sources=("CMS PPRRVU 2026 July non-QPP (RVU26C)", "CY2026 PFS final rule, 90 FR 49266"),
)
