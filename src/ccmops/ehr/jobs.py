"""The EHR's jobs (issue 34): delivery, started after each event that owes the EHR something commits and every hour
for practices with items due (resumable by design: each item is sent in its own transaction); and the daily sync
in (`ehr.sync`), also started by *Sync now* on the integration health page."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from ccmops.ehr.deliver import deliver
from ccmops.ehr.sync import sync_in
from ccmops.jobs.kinds import job_kind, scheduled
from ccmops.organizations.models import Organization
from ccmops.outbox.models import EhrConnection, Outgoing


@job_kind("ehr-deliver")
def ehr_deliver(ctx, *, practice_id: int) -> dict:
    ctx.progress(step="sending to the EHR")
    return deliver(practice_id)


@scheduled("ehr-deliver", every="hour")
def ehr_deliveries(now):
    due = Outgoing.objects.filter(status="queued", next_attempt_at__lte=now or timezone.now())
    for practice_id in sorted(set(due.values_list("practice_id", flat=True))):
        yield practice_id, {"practice_id": practice_id}, "Delivery to the EHR"


@job_kind("ehr-sync", max_attempts=1)  # a failed sync is recorded and the next one asks again from the same _since
def ehr_sync(ctx, *, practice_id: int) -> dict:
    practice = Organization.objects.get(pk=practice_id)
    ctx.progress(step="exporting from the EHR")
    run = sync_in(practice, by=ctx.job.requested_by)
    return {"sync": run.id, "status": run.status, "files": run.files, "error": run.error}


@scheduled("ehr-sync", every="day", at_hour=6)  # 06:00 UTC, the night's changes in before the day's work
def ehr_syncs(now):
    syncing = EhrConnection.objects.filter(Q(sync_mode="search") | ~Q(group_id=""))  # Bulk needs its Group
    for practice_id in syncing.values_list("practice_id", flat=True):
        yield practice_id, {"practice_id": practice_id}, "Sync in from the EHR"
