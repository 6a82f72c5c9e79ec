"""Writing and verifying the audit log.

`record_audit` must be called inside the transaction of the change it records, so that the change and its
audit entry commit or roll back together.

Each practice's events form a chain of their own (`AuditEvent.chain` = the practice's id); events of no
practice, and every event written before chains were per practice, form chain 0. An append locks only its
chain's head row, so one practice's long transaction never holds up another practice's audited writes, and a
practice's log verifies on its own, without the events of other practices.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from ccmops.compliance.audit_keys import current_key_id, key_for, mac, read_checkpoints, write_checkpoint
from ccmops.compliance.models import AuditAction, AuditChainHead, AuditEvent
from ccmops.platform.pipeline import together

GENESIS = "0" * 64
READ_ACTIONS = frozenset({"read", "print", "export"})
# Reads of PHI audited in the request being served (`compliance.phi_reads`): a view that audits its own read is
# not audited a second time by the middleware.
reads_audited: contextvars.ContextVar[int] = contextvars.ContextVar("reads_audited", default=0)


def _digest(prev_hash: str, fields: dict, key_id: str = "") -> str:
    """The event's link: HMAC-SHA-256 under the audit key `key_id` (kept outside the database: audit_keys), or
    plain SHA-256 for events written before the chain was keyed."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    if key_id:
        return mac(key_id, prev_hash + canonical)
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
    if str(action) in READ_ACTIONS:
        reads_audited.set(reads_audited.get() + 1)
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    if patient is not None and practice_id is None:
        practice_id = patient.practice_id
    chain = practice_id or 0
    event = AuditEvent(
        chain=chain,
        user=user if user is not None and user.is_authenticated else None,
        username=username or (user.get_username() if user is not None and user.is_authenticated else ""),
        practice_id=practice_id,
        patient=patient,
        action=str(action),
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )
    # No savepoint of its own: a failure here must roll back the caller's change too, and two statements fewer
    # per audited write. Plain SQL on the path every audited write takes (lock the head, insert, move the head):
    # the ORM's building and compiling of these three statements cost more than sending them; the insert and
    # the move go out together.
    head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        count_column = connection.ops.quote_name("count")
        read = f"SELECT last_hash, {count_column} FROM {head_table} WHERE id = %s{lock}"  # noqa: S608
        cursor.execute(read, [chain])
        row = cursor.fetchone()
        if row is None:  # the chain's first event: the ORM's get_or_create settles a race to create the head
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(
                id=chain, defaults={"last_hash": GENESIS}
            )
            row = (head.last_hash, head.count)
        event.prev_hash, count = row
        event.at = timezone.now()  # under the chain's lock: a chain's events are in time order too
        event.key_id = current_key_id()
        event.hash = _digest(event.prev_hash, _hashed_fields(event), event.key_id)
        move = f"UPDATE {head_table} SET last_hash = %s, {count_column} = %s WHERE id = %s"  # noqa: S608
        insert, values = _insert(event)
        if connection.features.can_return_columns_from_insert:  # both in one round trip (ccmops.platform.pipeline)
            inserted, _ = together((f"{insert} RETURNING id", values), (move, [event.hash, count + 1, chain]))
            event.id = inserted[0][0]
        else:
            cursor.execute(insert, values)
            event.id = cursor.lastrowid
            cursor.execute(move, [event.hash, count + 1, chain])
    event._state.adding = False
    event._state.db = connection.alias
    return event


