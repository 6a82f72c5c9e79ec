"""The monthly worklist: active patients whose monthly work the user's party owns, ordered by what matters,
with minutes counted by the rules engine."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Max, Q

from ccmops.access.operating_model import Function
from ccmops.access.scope import Scope
from ccmops.billing.month import Standing, cached
from ccmops.careplans.services import reviews_due
from ccmops.enrollment.models import Enrollment, OutreachAttempt
from ccmops.worklist.models import FollowUpTask, ScheduledContact
from ccmops.worklist.services import reschedule_missed


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


def practices_for(scope: Scope) -> list[int]:
    return [
        p
        for p in scope.decision.visible_practice_ids
        if scope.decision.grant_for(p, Function.MONTHLY_OUTREACH) is not None
        or scope.decision.grant_for(p, Function.CARE_COORDINATION) is not None
    ]


def worklist(
    scope: Scope, user, *, on: dt.date, mine: bool = False, limit: int = 200, practice: int | None = None
) -> list[Row]:
    practices = [p for p in practices_for(scope) if practice is None or p == practice]
    reschedule_missed(practices)
    query = Enrollment.objects.filter(practice_id__in=practices, status="active", unreachable_since__isnull=True)
    if mine:
        query = query.filter(patient__care_manager=user)
    enrollments = list(
        query.select_related("patient", "patient__care_manager", "patient__practice").order_by(
            "patient__family_name", "patient__given_name"
        )[: limit * 5]
    )
    ids = [e.patient_id for e in enrollments]
    month_start = on.replace(day=1)
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
    calls = {c.patient_id: c for c in ScheduledContact.objects.filter(patient_id__in=ids, status="scheduled")}
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
        )
        overdue = [t for t in row.tasks if t.due_on <= on]
        if overdue:
            row.reasons.append(f"{len(overdue)} follow-up task(s) due: {overdue[0].title}")
            row.score += 1000
        if row.next_call and row.next_call.due_at.date() <= on:
            row.reasons.append("Scheduled call today")
            row.score += 500
        reached = info.get("reached")
        if s.minutes == 0 and not (reached and reached.date() >= month_start):
            row.reasons.append("No touch yet this month")
            row.score += 100
        if s.next_threshold and s.minutes_short:
            row.reasons.append(f"{s.minutes_short} min to {s.next_code} ({s.days_left} days left)")
            row.score += 10 * s.minutes_short / max(s.days_left, 1)
        if row.review_due:
            row.reasons.append(f"Care-plan review due {row.review_due}")
            row.score += 5
        rows.append(row)
    rows.sort(key=lambda r: (-r.score, r.enrollment.patient.family_name))
    return rows[:limit]
