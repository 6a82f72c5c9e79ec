"""Monthly outreach, scheduled calls, care transitions and follow-up tasks."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment, OutreachAttempt
from ccmops.enrollment.services import log_outreach_attempt
from ccmops.errors import Conflict, InvalidInput
from ccmops.worklist.models import CareTransition, ContactWindow, FollowUpTask, ScheduledContact
from ccmops.worklist.scheduling import FAILED, Suggestion, Window, suggest_next_contact

TRANSITION_FOLLOW_UP = {  # kind -> (business days to follow up, task title)
    "discharge": (2, "Post-discharge follow-up call (within 2 business days)"),
    "snf_discharge": (2, "Post-SNF-discharge follow-up call (within 2 business days)"),
    "ed_visit": (3, "Follow up after the ED visit"),
    "admission": (1, "Admitted: coordinate with the inpatient team and plan the discharge follow-up"),
    "snf_admission": (1, "Admitted to a SNF: coordinate; care-management days there do not count"),
}


def add_business_days(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def open_task(*, patient, kind: str, title: str, due_on: dt.date, transition=None, now=None) -> FollowUpTask:
    """A follow-up task on the patient's page and worklist, and in the inbox of whoever it is routed to
    (`reporting.inbox`)."""
    return FollowUpTask.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        kind=kind,
        title=title[:300],
        due_on=due_on,
        transition=transition,
        created_at=now or timezone.now(),
    )


def patient_zone(patient) -> str:
    return patient.time_zone or patient.practice.time_zone


def windows_of(patient) -> tuple[Window, ...]:
    return tuple(Window(w.weekday, w.start, w.end) for w in ContactWindow.objects.filter(patient=patient))


def suggest_for(patient, *, minutes: int, last_outcome: str | None, now=None) -> Suggestion:
    return suggest_next_contact(
        now=now or timezone.now(),
        zone_name=patient_zone(patient),
        minutes_this_month=minutes,
        last_outcome=last_outcome,
        windows=windows_of(patient),
    )


@transaction.atomic
def log_monthly_attempt(
    *,
    patient,
    program: str,
    channel: str,
    outcome: str,
    by,
    party_id: int | None = None,
    note: str = "",
    minutes_this_month: int = 0,
    now=None,
) -> tuple[OutreachAttempt, ScheduledContact | None]:
    """Log a monthly call; close or reschedule the scheduled call; after a run of failures mark the patient
    unreachable (off the call list) with a follow-up task."""
    now = now or timezone.now()
    attempt = log_outreach_attempt(
        patient=patient,
        program=program,
        purpose="monthly",
        channel=channel,
        outcome=outcome,
        by=by,
        party_id=party_id,
        note=note,
        at=now,
    )
    enrollment = Enrollment.objects.filter(patient=patient, program=program).first()
    pending = ScheduledContact.objects.filter(patient=patient, status="scheduled")
    if outcome in ("reached", "callback"):
        pending.update(status="done")
        if enrollment and enrollment.unreachable_since:
            enrollment.unreachable_since = None
            enrollment.save(update_fields=["unreachable_since"])
    else:
        pending.update(status="missed")
    if outcome in FAILED and enrollment is not None:
        limit = patient.practice.unreachable_after_attempts
        recent = list(
            OutreachAttempt.objects.filter(patient=patient, purpose="monthly")
            .order_by("-at", "-id")
            .values_list("outcome", flat=True)[:limit]
        )
        if len(recent) == limit and all(o in FAILED for o in recent) and not enrollment.unreachable_since:
            enrollment.unreachable_since = now
            enrollment.save(update_fields=["unreachable_since"])
            open_task(
                patient=patient,
                kind="unreachable",
                now=now,
                title=f"Unreachable after {limit} attempts: send a letter, try other contacts, tell the practitioner",
                due_on=add_business_days(timezone.localdate(), 5),
            )
            return attempt, None
    if outcome == "declined":
        return attempt, None
    suggestion = suggest_for(patient, minutes=minutes_this_month, last_outcome=outcome, now=now)
    nxt = ScheduledContact.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        due_at=suggestion.at,
        reason=suggestion.reason,
        assigned_to=patient.care_manager,
        created_by=by,
        created_at=now,
    )
    return attempt, nxt


def reschedule_missed(practice_ids, now=None) -> int:
    """Calls whose time passed (two hours' grace) without an attempt become missed and move to the next window."""
    now = now or timezone.now()
    n = 0
    # Runs on every worklist load and almost always finds nothing: a bare id query first (a third of the cost
    # of building the query with its joins), the contacts with their patients only when there are some.
    missed = list(
        ScheduledContact.objects.filter(
            practice_id__in=practice_ids, status="scheduled", due_at__lt=now - dt.timedelta(hours=2)
        ).values_list("id", flat=True)
    )
    if not missed:
        return 0
    for contact in ScheduledContact.objects.filter(id__in=missed, status="scheduled").select_related(
        "patient__practice", "patient__care_manager"
    ):
        with transaction.atomic():
            suggestion = suggest_for(contact.patient, minutes=0, last_outcome="no_answer", now=now)
            replacement = ScheduledContact.objects.create(
                practice_id=contact.practice_id,
                patient=contact.patient,
                due_at=suggestion.at,
                reason=f"Rescheduled: the call due {timezone.localtime(contact.due_at):%Y-%m-%d %H:%M} was missed",
                assigned_to=contact.assigned_to,
                created_at=now,
            )
            contact.status, contact.replaced_by = "missed", replacement
            contact.save(update_fields=["status", "replaced_by"])
            n += 1
    return n


@transaction.atomic
def record_transition(
    *,
    patient,
    kind: str,
    occurred_at: dt.datetime,
    facility: str = "",
    by=None,
    source: str = "manual",
    message_id: str = "",
) -> CareTransition:
    if kind not in TRANSITION_FOLLOW_UP:
        raise InvalidInput(f"kind: expected one of {', '.join(TRANSITION_FOLLOW_UP)}")
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise InvalidInput("occurred_at: cannot be in the future")
    transition = CareTransition.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        kind=kind,
        occurred_at=occurred_at,
        facility=facility,
        source=source,
        message_id=message_id,
        recorded_by=by,
        created_at=timezone.now(),
    )
    days, title = TRANSITION_FOLLOW_UP[kind]
    day = timezone.localtime(occurred_at).date()
    open_task(
        patient=patient, kind="transition", title=title, due_on=add_business_days(day, days), transition=transition
    )
    record_audit(
        action=AuditAction.CREATE, user=by, patient=patient, obj=transition, detail={"kind": kind, "source": source}
    )
    return transition


@transaction.atomic
def complete_task(*, task: FollowUpTask, by) -> FollowUpTask:
    if task.status == "done":
        raise Conflict("This task is already done.")
    task.status, task.done_by, task.done_at = "done", by, timezone.now()
    task.save(update_fields=["status", "done_by", "done_at"])
    record_audit(action=AuditAction.UPDATE, user=by, patient=task.patient, obj=task, detail={"to": "done"})
    return task
