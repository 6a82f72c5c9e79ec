"""The monthly worklist: active patients whose monthly work the user's party owns, ordered by what matters,
with minutes counted by the rules engine."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.careplans.models import CarePlanVersion
from ccmops.careplans.services import latest_approved_number, reviews_due
from ccmops.enrollment.models import Enrollment, OutreachAttempt
from ccmops.months.month import month_of
from ccmops.months.standings import Standing, cached
from ccmops.patients.scope import Scope
from ccmops.rules.families import time_steps
from ccmops.worklist.models import FollowUpTask, ScheduledContact
from ccmops.worklist.services import add_business_days, reschedule_missed

TASKS_AHEAD = 2  # business days before its due day that a follow-up task shows on the worklist

# Why a month is held, as a care manager's flag (the patient's page and the month close give the whole finding).
HOLD_FLAGS = {
    "CCM.DUPLICATE.OTHER_PRACTITIONER": "Another practitioner bills CCM for this patient: the month is held",
    "CCM.ENROLLED_ELSEWHERE": "Enrolled in CCM with another practice: the month is held",
    "CCM.DUPLICATE.SAME_PRACTITIONER": "CCM already billed for this month: the month is held",
    "DOC.UNSIGNED_TIME": "Minutes without a signed note: write or sign it",
    "CCM.CARE_PLAN.NOT_SHARED": "Care plan not yet given to the patient: the month is held",
    "PCM.CARE_PLAN.NOT_SHARED": "Care plan not yet given to the patient: the month is held",
}


def hold_flag(codes) -> str:
    for code in codes:
        if code in HOLD_FLAGS:
            return HOLD_FLAGS[code]
    if any(c.startswith("COVERAGE.") for c in codes):
        return "Coverage to check: the month is held"
    if any(c.startswith(("CLAIM.DIAGNOSES.", "DIAGNOSIS.")) for c in codes):
        return "Diagnoses to confirm: the month is held"
    return "The month is held: see the patient's page"


@dataclass
class Row:
    enrollment: Enrollment
    standing: Standing
    last_contact: dt.datetime | None
    last_outcome: str
    next_call: ScheduledContact | None
    tasks: list[FollowUpTask]
    review_due: dt.date | None
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    panel_size: int = 0  # patients on the whole worklist (every page), read with the page


def practices_for(scope: Scope) -> list[int]:
    return [
        p
        for p in scope.decision.visible_practice_ids
        if scope.decision.grant_for(p, Function.MONTHLY_OUTREACH) is not None
        or scope.decision.grant_for(p, Function.CARE_COORDINATION) is not None
    ]


PAGE = 50  # rows per worklist page; the rest follow page by page in the same order


def _panel(scope: Scope, user, *, mine: bool, practice: int | None):
    practices = [p for p in practices_for(scope) if practice is None or p == practice]
    query = Enrollment.objects.filter(practice_id__in=practices, status="active", unreachable_since__isnull=True)
    if mine:
        query = query.filter(patient__care_manager=user)
    return practices, query


def _local_bounds(on: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The start of `on`'s month and of the next day, in the time zone the user sees (their practice's)."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(on.replace(day=1), dt.time(), tzinfo=zone)
    return start, dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def _prioritized(query, on: dt.date):
    """The panel ordered by urgency, decided in the database over every patient of the panel (not only the
    first page): follow-ups due 1000, a call scheduled today 500, no touch yet 100, minutes short of the next
    threshold 10 per minute per day left, a care-plan review due 5. Minutes are the stored month standing,
    which every change to a patient's time re-decides; a patient without one has no time this month yet."""
    days_left = calendar.monthrange(on.year, on.month)[1] - on.day
    month_start, tomorrow = _local_bounds(on)
    reviews = CarePlanVersion.objects.filter(
        care_plan__patient_id=OuterRef("patient_id"), status="approved", next_review_due__lte=on
    ).filter(number=Subquery(latest_approved_number()))
    query = query.alias(
        standing=FilteredRelation("patient__standings", condition=Q(patient__standings__month=month_of(on))),
        counted=Coalesce(F("standing__minutes"), 0),
        # due, or coming due within two business days (a post-discharge call is seen before its last day)
        task_due=Exists(
            FollowUpTask.objects.filter(
                patient_id=OuterRef("patient_id"), status="open", due_on__lte=add_business_days(on, TASKS_AHEAD)
            )
        ),
        call_due=Exists(
            ScheduledContact.objects.filter(
                patient_id=OuterRef("patient_id"),
                status="scheduled",
                due_at__lt=tomorrow,
            )
        ),
        reached=Exists(
            OutreachAttempt.objects.filter(
                patient_id=OuterRef("patient_id"),
                purpose="monthly",
                outcome="reached",
                at__gte=month_start,
            )
        ),
        review_due=Exists(reviews),
    )
    first = [When(program=p, then=Value(steps[0][0])) for p in ("ccm", "pcm", "apcm") if (steps := time_steps(p))]
    threshold = Case(When(standing__id__isnull=False, then=F("standing__next_threshold")), *first, default=None)
    short = Coalesce(Greatest(threshold - F("counted"), 0), 0)

    def weight(condition, points):
        return Case(When(condition, then=Value(points)), default=Value(0.0), output_field=FloatField())

    score = (
        weight(Q(task_due=True), 1000.0)
        + weight(Q(call_due=True), 500.0)
        + weight(Q(counted=0, reached=False), 100.0)
        + Cast(short, FloatField()) * Value(10.0 / max(days_left, 1))
        + weight(Q(review_due=True), 5.0)
    )
    return query.annotate(priority=score, panel_size=Window(Count("id"))).order_by(
        "-priority", "patient__family_name", "patient__given_name", "patient_id"
    )


