"""A person's inbox: what waits for them, across their practices, each item linking to where it is done and
routed by the responsibility matrix (a function another party owns at a practice brings nothing of it here)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import asdict, dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.access.policy import Role
from ccmops.billing.models import PatientMonthDecision
from ccmops.careplans.models import CarePlanVersion
from ccmops.documentation.models import Note
from ccmops.jobs.models import Job
from ccmops.months.models import Adjustment, MonthClose, MonthStanding
from ccmops.months.month import Month
from ccmops.organizations.models import Engagement, Organization
from ccmops.patients.scope import Scope
from ccmops.portal.models import Message, UnmatchedText
from ccmops.worklist.models import FollowUpTask, ScheduledContact
from ccmops.worklist.queries import TASKS_AHEAD, hold_flag
from ccmops.worklist.services import add_business_days

LIMIT = 50  # items of one kind shown; the count says how many there are


@dataclass(frozen=True)
class Item:
    kind: str  # a stable key for the API: care_plan_approval, note_to_sign, follow_up, call_today, …
    title: str
    detail: str
    url: str
    practice: str
    due: dt.date | None = None

    def as_dict(self) -> dict:
        return {**asdict(self), "due": self.due.isoformat() if self.due else None}


def _practices_with(scope: Scope, function: Function) -> list[int]:
    return [p for p in scope.decision.visible_practice_ids if scope.decision.grant_for(p, function) is not None]


def inbox(scope: Scope, user, today: dt.date | None = None) -> list[Item]:
    """Everything waiting for `user`, most pressing kinds first."""
    today = today or timezone.localdate()
    names = dict(Organization.objects.filter(id__in=scope.decision.visible_practice_ids).values_list("id", "name"))
    items: list[Item] = []
    items += _care_plans_to_approve(user, names)
    items += _notes_to_sign(user, names)
    items += _patient_messages(scope, user, names)
    items += _calls_today(scope, user, names, today)
    items += _follow_ups(scope, user, names, today)
    items += _held_patients(scope, user, names, today)
    items += _months(scope, names)
    items += _adjustments(scope, names)
    items += _engagements(scope, user, names, today)
    items += _failed_jobs(user, names)
    return items


def _care_plans_to_approve(user, names) -> list[Item]:
    later = CarePlanVersion.objects.filter(care_plan=OuterRef("care_plan"), number__gt=OuterRef("number"))
    versions = (
        CarePlanVersion.objects.filter(
            status__in=("draft", "reviewed"),
            care_plan__patient__billing_practitioner__user=user,
            practice_id__in=names,
        )
        .exclude(Exists(later))  # only a plan's newest version waits; an older draft was superseded
        .select_related("care_plan__patient")
        .order_by("created_at")[:LIMIT]
    )
    return [
        Item(
            "care_plan_approval",
            f"Care plan to approve: {v.care_plan.patient}",
            f"version {v.number}, {v.get_status_display().lower()} {timezone.localtime(v.created_at):%Y-%m-%d}",
            reverse("careplan_detail", args=[v.care_plan_id]),
            names[v.practice_id],
        )
        for v in versions
    ]


def _notes_to_sign(user, names) -> list[Item]:
    notes = (
        Note.objects.filter(author=user, signed_at__isnull=True, practice_id__in=names)
        .select_related("patient")
        .order_by("created_at")[:LIMIT]
    )
    return [
        Item(
            "note_to_sign",
            f"Note to sign: {n.patient}",
            f"{n.get_activity_display()}, written {timezone.localtime(n.created_at):%Y-%m-%d}",
            reverse("note_edit", args=[n.id]),
            names[n.practice_id],
        )
        for n in notes
    ]


def _mine(user):
    return Q(assigned_to=user) | Q(assigned_to__isnull=True, patient__care_manager=user)


def _calls_today(scope, user, names, today) -> list[Item]:
    practices = _practices_with(scope, Function.MONTHLY_OUTREACH)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    calls = (
        ScheduledContact.objects.filter(_mine(user), status="scheduled", practice_id__in=practices)
        .filter(due_at__gte=start, due_at__lt=start + dt.timedelta(days=1))
        .select_related("patient")
        .order_by("due_at")[:LIMIT]
    )
    return [
        Item(
            "call_today",
            f"Call {c.patient} at {timezone.localtime(c.due_at):%H:%M}",
            c.reason,
            reverse("patient_detail", args=[c.patient_id]),
            names[c.practice_id],
            today,
        )
        for c in calls
    ]


def _patient_messages(scope, user, names) -> list[Item]:
    """Messages the care manager's patients sent (on their page, or by text) that nobody on the team has read."""
    practices = _practices_with(scope, Function.CARE_COORDINATION)
    unread = (
        Message.objects.filter(practice_id__in=practices, patient__care_manager=user, from_patient=True,
                               read_at__isnull=True)
        .select_related("patient__practice")
        .order_by("created_at")[:LIMIT]
    )  # fmt: skip
    items = [
        Item(
            "unmatched_text",
            f"{n} text{'s' if n != 1 else ''} from unknown numbers",
            "place each on the patient's thread",
            reverse("unmatched_texts", args=[practice_id]),
            names[practice_id],
        )
        for practice_id, n in UnmatchedText.objects.filter(practice_id__in=practices, handled_at__isnull=True)
        .values_list("practice_id")
        .annotate(n=Count("id"))
        .values_list("practice_id", "n")
    ]
    return items + [
        Item(
            "patient_message",
            f"Message from {m.patient}",
            f"sent {m.created_at.astimezone(zoneinfo.ZoneInfo(m.patient.practice.time_zone)):%b %-d, %-I:%M %p}",
            reverse("reach", args=[m.patient_id]),
            names[m.practice_id],
        )
        for m in unread
    ]


