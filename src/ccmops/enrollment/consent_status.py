"""What consent is in force for a patient's program (R-CONS-1..6), read by activation, the engine's facts and the
pages; recording and revoking are in `consents`."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from ccmops.enrollment.models import Consent, ConsentRevocation
from ccmops.months.month import Month


@dataclass(frozen=True)
class ConsentStatus:
    in_force: Consent | None
    needs_reconsent: bool  # a consent exists, but with a different practitioner than the patient's now
    revocation_pending: ConsentRevocation | None  # revoked, effective at a later month end
    message: str


def effective_end_of_month(instant: dt.datetime, zone: str) -> dt.datetime:
    return Month.at(instant, zone).window(zone).end


def consent_status(patient, program: str, *, now: dt.datetime | None = None) -> ConsentStatus:
    now = now or timezone.now()
    practitioner_id = patient.billing_practitioner_id
    consents = list(
        Consent.objects.filter(patient=patient, program=program)
        .select_related("revocation", "practitioner")
        .order_by("-documented_at", "-id")
    )
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)

    def day(instant: dt.datetime) -> str:  # the practice's calendar day, not the server's
        return f"{timezone.localtime(instant, zone):%Y-%m-%d}"

    for c in consents:
        if practitioner_id is not None and c.practitioner_id != practitioner_id:
            continue
        revocation = getattr(c, "revocation", None)
        if revocation is None:
            return ConsentStatus(
                c,
                False,
                None,
                f"Consent in force since {day(c.documented_at)} "
                f"({c.get_method_display().lower()}); time before it does not count.",
            )
        if revocation.effective_at > now:
            return ConsentStatus(
                c,
                False,
                revocation,
                f"Revoked {day(revocation.revoked_at)}; services this "
                f"month still count, none after {day(revocation.effective_at - dt.timedelta(microseconds=1))}.",
            )
        break
    if consents and practitioner_id is not None and all(c.practitioner_id != practitioner_id for c in consents):
        return ConsentStatus(
            None,
            True,
            None,
            "The consent on file names another practitioner: the patient's "
            "billing practitioner changed, so a new consent is needed (R-CONS-3).",
        )
    if consents:
        return ConsentStatus(None, False, None, "Consent was revoked; no services count until a new consent.")
    return ConsentStatus(None, False, None, "No consent on file: no time counts until consent is documented.")
