"""A practice's charge schedule: its own usual charge for each care-management code, what its claims carry (Item
24F / SV1-02 and Item 28 / CLM02, R-CLM-CHG-1). Medicare pays the lesser of the charge and the fee schedule
amount, so the charge is never the (national) allowed amount; an 837P is refused for a code with no charge."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from ccmops.errors import InvalidInput
from ccmops.organizations.changes import record_change
from ccmops.organizations.models import Organization
from ccmops.rules.years import operational_rule_set_for

MAXIMUM = Decimal("99999.99")

# The codes a practice bills through ccmops, by family, as Settings lists them.
CHARGE_CODES = (
    ("Chronic care management", ("99490", "99439", "99487", "99489", "99491", "99437")),
    ("Principal care management", ("99424", "99425", "99426", "99427")),
    ("Advanced primary care management", ("G0556", "G0557", "G0558", "G0568", "G0569", "G0570")),
    ("Rural health clinic care management (2025 transition)", ("G0511",)),
)
CODES = frozenset(code for _, codes in CHARGE_CODES for code in codes)


def parse_charge(code: str, raw) -> Decimal | None:
    """A charge as given (text or number): dollars with at most two decimals, above zero; blank removes it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip().lstrip("$")
    if not text.isascii() or not all(c.isdigit() or c == "." for c in text) or text.count(".") > 1 or text == ".":
        raise InvalidInput(f"{code}: expected an amount in dollars such as 85.00, got {raw!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{code}: expected an amount in dollars such as 85.00, got {raw!r}") from None
    if value <= 0 or value > MAXIMUM or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(f"{code}: expected an amount above $0 and at most ${MAXIMUM}, in cents, got {raw!r}")
    return value.quantize(Decimal("0.01"))


def charge_of(org: Organization, code: str) -> Decimal | None:
    value = (org.charge_schedule or {}).get(code)
    return Decimal(value) if value is not None else None


def charge_rows(org: Organization, year: int) -> list[dict]:
    """Every code with the practice's charge and the national non-facility allowed amount of `year` to compare
    (a charge below what Medicare allows is paid at the charge: money left behind)."""

    rules, _provisional = operational_rule_set_for(year)
    fees = rules.fees() if rules else None
    out = []
    for family, codes in CHARGE_CODES:
        for code in codes:
            national = fees.rate(code, facility=False) if fees and fees.has(code) else None
            charge = charge_of(org, code)
            out.append(
                {
                    "family": family,
                    "code": code,
                    "charge": charge,
                    "national": national,
                    "below_allowed": charge is not None and national is not None and charge < national,
                }
            )
    return out


@transaction.atomic
def set_charges(*, org: Organization, values: dict, by, actor: str = "") -> dict[str, list]:
    """Set some of the practice's charges (blank removes one); audited with the values before. Returns
    {code: [before, after]} of what changed.

    Raises:
        InvalidInput: a partner, an unknown code, an amount that is not dollars and cents above zero.
    """
    if not org.is_practice:
        raise InvalidInput(f"practice: {org} is a partner; charges are a practice's")
    org = Organization.objects.select_for_update().get(pk=org.pk)
    own = dict(org.charge_schedule or {})
    changed: dict[str, list] = {}
    for code, raw in values.items():
        code = str(code).strip().upper()
        if code not in CODES:
            raise InvalidInput(f"{code}: not a code ccmops bills; expected one of {', '.join(sorted(CODES))}")
        value = parse_charge(code, raw)
        before = own.get(code)
        after = f"{value:.2f}" if value is not None else None
        if before == after:
            continue
        changed[code] = [before, after]
        if after is None:
            own.pop(code, None)
        else:
            own[code] = after
    if not changed:
        return {}
    org.charge_schedule = own
    org.save(update_fields=["charge_schedule"])
    record_change(chain=org.id, obj=org, object_type="charge_schedule", by=by, actor=actor, detail={"changed": changed})
    return changed