def _follow_ups(scope, user, names, today) -> list[Item]:
    practices = _practices_with(scope, Function.CARE_COORDINATION)
    # A medication discrepancy found in a reconciliation is the billing practitioner's to review; an urgent task
    # (a PHQ-9 item 9 above 0) is both the practitioner's and the care manager's; the others the care manager's.
    mine = Q(practice_id__in=practices, patient__care_manager=user) & ~Q(kind="medication")
    mine |= Q(kind__in=("medication", "urgent"), practice_id__in=names, patient__billing_practitioner__user=user)
    tasks = (
        FollowUpTask.objects.filter(mine, status="open", due_on__lte=add_business_days(today, TASKS_AHEAD))
        .select_related("patient")
        .order_by("due_on")[:LIMIT]
    )
    return [
        Item(
            "follow_up",
            f"{t.title}: {t.patient}",
            _due(t.due_on, today),
            reverse("patient_detail", args=[t.patient_id]),
            names[t.practice_id],
            t.due_on,
        )
        for t in tasks
    ]


def _due(day: dt.date, today: dt.date) -> str:
    if day < today:
        return f"overdue since {day:%a %b} {day.day}"
    return "due today" if day == today else f"due {day:%a %b} {day.day}"


def _held_patients(scope, user, names, today) -> list[Item]:
    """This month's holds from the standings (kept current as facts change), last month's from its evaluation (a
    standing of a past month is not re-decided when a late note is signed; the month's decision is)."""
    standings = (
        MonthStanding.objects.filter(patient__care_manager=user, month=str(Month.of(today)), practice_id__in=names)
        .exclude(holds=[])
        .select_related("patient")
        .order_by("patient__family_name")[:LIMIT]
    )
    items = [
        Item(
            "held_patient",
            f"{s.patient}: {hold_flag(s.holds)}",
            f"month {s.month}",
            reverse("patient_detail", args=[s.patient_id]),
            names[s.practice_id],
        )
        for s in standings
    ]
    last = str(Month.of(today).previous())
    decisions = (
        PatientMonthDecision.objects.filter(
            patient__care_manager=user, month=last, practice_id__in=names, review="needs_review"
        )
        .select_related("patient")
        .order_by("patient__family_name")[:LIMIT]
    )
    items += [
        Item(
            "held_patient",
            f"{d.patient}: {hold_flag([f['code'] for f in d.reasons if f.get('severity') == 'hold'])}",
            f"month {last}, as evaluated",
            reverse("patient_detail", args=[d.patient_id]),
            names[d.practice_id],
        )
        for d in decisions
    ]
    return items


