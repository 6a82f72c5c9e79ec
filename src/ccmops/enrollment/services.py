"""Enrollment status changes: validated transitions, each kept as a dated event (history is never overwritten)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.errors import Conflict, InvalidInput
from ccmops.outbox.services import enqueue

TRANSITIONS: dict[str, frozenset[str]] = {
    "candidate": frozenset({"outreach", "declined", "unable_to_reach", "enrolled_elsewhere", "consented"}),
    "outreach": frozenset({"consented", "declined", "unable_to_reach", "enrolled_elsewhere"}),
    "unable_to_reach": frozenset({"outreach", "consented", "declined"}),
    "declined": frozenset({"outreach", "consented"}),
    "enrolled_elsewhere": frozenset({"outreach", "consented"}),
    "consented": frozenset({"active", "declined", "disenrolled"}),
    "active": frozenset({"paused", "disenrolled"}),
    "paused": frozenset({"active", "disenrolled"}),
    "disenrolled": frozenset({"outreach", "consented"}),
}
NEEDS_REASON = frozenset({"declined", "unable_to_reach", "enrolled_elsewhere", "paused", "disenrolled"})


@transaction.atomic
def change_status(*, patient, program: str, to: str, by, party_id: int | None = None, reason: str = "") -> Enrollment:
    """Move a patient's enrollment in a program to `to`, recording who, when, why and for which party.

    Raises:
        InvalidInput: unknown status, a transition the funnel does not allow, or a missing reason.
    """
    if to not in TRANSITIONS:
        raise InvalidInput(f"status: unknown enrollment status {to!r}")
    if to in NEEDS_REASON and not reason.strip():
        raise InvalidInput(f"reason: say why the patient is {to.replace('_', ' ')}")
    now = timezone.now()
    enrollment, created = Enrollment.objects.select_for_update().get_or_create(
        patient=patient,
        program=program,
        defaults={"practice_id": patient.practice_id, "status": "candidate", "status_since": now},
    )
    if enrollment.status == to and not created:
        raise Conflict(f"The {program.upper()} enrollment is already {to.replace('_', ' ')}.")
    if to not in TRANSITIONS[enrollment.status] and not (created and to == "candidate"):
        raise InvalidInput(
            f"status: cannot go from {enrollment.status.replace('_', ' ')} to {to.replace('_', ' ')}; "
            f"allowed: {', '.join(sorted(TRANSITIONS[enrollment.status]))}"
        )
    before = "" if created else enrollment.status
    EnrollmentEvent.objects.create(
        practice_id=patient.practice_id,
        enrollment=enrollment,
        at=now,
        from_status=before,
        to_status=to,
        reason=reason.strip(),
        by=by,
        party_id=party_id,
    )
    enrollment.status, enrollment.status_since, enrollment.reason = to, now, reason.strip()
    enrollment.version += 1
    enrollment.save(update_fields=["status", "status_since", "reason", "version"])
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=patient,
        obj=enrollment,
        detail={"program": program, "from": before, "to": to, "reason": reason},
    )
    if "active" in (before, to):  # the EHR's episode of care follows the enrollment from its start (issue 34)
        enqueue(practice_id=patient.practice_id, patient_id=patient.id, kind="episode", object_id=enrollment.id,
                changed=True)  # fmt: skip
    return enrollment


def start_outreach(*, patient, program: str, by, party_id: int | None = None) -> Enrollment:
    """Start enrollment outreach for an eligible candidate (idempotent when already in outreach)."""
    current = Enrollment.objects.filter(patient=patient, program=program).first()
    if current is not None and current.status == "outreach":
        return current
    return change_status(
        patient=patient,
        program=program,
        to="outreach",
        by=by,
        party_id=party_id,
        reason="Enrollment outreach started from the candidates list",
    )


FAILED_OUTCOMES = frozenset({"no_answer", "voicemail", "wrong_number"})
UNREACHABLE_AFTER = 5  # consecutive failed enrollment attempts (a common industry default)


@transaction.atomic
def log_outreach_attempt(
    *,
    patient,
    program: str,
    purpose: str,
    channel: str,
    outcome: str,
    by,
    party_id: int | None = None,
    note: str = "",
    at=None,
) -> OutreachAttempt:
    """Record an attempt to reach the patient; for enrollment it moves the funnel (first attempt → outreach,
    declined → declined, five failed attempts in a row → unable to reach)."""
    if channel not in dict(OutreachAttempt.CHANNELS):
        raise InvalidInput(f"channel: expected one of {', '.join(dict(OutreachAttempt.CHANNELS))}")
    if outcome not in dict(OutreachAttempt.OUTCOMES):
        raise InvalidInput(f"outcome: expected one of {', '.join(dict(OutreachAttempt.OUTCOMES))}")
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise InvalidInput("at: an attempt cannot be in the future")
    attempt = OutreachAttempt.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        purpose=purpose,
        program=program,
        at=at,
        channel=channel,
        outcome=outcome,
        note=note.strip(),
        by=by,
        party_id=party_id,
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=attempt,
        detail={"purpose": purpose, "channel": channel, "outcome": outcome},
    )
    if purpose != "enrollment":
        return attempt
    enrollment = Enrollment.objects.filter(patient=patient, program=program).first()
    status = enrollment.status if enrollment else None
    if outcome == "declined" and status in (None, "candidate", "outreach", "unable_to_reach"):
        change_status(
            patient=patient,
            program=program,
            to="declined",
            by=by,
            party_id=party_id,
            reason=note.strip() or f"Declined on a {channel} outreach attempt",
        )
    elif status in (None, "candidate", "unable_to_reach") and outcome != "declined":
        change_status(
            patient=patient,
            program=program,
            to="outreach",
            by=by,
            party_id=party_id,
            reason=f"Outreach attempt: {attempt.get_outcome_display().lower()}",
        )
        status = "outreach"
    if status == "outreach" and outcome in FAILED_OUTCOMES:
        recent = list(
            OutreachAttempt.objects.filter(patient=patient, program=program, purpose="enrollment")
            .order_by("-at", "-id")
            .values_list("outcome", flat=True)[:UNREACHABLE_AFTER]
        )
        if len(recent) == UNREACHABLE_AFTER and all(o in FAILED_OUTCOMES for o in recent):
            change_status(
                patient=patient,
                program=program,
                to="unable_to_reach",
                by=by,
                party_id=party_id,
                reason=f"{UNREACHABLE_AFTER} outreach attempts in a row without reaching the patient",
            )
    return attempt
