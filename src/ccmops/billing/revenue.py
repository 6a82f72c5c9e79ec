"""Revenue of a practice-month: captured (lines decided) against potential (what the enrolled population would
bill if every patient reached their next threshold), by code, with patient cost sharing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache

from ccmops.billing.models import MonthClose, PatientMonthDecision
from ccmops.rules.fees import load_fee_schedule
from ccmops.rules.years import rule_set_for

NEXT = {
    "99490": ("99439", 2),
    "99487": ("99489", None),
    "99491": ("99437", None),
    "99426": ("99427", 2),
    "99424": ("99425", 2),
}


@dataclass
class Revenue:
    month: str
    captured: Decimal = Decimal("0.00")
    potential: Decimal = Decimal("0.00")
    patient_share: Decimal = Decimal("0.00")
    by_code: dict[str, dict] = field(default_factory=dict)
    patients: int = 0
    billed_patients: int = 0

    @property
    def capture_rate(self) -> int:
        return round(100 * self.captured / self.potential) if self.potential else 0


def month_revenue(practice, month: str) -> Revenue:
    """Revenue of the month from its decisions. A closed month's decisions are locked, so its figure is kept in
    the cache under the close's identity (id, version, closing time) and read back by dashboards."""
    closed = (
        MonthClose.objects.filter(practice=practice, month=month, status="closed")
        .values_list("pk", "version", "closed_at")
        .first()
    )
    key = f"ccmops:revenue:{practice.pk}:{month}:{closed[0]}:{closed[1]}:{closed[2].timestamp()}" if closed else None
    if key and (hit := cache.get(key)) is not None:
        return hit
    result = _month_revenue(practice, month)
    if key:
        cache.set(key, result, 24 * 3600)
    return result


def _month_revenue(practice, month: str) -> Revenue:
    rules = rule_set_for(int(month[:4]))
    fees = load_fee_schedule(rules.year) if rules else None
    factor = rules.factor(qualifying_apm_participant=False) if rules else Decimal("0")
    facility = practice.place_of_service in ("19", "21", "22")

    def rate(code: str) -> Decimal:
        return fees.rate(code, facility=facility, conversion_factor=factor) if fees and fees.has(code) else Decimal(0)

    r = Revenue(month)
    by_code: dict[str, dict] = defaultdict(lambda: {"units": 0, "allowed": Decimal("0.00")})
    for override_action, decision in PatientMonthDecision.objects.filter(practice=practice, month=month).values_list(
        "override_action", "decision"
    ):
        r.patients += 1
        lines = decision.get("lines", []) if override_action != "do_not_bill" else []
        total = sum((Decimal(x["allowed_amount"]) for x in lines), Decimal("0.00"))
        r.captured += total
        r.patient_share += sum((Decimal(x["patient_share"]) for x in lines), Decimal("0.00"))
        if lines:
            r.billed_patients += 1
        for x in lines:
            by_code[x["code"]]["units"] += x["units"]
            by_code[x["code"]]["allowed"] += Decimal(x["allowed_amount"])
        codes = {x["code"]: x["units"] for x in lines}
        base = next((c for c in codes if c in NEXT), None)
        extra = Decimal("0.00")
        if base:
            addon, cap = NEXT[base]
            if cap is None or codes.get(addon, 0) < cap:
                extra = rate(addon)
        elif not lines and any(f["code"] == "CCM.TIME.BELOW_THRESHOLD" for f in decision.get("findings", [])):
            extra = rate("99490")
        r.potential += total + extra
    r.by_code = dict(sorted(by_code.items()))
    return r
