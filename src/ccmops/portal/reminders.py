"""Reminders of scheduled calls (issue 36): a day ahead, in the patient's language and time zone, never in the
practice's quiet hours, once per call."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ccmops.errors import InvalidInput
from ccmops.portal.models import Delivery, MessagingSettings
from ccmops.portal.services import _notify, channel_for, language_of, settings_of, zone_of
from ccmops.worklist.models import ScheduledContact

REMIND_AHEAD = dt.timedelta(hours=24)


def in_quiet_hours(config: MessagingSettings, local: dt.time) -> bool:
    """Whether a local time falls in the practice's quiet hours (which may run past midnight)."""
    start, end = config.quiet_start, config.quiet_end
    return start <= local or local < end if start > end else start <= local < end


def remind_calls(practice, *, now: dt.datetime | None = None) -> int:
    """Queue a reminder for each call of the practice due within a day, in the patient's time zone and language,
    outside the quiet hours (a call whose reminder would fall in them is reminded at the next run that is not) and
    never twice (one per call). Returns how many were queued."""
    now = now or timezone.now()
    config = settings_of(practice)
    queued = 0
    calls = ScheduledContact.objects.filter(practice=practice, status="scheduled", due_at__gt=now,
                                            due_at__lte=now + REMIND_AHEAD).select_related("patient")  # fmt: skip
    done = set(Delivery.objects.filter(practice=practice, kind="reminder").values_list("idempotency_key", flat=True))
    for call in calls:
        key = f"reminder:{call.id}"
        patient = call.patient
        zone = zone_of(patient)
        if key in done or in_quiet_hours(config, now.astimezone(zone).time()):
            continue
        try:
            channel, to = channel_for(patient)
        except InvalidInput:
            continue
        when = call.due_at.astimezone(zone)
        with translation.override(language_of(patient)):
            day = formats.date_format(when, "l j \\d\\e F" if language_of(patient) == "es" else "l, F j")
            body = _("%(practice)s: your care team plans to call you on %(day)s around %(time)s.") % {
                "practice": practice.name,
                "day": day,
                "time": f"{when:%-I:%M %p}",
            }
            if channel == "sms":
                body += " " + _("Reply STOP to stop texts.")
        with transaction.atomic():
            _notify(patient, kind="reminder", key=key, channel=channel, to=to, body=body)
        queued += 1
    return queued
