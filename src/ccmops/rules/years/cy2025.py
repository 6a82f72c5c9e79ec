"""CY2025: CF $32.3465; APCM G0556–G0558 new; RHC/FQHC move from G0511 to individual codes (R-RHC-1)."""

from decimal import Decimal

from ccmops.rules.years.base import RuleSet

CY2025 = RuleSet(
    year=2025,
    conversion_factor=Decimal("32.3465"),
    conversion_factor_qp=Decimal("32.3465"),
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
            "G0511",
        }
    ),
    apcm_bh_addons=False,
    g0511_transition=True,
    sources=("CMS PPRRVU 2025 October (RVU25D)", "CY2025 PFS final rule"),
)
