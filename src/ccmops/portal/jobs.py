"""The messages' jobs (issue 36): sending a practice's queued notices, started after each one is queued and every
hour for practices with notices due (a retry's time come)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.organizations.models import Organization
from ccmops.portal.models import Delivery
from ccmops.portal.reminders import REMIND_AHEAD, remind_calls
from ccmops.portal.sending import send_due
from ccmops.worklist.models import ScheduledContact


@job_kind("messages-send")
def messages_send(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="sending to patients")
    return send_due(practice_id, base_url=getattr(settings, "CCMOPS_PUBLIC_URL", ""))


@scheduled("messages-send", every="hour")
def messages_due(now):
    due = Delivery.objects.filter(status="queued", next_attempt_at__lte=now or timezone.now())
    for practice_id in sorted(set(due.values_list("practice_id", flat=True))):
        yield practice_id, {"practice_id": practice_id}, "Messages to patients"


@job_kind("call-reminders")
def call_reminders(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="reminding patients of their calls")
    return {"queued": remind_calls(Organization.objects.get(pk=practice_id))}


@scheduled("call-reminders", every="hour")
def reminders_due(now):
    """Every hour, each practice with calls in the next day: the patients' reminders, outside quiet hours."""
    soon = ScheduledContact.objects.filter(status="scheduled", due_at__gt=now or timezone.now(),
                                           due_at__lte=(now or timezone.now()) + REMIND_AHEAD)  # fmt: skip
    for practice_id in sorted(set(soon.values_list("practice_id", flat=True))):
        yield practice_id, {"practice_id": practice_id}, "Reminders of calls"
