"""Delivery to the EHR as a job (issue 34): started after each event that owes the EHR something commits, and
every hour for practices with items due (a retry's time come). Resumable by design: each item is sent in its own
transaction."""

from __future__ import annotations

from django.utils import timezone

from ccmops.ehr.deliver import deliver
from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.outbox.models import Outgoing


@job_kind("ehr-deliver")
def ehr_deliver(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="sending to the EHR")
    return deliver(practice_id)


@scheduled("ehr-deliver", every="hour")
def ehr_deliveries(now):
    due = Outgoing.objects.filter(status="queued", next_attempt_at__lte=now or timezone.now())
    for practice_id in sorted(set(due.values_list("practice_id", flat=True))):
        yield practice_id, {"practice_id": practice_id}, "Delivery to the EHR"
