"""Month close, second step: review — the audited override of a held patient-month."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.billing.evaluation import _not_closed
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput


@transaction.atomic
def override(*, decision: PatientMonthDecision, action: str, reason: str, by) -> PatientMonthDecision:
    """A person resolves a held month: bill as decided, or do not bill. The reason is kept and audited."""
    if action not in ("bill", "do_not_bill"):
        raise InvalidInput("action: expected bill or do_not_bill")
    if len(reason.strip()) < 5:
        raise InvalidInput("reason: explain the override (it is kept with the claim and audited)")
    _not_closed(decision.practice, decision.month)
    decision.review, decision.override_action, decision.override_reason = "overridden", action, reason.strip()
    decision.override_by, decision.override_at = by, timezone.now()
    decision.save()
    if action == "do_not_bill":
        ClaimLine.objects.filter(patient_id=decision.patient_id, month=decision.month).delete()
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=decision.patient,
        obj=decision,
        detail={"override": action, "reason": reason.strip(), "findings": decision.reasons},
    )
    return decision
