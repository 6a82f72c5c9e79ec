"""A practice's months as its biller works them: each month's state in the close (open, not evaluated, being
evaluated, in review, closed, submitted) with its totals, newest first — the last twelve months since its first
recorded work, and any older month that was closed."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min, Q, Sum
from django.shortcuts import redirect, render

from ccmops.access.operating_model import Function
from ccmops.billing.models import ClaimBatch, ClaimLine, PatientMonthDecision
from ccmops.months.models import Adjustment, MonthClose
from ccmops.months.month import Month
from ccmops.patients.scope import practice_for
from ccmops.timetracking.models import TimeEntry

SHOWN = 12  # months back from this one
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MonthRow:
    month: Month
    state: str  # open | not_evaluated | evaluating | reviewing | closed | submitted
    label: str
    decided: int
    held: int
    lines: int
    allowed: Decimal
    open_adjustments: int

    @property
    def key(self) -> str:
        return str(self.month)


LABELS = {
    "open": "In progress",
    "not_evaluated": "Ended, not evaluated",
    "evaluating": "Being evaluated",
    "reviewing": "In review",
    "closed": "Approved and closed",
    "submitted": "837P sent",
}


def month_rows(practice) -> list[MonthRow]:
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    now = Month.current(practice.time_zone)
    first_time = TimeEntry.objects.filter(practice=practice).aggregate(first=Min("start"))["first"]
    first = Month.of(first_time.astimezone(zone).date()) if first_time else now  # no month before any work
    months = {now}
    m = now
    for _ in range(SHOWN - 1):
        m = m.previous()
        if m < first:
            break
        months.add(m)
    closes = {c.month: c for c in MonthClose.objects.filter(practice=practice)}
    months |= {Month.parse(k) for k, c in closes.items() if c.status == "closed"}
    decided = {
        r["month"]: r
        for r in PatientMonthDecision.objects.filter(practice=practice)
        .values("month")
        .annotate(n=Count("id"), held=Count("id", filter=Q(review="needs_review")))
    }
    lines = {
        r["month"]: r
        for r in ClaimLine.objects.filter(practice=practice)
        .values("month")
        .annotate(n=Count("id"), allowed=Sum("allowed_amount"))
    }
    sent = set(
        ClaimBatch.objects.filter(
            practice=practice, test=False, submitted_at__isnull=False, rejected_at__isnull=True
        ).values_list("month", flat=True)
    )
    adjustments = dict(
        Adjustment.objects.filter(practice=practice, resolved_at__isnull=True)
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    rows = []
    for month in sorted(months, reverse=True):
        key = str(month)
        close = closes.get(key)
        if key in sent:
            state = "submitted"
        elif month == now:  # evaluated or not (the nightly preview), a month in progress cannot be closed yet
            state = "open"
        elif close is not None:
            state = close.status
        else:
            state = "not_evaluated"
        d, ln = decided.get(key, {}), lines.get(key, {})
        rows.append(
            MonthRow(
                month,
                state,
                LABELS[state],
                d.get("n", 0),
                d.get("held", 0),
                ln.get("n", 0),
                Decimal(ln.get("allowed") or 0).quantize(CENT),  # SQLite sums decimals as floats
                adjustments.get(key, 0),
            )
        )
    return rows


@login_required
def months_page(request, practice_id: int):
    """The practice's months with their state and totals; `?month=YYYY-MM` (the "Go to month" box) opens one."""
    practice = practice_for(request, practice_id, Function.BILLING)
    if "month" in request.GET:
        return redirect("month_page", practice.id, str(Month.parse(request.GET["month"].strip())))
    return render(request, "billing/months.html", {"practice": practice, "rows": month_rows(practice)})
