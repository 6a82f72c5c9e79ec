"""CY2027 (R-2027-1 … R-2027-7): the 2026 rules unchanged (R-2027-4: no change proposed to CCM, PCM, APCM or
BHI), priced provisionally at the proposed rule's conversion factors (CMS-1848-P: $32.8409, QP $33.1693;
R-2027-2) with the 2026 RVUs, until the final fee file is loaded (`ccmops rules load-fees FILE --year 2027`)."""

from decimal import Decimal

from ccmops.rules.years.cy2026 import CY2026

CY2027 = CY2026.next_year(
    2027,
    conversion_factor=Decimal("32.8409"),
    conversion_factor_qp=Decimal("33.1693"),
    provisional_fees=(
        "CY2027 proposed rule (CMS-1848-P) conversion factors with the 2026 RVUs (RVU26C), provisional until "
        "the final 2027 fee file is loaded"
    ),
)
