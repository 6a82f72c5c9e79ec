"""Sending the queued notices of a practice (issue 36), each in its own transaction: marked *sending* and committed
before the provider is called, so a crash mid-call never sends a notice twice (the row stays *sending* for a person
to look at); a provider that is down or busy is tried again after 1, 2, 4 … minutes, at most an hour apart; a
refusal (a bad number, an account problem) fails the notice with the provider's words."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ccmops.errors import ConfigurationError
from ccmops.organizations.models import Organization
from ccmops.platform.retry import backoff
from ccmops.portal.models import Delivery, OptOut
from ccmops.portal.providers import Outgoing, SendFailed, send
from ccmops.portal.services import settings_of


def send_due(practice_id: int, *, base_url: str = "", now: dt.datetime | None = None, limit: int = 500) -> dict:
    """Send what is due for the practice; returns the counts {sent, retrying, failed}."""
    now = now or timezone.now()
    practice = Organization.objects.get(pk=practice_id)
    config = settings_of(practice)
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    due = list(Delivery.objects.filter(practice_id=practice_id, status="queued", next_attempt_at__lte=now)
               .order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])  # fmt: skip
    for delivery_id in due:
        with transaction.atomic():
            row = Delivery.objects.select_for_update().filter(pk=delivery_id, status="queued").first()
            if row is None:
                continue
            if OptOut.objects.filter(patient_id=row.patient_id, channel=row.channel).exists():
                row.status, row.reason = "failed", f"the patient opted out of {row.get_channel_display().lower()}s"
                row.updated_at = now
                row.save(update_fields=["status", "reason", "updated_at"])
                counts["failed"] += 1
                continue
            row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
            row.save(update_fields=["status", "attempts", "updated_at"])
        callback = (f"{base_url.rstrip('/')}{reverse('twilio_status', args=[practice_id])}"
                    if base_url and row.channel == "sms" and config.sms_provider == "twilio" else "")  # fmt: skip
        message = Outgoing(row.channel, row.to, row.body, f"{practice.name}: your care team", row.idempotency_key,
                           callback)  # fmt: skip
        try:
            sid = send(config, practice, message)
        except SendFailed as exc:
            row.reason, row.updated_at = str(exc)[:300], timezone.now()
            if exc.transient:
                row.status, row.next_attempt_at = "queued", now + dt.timedelta(seconds=backoff(row.attempts))
                counts["retrying"] += 1
            else:
                row.status = "failed"
                counts["failed"] += 1
        except ConfigurationError as exc:
            row.status, row.reason, row.updated_at = "failed", str(exc)[:300], timezone.now()
            counts["failed"] += 1
        else:
            row.status, row.provider_id, row.reason, row.updated_at = "sent", sid, "", timezone.now()
            counts["sent"] += 1
        row.save(update_fields=["status", "provider_id", "reason", "next_attempt_at", "updated_at"])
    return counts
