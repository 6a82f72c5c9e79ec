"""The monthly worklist: active patients whose monthly work the user's party owns, with what is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q

from ccmops.access.operating_model import Function
from ccmops.access.scope import Scope
from ccmops.careplans.services import reviews_due
from ccmops.enrollment.models import Enrollment, OutreachAttempt


@dataclass
class Row:
    enrollment: Enrollment
    last_attempt: dt.datetime | None
    last_outcome: str
    review_due: dt.date | None
    reasons: list[str]


def worklist(scope: Scope, user, *, on: dt.date, mine: bool = False) -> list[Row]:
    practices = [
        p
        for p in scope.decision.visible_practice_ids
        if scope.decision.grant_for(p, Function.MONTHLY_OUTREACH) is not None
    ]
    enrollments = (
        Enrollment.objects.filter(practice_id__in=practices, status="active")
        .select_related("patient", "patient__care_manager", "patient__practice")
        .order_by("patient__family_name", "patient__given_name")
    )
    if mine:
        enrollments = enrollments.filter(patient__care_manager=user)
    patient_ids = [e.patient_id for e in enrollments]
    month_start = on.replace(day=1)
    last = {
        row["patient_id"]: row
        for row in OutreachAttempt.objects.filter(patient_id__in=patient_ids, purpose="monthly")
        .values("patient_id")
        .annotate(last=Max("at"), reached=Max("at", filter=Q(outcome="reached")))
    }
    outcomes = dict(
        OutreachAttempt.objects.filter(patient_id__in=patient_ids, purpose="monthly")
        .order_by("patient_id", "at")
        .values_list("patient_id", "outcome")
    )
    due = {
        v.care_plan.patient_id: v.next_review_due for v in reviews_due(scope.patients().filter(id__in=patient_ids), on)
    }
    rows = []
    for e in enrollments:
        info = last.get(e.patient_id, {})
        reasons = []
        touched = info.get("reached") and info["reached"].date() >= month_start
        if not touched:
            reasons.append("No contact yet this month")
        if e.patient_id in due:
            reasons.append(f"Care-plan review due {due[e.patient_id]}")
        rows.append(Row(e, info.get("last"), outcomes.get(e.patient_id, ""), due.get(e.patient_id), reasons))
    rows.sort(key=lambda r: (not r.reasons, -len(r.reasons), r.enrollment.patient.family_name))
    return rows