def worklist_size(scope: Scope, user, *, mine: bool = False, practice: int | None = None) -> int:
    """How many patients the worklist has; a page of rows carries it already (`Row.panel_size`), so this is
    for a page past the end."""
    return _panel(scope, user, mine=mine, practice=practice)[1].count()


def worklist(
    scope: Scope,
    user,
    *,
    on: dt.date,
    mine: bool = False,
    limit: int = PAGE,
    offset: int = 0,
    practice: int | None = None,
) -> list[Row]:
    """One page of the worklist, most urgent first; the details of its rows only."""
    practices, query = _panel(scope, user, mine=mine, practice=practice)
    reschedule_missed(practices)
    enrollments = list(
        _prioritized(query, on).select_related("patient", "patient__care_manager", "patient__practice")[
            offset : offset + limit
        ]
    )
    ids = [e.patient_id for e in enrollments]
    month_start, tomorrow = _local_bounds(on)
    attempts = {
        r["patient_id"]: r
        for r in OutreachAttempt.objects.filter(patient_id__in=ids, purpose="monthly")
        .values("patient_id")
        .annotate(last=Max("at"), reached=Max("at", filter=Q(outcome="reached")))
    }
    outcomes = dict(
        OutreachAttempt.objects.filter(patient_id__in=ids, purpose="monthly")
        .order_by("patient_id", "at")
        .values_list("patient_id", "outcome")
    )
    calls: dict[int, ScheduledContact] = {}
    for c in ScheduledContact.objects.filter(patient_id__in=ids, status="scheduled").order_by("due_at"):
        calls.setdefault(c.patient_id, c)  # the next one
    tasks: dict[int, list[FollowUpTask]] = {}
    for t in FollowUpTask.objects.filter(patient_id__in=ids, status="open"):
        tasks.setdefault(t.patient_id, []).append(t)
    due = {v.care_plan.patient_id: v.next_review_due for v in reviews_due(scope.patients().filter(id__in=ids), on)}
    by_practice: dict[int, list] = {}
    for e in enrollments:
        by_practice.setdefault(e.practice_id, []).append(e)
    stand: dict[int, Standing] = {}
    for group in by_practice.values():
        stand.update(cached([e.patient for e in group], {e.patient_id: e.program for e in group}, on))
    rows = []
    for e in enrollments:
        s = stand[e.patient_id]
        info = attempts.get(e.patient_id, {})
        row = Row(
            e,
            s,
            info.get("last"),
            outcomes.get(e.patient_id, ""),
            calls.get(e.patient_id),
            sorted(tasks.get(e.patient_id, []), key=lambda t: t.due_on),
            due.get(e.patient_id),
            score=e.priority,
            panel_size=e.panel_size,
        )
        overdue = [t for t in row.tasks if t.due_on <= on]
        soon = [t for t in row.tasks if on < t.due_on <= add_business_days(on, TASKS_AHEAD)]
        if overdue:
            row.reasons.append(
                f"{len(overdue)} follow-up task{'' if len(overdue) == 1 else 's'} due: {overdue[0].title}"
            )
        if soon:
            row.reasons.append(f"{soon[0].title}, due {soon[0].due_on:%a %b} {soon[0].due_on.day}")
        if s.holds:
            row.reasons.append(hold_flag(s.holds))
        if row.next_call and row.next_call.due_at < tomorrow:
            row.reasons.append("Scheduled call today")
        reached = info.get("reached")
        if s.minutes == 0 and not (reached and reached >= month_start):
            row.reasons.append("No touch yet this month")
        if s.next_threshold and s.minutes_short:
            row.reasons.append(f"{s.minutes_short} min to {s.next_code} ({s.days_left} days left)")
        if row.review_due:
            row.reasons.append(f"Care-plan review due {row.review_due}")
        rows.append(row)
    return rows
