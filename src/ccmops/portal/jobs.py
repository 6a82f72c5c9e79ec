"""The messages' jobs (issue 36): sending a practice's queued notices, started after each one is queued and every
hour for practices with notices due (a retry's time come)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.portal.models import Delivery
from ccmops.portal.sending import send_due


@job_kind("messages-send")
def messages_send(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="sending to patients")
    return send_due(practice_id, base_url=getattr(settings, "CCMOPS_PUBLIC_URL", ""))


@scheduled("messages-send", every="hour")
def messages_due(now):
    due = Delivery.objects.filter(status="queued", next_attempt_at__lte=now or timezone.now())
    for practice_id in sorted(set(due.values_list("practice_id", flat=True))):
        yield practice_id, {"practice_id": practice_id}, "Messages to patients"
