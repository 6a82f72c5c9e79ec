"""Program health dashboard and the workspace (capacity, hours behind) — thin: scope, compute, render."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.policy import PROGRAM_LEADS, OrgKind
from ccmops.administration.staff import audit_change, lead_organizations
from ccmops.errors import InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.models import Membership
from ccmops.patients.scope import request_scope
from ccmops.platform import charts
from ccmops.platform.numerals import ascii_digits
from ccmops.reporting import assignment, daily
from ccmops.reporting.capacity import workspace
from ccmops.reporting.figures import BUCKETS, FIGURE_LABELS, PERCENT_FIGURES
from ccmops.reporting.metrics import program_health, program_health_many


def months_param(request, default: int = 6) -> int:
    raw = request.GET.get("months", str(default))
    if not ascii_digits(raw) or not 2 <= int(raw) <= 24:
        raise InvalidInput(f"months: expected a whole number from 2 to 24, got {raw!r}")
    return int(raw)


def health_charts(health) -> dict:
    """Shares are drawn for completed months only: a month in progress would always look like a collapse."""
    months = [m.month for m in health.months]

    def done(values):
        return [None if m.in_progress else v for m, v in zip(health.months, values, strict=True)]

    marks = {}
    if health.change:
        marks[f"{health.change.effective_from:%Y-%m}"] = f"→ {health.change.after.split(':')[0]}"
    consistency = charts.line_chart(
        "Monthly consistency",
        months,
        [
            ("Touched", done([m.touched_share for m in health.months])),
            ("Billable", done([m.billable_share for m in health.months])),
            ("Reached (calls)", done([m.reach_rate for m in health.months])),
        ],
        marks=marks,
    )
    habits = charts.line_chart(
        "Time tracking and documentation",
        months,
        [
            ("Time captured live", done([m.live_share for m in health.months])),
            ("Documentation completeness", done([m.completeness for m in health.months])),
        ],
        marks=marks,
    )
    buckets = charts.stacked_bars(
        "Enrolled patients by minutes in the month", months, list(BUCKETS), [m.buckets for m in health.months]
    )
    revenue = charts.line_chart(
        "Revenue captured and potential ($)",
        months,
        [
            (
                "Captured",
                [float(m.revenue_captured) if m.revenue_captured is not None else None for m in health.months],
            ),
            (
                "Potential",
                [float(m.revenue_potential) if m.revenue_potential is not None else None for m in health.months],
            ),
        ],
        percent=False,
    )
    return {"consistency": consistency, "habits": habits, "buckets": buckets, "revenue": revenue}


@login_required
def health(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, PROGRAM_LEADS, "Program health (with revenue)")
    result = program_health(practice, months=months_param(request))
    party_rows = []
    for party in result.parties:
        rows = []
        for name, points in party.series.items():
            if any(v is not None for _, v in points):
                rows.append({"name": name, "label": FIGURE_LABELS[name], "points": points})
        party_rows.append({"party": party, "rows": rows})
    return render(
        request,
        "reporting/health.html",
        {
            "practice": practice,
            "health": result,
            "charts": health_charts(result),
            "party_rows": party_rows,
            "percent_figures": PERCENT_FIGURES,
            "months_options": (3, 6, 12),
        },
    )


@login_required
def workspace_page(request):
    orgs = lead_organizations(request.user)
    if not orgs:
        raise PermissionDenied("The workspace is for partner operations leads and practice program owners.")
    chosen = next((o for o in orgs if o.slug == request.GET.get("org")), orgs[0])
    practices = _practices(request, chosen)
    today = timezone.localdate()
    ws = workspace(chosen, practices, today)
    waiting = assignment.unassigned(chosen, practices, today)
    days, rows = daily.last_days(
        [s.membership.user for s in ws.staff], [p.id for p in practices], today, timezone.get_current_timezone()
    )
    return render(
        request,
        "reporting/workspace.html",
        {
            "ws": ws,
            "orgs": orgs,
            "chosen": chosen,
            "unassigned": waiting[:100],
            "unassigned_count": waiting.count(),
            "assignable": assignment.staff_of(chosen),
            "daily_days": days,
            "daily_rows": rows,
        },
    )


@login_required
def workspace_consistency(request):
    """The organization's consistency in each practice it serves, with drift: a program-health computation per
    practice, so the workspace loads it after the page (a partner serves hundreds)."""
    orgs = lead_organizations(request.user)
    if not orgs:
        raise PermissionDenied("The workspace is for partner operations leads and practice program owners.")
    chosen = next((o for o in orgs if o.slug == request.GET.get("org")), orgs[0])
    consistency = party_consistency(chosen, _practices(request, chosen))
    latest = [
        (r["practice"].name, r["billable"][-1][1])
        for r in consistency
        if r["billable"] and r["billable"][-1][1] is not None
    ]
    chart = (
        charts.hbars("Enrolled patients billable, latest completed month", latest[:40], percent=True) if latest else ""
    )
    return render(  # the table for the workspace's htmx request, else a page of its own
        request,
        "reporting/_consistency.html" if request.htmx else "reporting/consistency.html",
        {"chosen": chosen, "consistency": consistency, "chart": chart},
    )


def _practices(request, org) -> list:
    scope = request_scope(request)
    return list(scope.practices()) if org.kind == OrgKind.PARTNER else [scope.practice(org.id)]


def _chosen(request):
    orgs = lead_organizations(request.user)
    chosen = next((o for o in orgs if o.slug == request.POST.get("org")), None)
    if chosen is None:
        raise NotFound("org: not an organization you lead")
    return chosen


@login_required
@require_POST
def assign_patient(request):
    """Designate one patient's care manager from the organization's staff (audited)."""
    org = _chosen(request)
    scope = request_scope(request)
    raw_patient, raw_staff = request.POST.get("patient", ""), request.POST.get("staff", "")
    if not ascii_digits(raw_patient) or not ascii_digits(raw_staff):
        raise InvalidInput("patient, staff: expected ids")
    staff = next((u for u in assignment.staff_of(org) if u.id == int(raw_staff)), None)
    if staff is None:
        raise InvalidInput(f"staff: not active clinical staff of {org}")
    assignment.assign(
        org=org,
        practices=_practices(request, org),
        patient=scope.patient(int(raw_patient)),
        staff=staff,
        by=request.user,
        on=timezone.localdate(),
    )
    return redirect(f"/workspace/?org={org.slug}#assign")


@login_required
@require_POST
def balance_patients(request):
    """Assign every patient waiting for a care manager by capacity left."""
    org = _chosen(request)
    assignment.balance(org=org, practices=_practices(request, org), by=request.user, on=timezone.localdate())
    return redirect(f"/workspace/?org={org.slug}#assign")


def party_consistency(org, practices) -> list[dict]:
    """The organization's own figures in each practice over the last completed months, with its drift there."""
    rows = []
    healths = program_health_many(practices, months=4, revenue=False)  # read together, not per practice
    for practice in sorted(practices, key=lambda p: p.name):
        health = healths[practice.id]
        party = next((p for p in health.parties if p.organization.id == org.id), None)
        if party is None:
            continue
        billable = [(m, v) for m, v in party.series["billable_share"]]
        rows.append({"practice": practice, "billable": billable, "drift": party.drift})
    return rows


@login_required
@require_POST
def committed_hours(request, membership_id: int):
    membership = Membership.objects.filter(id=membership_id).select_related("organization", "user").first()
    if membership is None or membership.organization not in lead_organizations(request.user):
        raise NotFound(f"No staff member {membership_id} in your organization.")
    raw = request.POST.get("hours", "")
    try:
        hours = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"hours: expected a number of hours a week, got {raw!r}") from None
    if not Decimal(0) <= hours <= Decimal(60):
        raise InvalidInput(f"hours: expected 0 to 60 hours a week, got {raw}")
    hours = hours.quantize(Decimal("0.1"))
    with transaction.atomic():
        Membership.objects.filter(user=membership.user, organization=membership.organization).update(
            committed_hours_per_week=hours
        )
        audit_change(
            membership.organization,
            request.user,
            "",
            membership.user,
            {"hours": hours, "was": membership.committed_hours_per_week},
        )
    return redirect(f"/workspace/?org={membership.organization.slug}")
