"""Writing and verifying the audit log.

`record_audit` must be called inside the transaction of the change it records, so that the change and its
audit entry commit or roll back together.

Each practice's events form a chain of their own (`AuditEvent.chain` = the practice's id); events of no
practice, and every event written before chains were per practice, form chain 0. An append locks only its
chain's head row, so one practice's long transaction never holds up another practice's audited writes, and a
practice's log verifies on its own, without the events of other practices.
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
    chain = practice_id or 0
    # No savepoint of its own: a failure here must roll back the caller's change too, and two statements fewer
    # per audited write.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=chain, defaults={"last_hash": GENESIS})
        event = AuditEvent(
            chain=chain,
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
        AuditChainHead.objects.filter(id=chain).update(last_hash=event.hash, count=head.count + 1)
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problems: tuple[str, ...]
    chains: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _chain_name(chain: int) -> str:
    return (
        f"chain {chain} (practice {chain})" if chain else "chain 0 (no practice, and events before per-practice chains)"
    )


def verify_chain(practice_id: int | None = None) -> ChainReport:
    """Recompute every hash of every chain (or of one practice's) in order; report altered, deleted, reordered
    or moved events and chains whose newest events were deleted."""
    problems: list[str] = []
    heads = {h.id: h for h in AuditChainHead.objects.all()}
    events = AuditEvent.objects.order_by("chain", "id")
    if practice_id is not None:
        events = events.filter(chain=practice_id)
        heads = {k: v for k, v in heads.items() if k == practice_id}
    seen: dict[int, tuple[str, int]] = {}  # chain -> (last hash, events)
    checked = 0
    chain, prev, count = None, GENESIS, 0
    for event in events.iterator(chunk_size=2000):
        if event.chain != chain:
            if chain is not None:
                seen[chain] = (prev, count)
            chain, prev, count = event.chain, GENESIS, 0
        checked += 1
        count += 1
        if event.prev_hash != prev:
            problems.append(
                f"event {event.id}: {_chain_name(chain)} broken before it (an event was deleted, reordered or moved)"
            )
        if _digest(event.prev_hash, _hashed_fields(event)) != event.hash:
            problems.append(f"event {event.id}: contents altered after it was written")
        elif chain and event.practice_id != chain:
            problems.append(
                f"event {event.id}: belongs to practice {event.practice_id} but sits in {_chain_name(chain)}"
            )
        prev = event.hash
    if chain is not None:
        seen[chain] = (prev, count)
    for key in sorted(set(heads) | set(seen)):
        head = heads.get(key)
        last, n = seen.get(key, (GENESIS, 0))
        if head is None:
            problems.append(f"{_chain_name(key)}: {n} events but no chain head (the head row was deleted)")
        elif head.last_hash != last:
            problems.append(
                f"{_chain_name(key)}: the head expects {head.count} events ending in {head.last_hash[:12]}…, "
                f"found {n} ending in {last[:12]}… (events at the end were deleted)"
            )
        elif head.count != n:
            problems.append(f"{_chain_name(key)}: the head counts {head.count} events, found {n} (events were deleted)")
    return ChainReport(checked, tuple(problems), len(set(heads) | set(seen)))
