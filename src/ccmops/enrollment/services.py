"""Enrollment status changes: validated transitions, each kept as a dated event (history is never overwritten)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment, EnrollmentEvent
from ccmops.errors import Conflict, InvalidInput

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
