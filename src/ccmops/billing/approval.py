"""Month close, last step: approval — the month is approved and locked once nothing awaits review and nothing
changed since its evaluation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.billing.evaluation import _ended, _whole_registry, changed_since_evaluation
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.models import MonthClose
from ccmops.outbox.services import enqueue, start_after_commit


@transaction.atomic
def approve_and_close(*, practice, month: str, by, expected_version: int | None = None) -> MonthClose:
    """Close the month (who and when are recorded); refused before the month has ended in the practice's time
    zone, while anything awaits review, while an evaluation runs, when any patient-month's facts changed after
    the evaluation (`changed_since_evaluation`: work recorded during review is never lost between the decision
    and the claim), and — with `expected_version`, as the web and API send it — when the month was re-evaluated
    after the approver looked at it (optimistic locking: nobody approves results they have not seen)."""
    close = MonthClose.objects.select_for_update().filter(practice=practice, month=month).first()
    if close is None:
        raise InvalidInput(f"month: {month} has not been evaluated; run the close first")
    if close.status == "closed":
        raise Conflict(f"{month} was already closed by {close.closed_by} at {close.closed_at:%Y-%m-%d %H:%M}.")
    _ended(practice, month)
    _whole_registry(practice, month)
    if close.status == "evaluating":
        raise Conflict(
            f"{month} is being evaluated ({close.progress_done} of {close.progress_total} patients); "
            "approve once the results are in."
        )
    if expected_version is not None and expected_version != close.version:
        raise Conflict(
            f"{month} was re-evaluated after you opened it (now version {close.version}, by "
            f"{close.evaluated_by or 'the system'} at {timezone.localtime(close.evaluated_at):%Y-%m-%d %H:%M}); "
            "review the new results, then approve."
        )
    waiting = PatientMonthDecision.objects.filter(practice=practice, month=month, review="needs_review").count()
    if waiting:
        raise Conflict(f"{waiting} patient-month(s) still need review; resolve or override them first.")
    changed = changed_since_evaluation(practice, month)
    if changed:  # closing now would send claims that miss (or still count) that work, and queue nothing for it
        names = "; ".join(str(p) for p in changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise Conflict(
            f"the facts of {len(changed)} patient-month(s) changed after {month} was evaluated ({names}): time "
            "entered or voided, a consent, care plan or coverage recorded. Evaluate the month again (only those are "
            "re-decided), review, then approve."
        )
    close.status, close.closed_by, close.closed_at = "closed", by, timezone.now()
    close.version += 1
    close.save()
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        practice_id=practice.id,
        object_type="month_close",
        object_id=month,
        detail={"closed": True},
    )
    # each patient billed gets the month's CCM summary in the EHR's chart (issue 34), owed in this transaction
    billed = ClaimLine.objects.filter(practice=practice, month=month).values_list("decision_id", "patient_id")
    owed = [
        enqueue(
            practice_id=practice.id, patient_id=patient_id, kind="month_summary", object_id=decision_id, start=False
        )
        for decision_id, patient_id in sorted(set(billed))
    ]
    if any(owed):
        start_after_commit(practice.id)  # one delivery for the month's summaries, not one per patient
    return close
