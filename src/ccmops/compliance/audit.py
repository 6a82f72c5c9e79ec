"""Writing and verifying the audit log.

`record_audit` must be called inside the transaction of the change it records, so that the change and its
audit entry commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.models import AuditAction, AuditChainHead, AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _hashed_fields(e: AuditEvent) -> dict:
    return {
        "at": e.at.isoformat(),
        "user_id": e.user_id,
        "username": e.username,
        "practice_id": e.practice_id,
        "patient_id": e.patient_id,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "outcome": e.outcome,
        "detail": e.detail,
    }


def record_audit(
    *,
    action: AuditAction | str,
    user=None,
    username: str = "",
    practice_id: int | None = None,
    patient=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = "success",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain (atomically with the caller's transaction)."""
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    if patient is not None and practice_id is None:
        practice_id = patient.practice_id
    # No savepoint of its own: a failure here must roll back the caller's change too, and two statements fewer
    # per audited write.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            at=timezone.now(),
            user=user if user is not None and user.is_authenticated else None,
            username=username or (user.get_username() if user is not None and user.is_authenticated else ""),
            practice_id=practice_id,
            patient=patient,
            action=str(action),
            object_type=object_type,
            object_id=object_id,
            outcome=outcome,
            detail=json.loads(json.dumps(detail or {}, default=str)),
            prev_hash=head.last_hash,
        )
        event.hash = _digest(event.prev_hash, _hashed_fields(event))
        event.save()
        AuditChainHead.objects.filter(id=1).update(last_hash=event.hash, count=head.count + 1)
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report altered, deleted or reordered events."""
    problems: list[str] = []
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        checked += 1
        if event.prev_hash != prev:
            problems.append(f"event {event.id}: chain broken before it (an event was deleted or reordered)")
        if _digest(event.prev_hash, _hashed_fields(event)) != event.hash:
            problems.append(f"event {event.id}: contents altered after it was written")
        prev = event.hash
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != checked):
        problems.append(
            f"chain head expects {head.count} events ending in {head.last_hash[:12]}…, "
            f"found {checked} ending in {prev[:12]}… (events at the end were deleted)"
        )
    return ChainReport(checked, tuple(problems))
