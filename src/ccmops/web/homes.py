"""What each role's home page shows, gathered through the user's scope."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.access.policy import PROGRAM_LEADS, OrgKind, Role
from ccmops.billing.models import PatientMonthDecision
from ccmops.compliance.models import AuditEvent
from ccmops.months.month import Month
from ccmops.organizations.engagements import practice_today, with_states
from ccmops.organizations.models import Membership, Organization, User
from ccmops.organizations.services import matrices_in_force, matrix_version_in_force
from ccmops.patients.scope import Scope
from ccmops.platform import charts
from ccmops.reporting import daily
from ccmops.reporting.setup import practice_setup
from ccmops.web.roles import memberships_of


def practice_rows(scope: Scope) -> list[dict]:
    """One row per visible practice: patients, the user's functions there, the model in force."""
    today = timezone.localdate()
    rows = []
    counts = dict(scope.patients().values_list("practice_id").annotate(n=Count("id")))
    practices = list(scope.practices())
    matrices = matrices_in_force(practices, today)
    for practice in practices:
        matrix = matrices.get(practice.id)
        rows.append(
            {
                "practice": practice,
                "patients": counts.get(practice.id, 0),
                "functions": sorted(scope.decision.functions_at(practice.id), key=list(Function).index),
                "function_values": {f.value for f in scope.decision.functions_at(practice.id)},
                "leads": bool(scope.decision.roles_at(practice.id) & PROGRAM_LEADS),  # program health is theirs
                "matrix": matrix,
                "grant": scope.decision.grant_for(practice.id),
            }
        )
    return rows


def care_manager(scope: Scope, user) -> dict:
    mine = scope.patients().filter(care_manager=user).select_related("practice")
    practices = practice_rows(scope)
    days, (week,) = daily.last_days(  # days in the user's display time zone
        [user], [r["practice"].id for r in practices], timezone.localdate(), timezone.get_current_timezone()
    )
    return {
        "my_patients": mine[:200],
        "my_patient_count": mine.count(),
        "practices": practices,
        "my_days": days,
        "my_week": week,
        "my_today": week.days[-1],
    }


def billing_practitioner(scope: Scope, user) -> dict:
    mine = scope.patients().filter(billing_practitioner__user=user).select_related("practice", "care_manager")
    return {"my_patients": mine[:200], "my_patient_count": mine.count(), "practices": practice_rows(scope)}


def biller(scope: Scope, user) -> dict:
    rows = [r for r in practice_rows(scope) if Function.BILLING in r["functions"]]
    return {"practices": rows, "chart": last_month_chart([r["practice"] for r in rows])}


def last_month_chart(practices) -> str:
    """Each practice's last completed month (in its own time zone) as decided: patient-months ready to bill,
    held for review and not billable — the biller's morning view of where the close stands."""
    if not practices:
        return ""
    months = {p.id: str(Month.current(p.time_zone).previous()) for p in practices}
    counts: dict[tuple[int, str], int] = {}
    for r in (
        PatientMonthDecision.objects.filter(practice_id__in=months, month__in=set(months.values()))
        .values("practice_id", "month", "review", "status")
        .annotate(n=Count("id"))
    ):
        if r["month"] != months[r["practice_id"]]:
            continue
        state = "held" if r["review"] == "needs_review" else ("ready" if r["status"] == "ready" else "other")
        counts[(r["practice_id"], state)] = counts.get((r["practice_id"], state), 0) + r["n"]
    rows = []
    for p in practices:
        for state, label in (("ready", "ready"), ("held", "held for review")):
            rows.append((f"{p.name[:28]} · {label}", counts.get((p.id, state), 0)))
    title = f"Last month's patient-months as evaluated ({', '.join(sorted(set(months.values())))})"
    return charts.hbars(title, rows, width=640)


def program_owner(scope: Scope, user) -> dict:
    owned = [m.organization for m in memberships_of(user) if m.role == Role.PROGRAM_OWNER]
    today = timezone.localdate()
    practices = []
    for practice in owned:
        practices.append(
            {
                "practice": practice,
                "matrix": matrix_version_in_force(practice, today),
                "staff": Membership.objects.filter(organization=practice, active=True).select_related("user"),
                "engagements": with_states(practice),
                "patients": scope.patients().filter(practice=practice).count(),
                "unassigned": scope.patients().filter(practice=practice, care_manager__isnull=True).count(),
                "setup": (steps := practice_setup(practice, practice_today(practice))),
                "setup_done": all(step.done for step in steps),
                "links": program_links(scope, practice),
            }
        )
    return {"owned": practices}


def program_links(scope: Scope, practice) -> list[tuple[str, str]]:
    """The program's working pages for the practice that this user's grant opens, in the loop's order."""
    may = {f for f in Function if scope.decision.grant_for(practice.id, f) is not None}
    links = []
    if Function.IDENTIFICATION in may:
        links += [
            ("Import patients", reverse("imports", args=[practice.id])),
            ("Enrollment candidates", reverse("candidates", args=[practice.id])),
        ]
    links.append(("Enrollment funnel", reverse("funnel", args=[practice.id])))
    if Function.BILLING in may:
        links.append(("Months and claims", reverse("month_page_default", args=[practice.id])))
    links.append(("Background jobs", reverse("practice_jobs", args=[practice.id])))
    return links


def partner_ops_lead(scope: Scope, user) -> dict:
    partners = [m.organization for m in memberships_of(user) if m.organization.kind == OrgKind.PARTNER]
    staff = (
        User.objects.filter(memberships__organization__in=partners, memberships__active=True)
        .annotate(
            assigned=Count(
                "assigned_patients",
                filter=Q(assigned_patients__practice_id__in=scope.decision.visible_practice_ids),
                distinct=True,
            )
        )
        .distinct()
        .order_by("last_name")
    )
    return {"partners": partners, "practices": practice_rows(scope), "staff": staff}


def compliance_reviewer(scope: Scope, user) -> dict:
    events = (
        AuditEvent.objects.filter(practice_id__in=scope.decision.visible_practice_ids)
        .select_related("patient", "practice")
        .order_by("-id")[:50]
    )
    return {"events": events, "practices": practice_rows(scope)}


def system_admin(scope: Scope, user) -> dict:
    orgs = Organization.objects.annotate(
        staff=Count("memberships", filter=Q(memberships__active=True), distinct=True)
    ).order_by("kind", "name")
    return {"organizations": orgs, "user_count": User.objects.filter(is_active=True).count()}


BUILDERS = {
    Role.CARE_MANAGER: care_manager,
    Role.BILLING_PRACTITIONER: billing_practitioner,
    Role.BILLER: biller,
    Role.PROGRAM_OWNER: program_owner,
    Role.PARTNER_OPS_LEAD: partner_ops_lead,
    Role.COMPLIANCE_REVIEWER: compliance_reviewer,
    Role.SYSTEM_ADMIN: system_admin,
}