BILLING_ROLES = frozenset({Role.BILLER, Role.BILLING_PRACTITIONER, Role.PROGRAM_OWNER})


def _months(scope, names) -> list[Item]:
    practices = [p for p in _practices_with(scope, Function.BILLING) if scope.decision.roles_at(p) & BILLING_ROLES]
    closes = list(MonthClose.objects.filter(practice_id__in=practices, status="reviewing").order_by("month"))
    waiting = {
        (r["practice_id"], r["month"]): r["n"]
        for r in PatientMonthDecision.objects.filter(
            practice_id__in=practices, month__in={c.month for c in closes}, review="needs_review"
        )
        .values("practice_id", "month")
        .annotate(n=Count("id"))
    }
    items = []
    for close in closes:
        url = reverse("month_page", args=[close.practice_id, close.month])
        n = waiting.get((close.practice_id, close.month), 0)
        if n:
            title, detail, kind = f"{close.month}: patient-months to review", f"{n} held for review", "month_review"
        else:
            title, detail, kind = f"{close.month} is ready to approve", "evaluated; nothing held", "month_approval"
        items.append(Item(kind, title, detail, url, names[close.practice_id]))
    return items


def _adjustments(scope, names) -> list[Item]:
    practices = _practices_with(scope, Function.BILLING)
    rows = (
        Adjustment.objects.filter(practice_id__in=practices, resolved_at__isnull=True)
        .values("practice_id", "month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    return [
        Item(
            "adjustments",
            f"{r['month']}: late work to resolve",
            f"{r['n']} adjustment{'s' if r['n'] != 1 else ''} in the queue of a closed month",
            reverse("month_page", args=[r["practice_id"], r["month"]]) + "#adjustments",
            names[r["practice_id"]],
        )
        for r in rows[:LIMIT]
    ]


def _engagements(scope, user, names, today) -> list[Item]:
    leads = scope.decision.practices_with_role(Role.PROGRAM_OWNER) | scope.decision.practices_with_role(
        Role.PARTNER_OPS_LEAD
    )
    soon = today + dt.timedelta(days=30)
    changes = (
        Engagement.objects.filter(practice_id__in=leads)
        .filter(Q(starts_on__gt=today, starts_on__lte=soon) | Q(ends_on__gte=today, ends_on__lte=soon))
        .select_related("partner", "practice")
    )
    return [
        Item(
            "engagement",
            f"{e.partner.name} {'starts' if e.starts_on > today else 'ends'} at {e.practice.name}",
            f"on {(e.starts_on if e.starts_on > today else e.ends_on):%Y-%m-%d}: check who does each function",
            reverse("operating_model", args=[e.practice_id]) + "#engagements",
            e.practice.name,
            e.starts_on if e.starts_on > today else e.ends_on,
        )
        for e in changes[:LIMIT]
    ]


def _failed_jobs(user, names) -> list[Item]:
    since = timezone.now() - dt.timedelta(days=2)
    jobs = Job.objects.filter(requested_by=user, status="failed", finished_at__gte=since).select_related("practice")
    return [
        Item(
            "job_failed",
            f"Did not finish: {j.label}",
            j.error[:200],
            reverse("job_page", args=[j.id]),
            j.practice.name if j.practice else "",
        )
        for j in jobs[:LIMIT]
    ]
