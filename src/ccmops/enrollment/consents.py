"""Consent use cases (R-CONS-1..6): record and revoke (what is in force: consent_status). Records are never
changed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.activation import activate_if_ready
from ccmops.enrollment.consent_status import effective_end_of_month
from ccmops.enrollment.consent_texts import ensure_texts
from ccmops.enrollment.models import (
    ALL_CONSENT_ELEMENTS,
    Consent,
    ConsentRevocation,
    ConsentTextVersion,
    Enrollment,
    required_elements,
)
from ccmops.enrollment.services import TRANSITIONS, change_status
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Practitioner
from ccmops.outbox.services import enqueue

ELEMENT_KEYS = [k for k, _ in ALL_CONSENT_ELEMENTS]


@transaction.atomic
def record_consent(
    *,
    patient,
    program: str,
    practitioner: Practitioner,
    method: str,
    documented_at: dt.datetime,
    elements: list[str],
    obtained_by,
    party_id: int | None = None,
    representative_name: str = "",
    representative_relationship: str = "",
    note: str = "",
    text_version: ConsentTextVersion | None = None,
) -> Consent:
    """Record a consent with all required elements explained (R-CONS-1, R-CONS-2).

    Raises:
        InvalidInput: a missing element, a future time, a practitioner of another practice, or bad values.
    """
    missing = [label for key, label in required_elements(program) if key not in elements]
    if missing:
        raise InvalidInput("elements: before consent is recorded the patient must be told: " + "; ".join(missing))
    if method not in ("verbal", "written", "electronic"):
        raise InvalidInput("method: expected verbal, written or electronic")
    if documented_at > timezone.now() + dt.timedelta(minutes=5):
        raise InvalidInput("documented_at: consent cannot be documented in the future")
    if practitioner.practice_id != patient.practice_id:
        raise InvalidInput("practitioner: must be a billing practitioner of the patient's practice")
    if bool(representative_name.strip()) != bool(representative_relationship.strip()):
        raise InvalidInput("representative: give both the representative's name and relationship, or neither")
    if text_version is None and not ConsentTextVersion.objects.filter(program=program, language="en").exists():
        ensure_texts(ConsentTextVersion)
    text_version = (
        text_version
        or ConsentTextVersion.objects.filter(program=program, language="en").order_by("-effective_from").first()
    )
    if text_version is None:
        raise InvalidInput(f"program: no consent text on file for {program}")
    consent = Consent.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        program=program,
        practitioner=practitioner,
        method=method,
        documented_at=documented_at,
        obtained_by=obtained_by,
        obtained_by_party_id=party_id,
        elements=[k for k in ELEMENT_KEYS if k in elements],
        representative_name=representative_name.strip(),
        representative_relationship=representative_relationship.strip(),
        text_version=text_version,
        text=text_version.rendered(practitioner),
        note=note.strip(),
    )
    if patient.billing_practitioner_id is None or patient.billing_practitioner_id != practitioner.id:
        patient.billing_practitioner = practitioner
        patient.save(update_fields=["billing_practitioner", "updated_at"])
    record_audit(
        action=AuditAction.CREATE,
        user=obtained_by,
        patient=patient,
        obj=consent,
        detail={"program": program, "method": method, "practitioner": practitioner.npi},
    )
    enqueue(practice_id=patient.practice_id, patient_id=patient.id, kind="consent", object_id=consent.id)
    enrollment = Enrollment.objects.filter(patient=patient, program=program).first()
    if enrollment is None or "consented" in TRANSITIONS[enrollment.status]:
        change_status(
            patient=patient,
            program=program,
            to="consented",
            by=obtained_by,
            party_id=party_id,
            reason=f"{method.capitalize()} consent documented",
        )
    activate_if_ready(patient=patient, program=program, by=obtained_by)
    return consent


@transaction.atomic
def revoke_consent(*, consent: Consent, revoked_at: dt.datetime, reason: str, by) -> ConsentRevocation:
    """The patient stops: kept as its own record, effective at the end of that month (R-CONS-2)."""
    if not reason.strip():
        raise InvalidInput("reason: say why or how the patient stopped")
    if hasattr(consent, "revocation"):
        raise InvalidInput("consent: this consent was already revoked")
    if revoked_at < consent.documented_at:
        raise InvalidInput("revoked_at: cannot be before the consent itself")
    zone = consent.practice.time_zone
    revocation = ConsentRevocation.objects.create(
        practice_id=consent.practice_id,
        consent=consent,
        revoked_at=revoked_at,
        effective_at=effective_end_of_month(revoked_at, zone),
        reason=reason.strip(),
        recorded_by=by,
    )
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=consent.patient,
        obj=revocation,
        detail={"consent": consent.id, "effective_at": revocation.effective_at.isoformat()},
    )
    enqueue(practice_id=consent.practice_id, patient_id=consent.patient_id, kind="revocation", object_id=revocation.id)
    enrollment = Enrollment.objects.filter(patient=consent.patient, program=consent.program).first()
    last = timezone.localtime(revocation.effective_at - dt.timedelta(microseconds=1), zoneinfo.ZoneInfo(zone))
    last_day = f"{last:%Y-%m-%d}"  # the practice's calendar
    if enrollment is not None and "disenrolled" in TRANSITIONS[enrollment.status]:
        change_status(
            patient=consent.patient,
            program=consent.program,
            to="disenrolled",
            by=by,
            reason=f"Consent revoked: {reason.strip()} (services count through {last_day})",
        )
    return revocation