_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _insert(event: AuditEvent) -> tuple[str, list]:
    """The INSERT of the event, with each value prepared by its field (as the ORM would)."""
    qn = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in _EVENT_FIELDS]
    columns = ", ".join(qn(f.column) for f in _EVENT_FIELDS)
    marks = ", ".join(["%s"] * len(values))
    return f"INSERT INTO {qn(AuditEvent._meta.db_table)} ({columns}) VALUES ({marks})", values  # noqa: S608


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
    """Recompute every hash of every chain (or of one practice's) in order under the audit keys; report altered,
    deleted, reordered or moved events, chains whose newest events were deleted, chains deleted whole
    (`_missing_chains`), and — against every signed checkpoint written outside the database — chains truncated
    or recomputed since."""
    problems: list[str] = []
    checkpoints, checkpoint_problems = read_checkpoints()
    problems.extend(checkpoint_problems)
    wanted: dict[int, set[int]] = {}  # chain -> positions (event counts) some checkpoint names
    for cp in checkpoints:
        for chain_key, (n, _h) in cp["chains"].items():
            if practice_id is None or int(chain_key) == practice_id:
                wanted.setdefault(int(chain_key), set()).add(int(n))
    hash_at: dict[tuple[int, int], str] = {}
    keyed: set[int] = set()  # chains in which a keyed event was seen: no unkeyed event may follow
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
        if count in wanted.get(chain, ()):
            hash_at[(chain, count)] = event.hash
        if event.key_id:
            keyed.add(chain)
        elif chain in keyed:
            problems.append(f"event {event.id}: unsigned by the audit key after signed events (rewritten)")
        known_key = not event.key_id or key_for(event.key_id) is not None
        if not known_key:
            problems.append(f"event {event.id}: signed with audit key {event.key_id!r}, which is not configured")
        if event.prev_hash != prev:
            problems.append(
                f"event {event.id}: {_chain_name(chain)} broken before it (an event was deleted, reordered or moved)"
            )
        if known_key and _digest(event.prev_hash, _hashed_fields(event), event.key_id) != event.hash:
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
    for cp in checkpoints:
        for chain_key, (n, expected) in sorted(cp["chains"].items()):
            key = int(chain_key)
            if practice_id is not None and key != practice_id:
                continue
            found = seen.get(key, (GENESIS, 0))[1]
            if found < n:
                problems.append(
                    f"{_chain_name(key)}: the checkpoint of {cp['at']} counted {n} events, found {found} "
                    "(events were deleted and the head rolled back)"
                )
            elif hash_at.get((key, n)) != expected:
                problems.append(
                    f"{_chain_name(key)}: event {n} is not the one the checkpoint of {cp['at']} signed "
                    "(the chain was rewritten and recomputed)"
                )
    problems.extend(_missing_chains(practice_id, set(heads) | set(seen)))
    return ChainReport(checked, tuple(problems), len(set(heads) | set(seen)))


def checkpoint() -> dict:
    """Write a signed checkpoint of every chain head outside the database (`audit_keys.write_checkpoint`)."""

    heads = {h.id: (h.count, h.last_hash) for h in AuditChainHead.objects.all()}
    return write_checkpoint(heads)


# Which practices must have an audit chain, asked of the layers that hold their records (the patient registry
# registers when it starts: a practice with patients has an audited history). Each gives the practice ids, of
# one practice or (None) of all.
_chain_owners: list[Callable[[int | None], Iterable[int]]] = []


def expect_chains_of(owners: Callable[[int | None], Iterable[int]]) -> None:
    if owners not in _chain_owners:
        _chain_owners.append(owners)


def _missing_chains(practice_id: int | None, present: set[int]) -> list[str]:
    """Chains that must exist and do not — a whole log deleted with its head, which leaves no break to find: a
    practice with patients has an audited history (their import or creation, every chart read), and once anyone
    has signed in, chain 0 has their sign-in."""
    with_patients = {p for owners in _chain_owners for p in owners(practice_id)}
    out = [
        f"{_chain_name(p)}: the practice has patients but no audit events and no chain head (its whole log was deleted)"
        for p in sorted(set(with_patients) - present)
    ]
    users = get_user_model().objects
    if practice_id is None and 0 not in present and users.filter(last_login__isnull=False).exists():
        out.append(f"{_chain_name(0)}: users have signed in but the chain and its head are gone (deleted)")
    return out
