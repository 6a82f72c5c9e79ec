"""Writing to the outbox, inside the caller's transaction (issue 34)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ccmops.jobs import service as jobs
from ccmops.outbox.models import EhrConnection, Outgoing


def owes(practice_id: int, kind: str) -> bool:
    """Whether the practice's EHR connection takes write-back of this kind."""
    sends = EhrConnection.objects.filter(practice_id=practice_id, write_back=True).values_list("sends", flat=True)
    return any(kind in kinds for kinds in sends)


def enqueue(
    *, practice_id: int, patient_id: int, kind: str, object_id: int, changed: bool = False, start: bool = True
) -> Outgoing | None:
    """Owe the EHR this object, in the caller's transaction (None when the practice sends nothing back). Enqueued
    twice, it is owed once; with `changed` (an object the EHR's copy follows, such as an enrollment's episode of
    care), one already delivered is owed again. `start=False`: the caller enqueues many and starts the delivery once
    (`start_after_commit`)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue belongs in the transaction of the event it reports")
    if not owes(practice_id, kind):
        return None
    now = timezone.now()
    if start:
        start_after_commit(practice_id)
    row, created = Outgoing.objects.select_for_update().get_or_create(
        identifier=f"urn:ccmops:{practice_id}:{kind}:{object_id}",
        defaults={"practice_id": practice_id, "patient_id": patient_id, "kind": kind, "object_id": object_id,
                  "next_attempt_at": now, "created_at": now},
    )  # fmt: skip
    if changed and not created and row.status != "queued":
        row.status, row.next_attempt_at, row.attempts = "queued", now, 0
        row.save(update_fields=["status", "next_attempt_at", "attempts"])
    return row


def start_after_commit(practice_id: int) -> None:
    """Deliver soon after the caller's transaction commits, not within it."""
    transaction.on_commit(lambda: kick(practice_id))


def kick(practice_id: int) -> None:
    """Start the practice's delivery job unless one waits or runs (the hourly schedule catches up otherwise)."""
    jobs.start(
        "ehr-deliver", label="Delivery to the EHR", practice_id=practice_id, params={"practice_id": practice_id},
        key=f"ehr-deliver:{practice_id}",
    )  # fmt: skip
