"""Revenue of a practice-month: captured (lines decided, and for a closed month the corrections the biller
recorded in its adjustment queue) against potential (what the enrolled population would bill if every patient
reached their next threshold), by code, with patient cost sharing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import OuterRef, Subquery

from ccmops.billing.adjustments import Billed, billed_by_patient
from ccmops.billing.fees import schedule_for
from ccmops.billing.models import PatientMonthDecision
from ccmops.months.models import Adjustment, MonthClose
from ccmops.months.month import checked

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
    captured_at_close: Decimal = Decimal("0.00")  # the lines as decided at close, before any correction
    corrected_patients: int = 0  # patient-months whose billed codes a correction changed
    fee_source: str = ""  # where the amounts come from (R-2027-3)
    provisional: bool = False  # not the year's final fee file: labelled wherever revenue is shown

    @property
    def corrections(self) -> Decimal:
        """Net allowed amount the recorded corrections added (or took back) after the close."""
        return self.captured - self.captured_at_close

    @property
    def capture_rate(self) -> int:
        return round(100 * self.captured / self.potential) if self.potential else 0


def month_revenue(practice, month: str) -> Revenue:
    """Revenue of the month from its decisions. A closed month's decisions are locked, so its figure is kept in
    the cache (`cache_key`) and read back by dashboards.

    Raises:
        InvalidInput: `month` is not a month YYYY-MM.
    """
    month = checked(month)
    key = cache_key(practice, month)
    if key and (hit := cache.get(key)) is not None:
        return hit
    result = _month_revenue(practice, month)
    if key:
        cache.set(key, result, 24 * 3600)
    return result


def cache_key(practice, month: str) -> str | None:
    """Where a closed month's revenue is kept: under the close's identity (id, version, closing time) and its
    latest resolved adjustment (a resolution can change what stands billed). None while the month is open."""
    closed = (
        MonthClose.objects.filter(practice=practice, month=month, status="closed")
        .annotate(
            resolved=Subquery(
                Adjustment.objects.filter(
                    practice=OuterRef("practice"), month=OuterRef("month"), resolved_at__isnull=False
                )
                .order_by("-id")
                .values("id")[:1]
            )
        )
        .values_list("pk", "version", "closed_at", "resolved")
        .first()
    )
    if closed is None:
        return None
    pk, version, closed_at, resolved = closed
    return f"ccmops:revenue:{practice.pk}:{month}:{pk}:{version}:{closed_at.timestamp()}:{resolved}"


def _month_revenue(practice, month: str) -> Revenue:
    fees = schedule_for(int(month[:4]))  # the loaded fee file, else the shipped (possibly provisional) one
    factor = fees.factor(qualifying_apm_participant=False) if fees else Decimal("0")
    facility = practice.place_of_service in ("19", "21", "22")

    def rate(code: str) -> Decimal:
        return fees.rate(code, facility=facility, conversion_factor=factor) if fees and fees.has(code) else Decimal(0)

    r = Revenue(month, fee_source=fees.source if fees else "", provisional=bool(fees and fees.provisional))
    by_code: dict[str, dict] = defaultdict(lambda: {"units": 0, "allowed": Decimal("0.00")})
    resolved = list(
        Adjustment.objects.filter(practice=practice, month=month, billed_after__isnull=False)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    standing = billed_by_patient(practice, month, resolved) if resolved else {}
    for patient_id, override_action, decision in PatientMonthDecision.objects.filter(
        practice=practice, month=month
    ).values_list("patient_id", "override_action", "decision"):
        r.patients += 1
        closed_lines = decision.get("lines", []) if override_action != "do_not_bill" else []
        lines = [  # as Billed values: the decided lines, or what the latest resolution left billed
            Billed(x["code"], x["units"], Decimal(x["allowed_amount"]), Decimal(x["patient_share"]))
            for x in closed_lines
        ]
        r.captured_at_close += sum((b.allowed for b in lines), Decimal("0.00"))
        share = sum((b.patient_share for b in lines), Decimal("0.00"))
        if patient_id in standing:
            after, _as_of = standing[patient_id]
            if sorted((b.code, b.units) for b in after) != sorted((b.code, b.units) for b in lines):
                r.corrected_patients += 1
            if all(b.patient_share is not None for b in after):  # else: not recorded, the share as closed
                share = sum((b.patient_share for b in after), Decimal("0.00"))
            lines = after
        total = sum((b.allowed for b in lines), Decimal("0.00"))
        r.captured += total
        r.patient_share += share
        if lines:
            r.billed_patients += 1
        for b in lines:
            by_code[b.code]["units"] += b.units
            by_code[b.code]["allowed"] += b.allowed
        codes = {b.code: b.units for b in lines}
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
