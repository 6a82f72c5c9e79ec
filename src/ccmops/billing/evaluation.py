"""Month close, first step: evaluate — decide every enrolled patient-month with the rules engine and persist the
decisions and lines (idempotent; duplicate lines impossible by constraint), in resumable steps. Then `review`
(audited overrides) and `approval` (approve and lock)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import F
from django.utils import timezone

import ccmops
from ccmops.billing.facts import month_documents, month_patients
from ccmops.billing.fees import loaded_schedule
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment
from ccmops.errors import Conflict
from ccmops.interop.services import part_written, part_written_message
from ccmops.months.ledger import is_closed
from ccmops.months.models import MonthClose
from ccmops.months.month import checked
from ccmops.patients.models import Patient
from ccmops.platform.collector import collector_paused
from ccmops.platform.forked import can_fork, forked_pool, in_worker
from ccmops.platform.upsert import JsonText, upsert
from ccmops.rules.calendar import month_window
from ccmops.rules.contract import PatientMonth, decision_to_json
from ccmops.rules.decision import Line
from ccmops.rules.engine import evaluate
from ccmops.rules.policies import DEFAULT_POLICIES
from ccmops.rules.years import RULE_SETS, rule_set_for
from ccmops.timetracking.models import TimeEntry

CHUNK = 500
# Enrollment statuses whose months the close decides: every patient who consented, including one who left this
# month (their time before leaving may still be billable).
CONSENTED_EVER = ("consented", "active", "paused", "disenrolled")


@dataclass(frozen=True)
class CloseSummary:
    month: str
    patient_months: int
    ready: int
    needs_review: int
    nothing_billable: int
    lines: int
    allowed: Decimal


def patients_in_month(practice, month: str, *, after: int = 0, limit: int | None = None) -> list[int]:
    """Patients with an enrollment past consent, or with time recorded in the month, in id order; with `after`
    and `limit`, only the next `limit` ids after `after` (each source is cut in the database: the first
    `limit` of the union lie within the first `limit` of each)."""
    window = month_window(month, practice.time_zone)
    enrolled = (
        Enrollment.objects.filter(practice=practice, status__in=CONSENTED_EVER, patient_id__gt=after)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )
    timed = (
        TimeEntry.objects.filter(
            practice=practice, start__lt=window.end, end__gt=window.start, patient_id__gt=after, voided_at__isnull=True
        )
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )
    if limit is not None:
        enrolled, timed = enrolled[:limit], timed[:limit]
    ids = sorted(set(enrolled) | set(timed))
    return ids if limit is None else ids[:limit]


def _decision_salt(policies, fees=None) -> str:
    """What besides the facts decides a month: the policies in force, the fee file loaded for its year (a new file
    re-prices open months, R-2027-3) and the engine's release. A change to any re-decides months whose facts did
    not change."""
    return json.dumps([ccmops.__version__, dataclasses.asdict(policies), fees.source if fees else ""], sort_keys=True)


def _facts_digest(document: str, salt: str) -> str:
    """The identity of what a patient-month's decision rests on: its facts document (`facts.month_documents`),
    and the salt (policies and release)."""
    return hashlib.sha256((document + salt).encode()).hexdigest()


def changed_since_evaluation(practice, month: str) -> list[Patient]:
    """Patients whose month facts are no longer those their stored decision was made on — time entered late or
    voided, a consent, a care plan or coverage recorded — or who have work in the month and no decision yet.
    Gathers every patient's facts as an evaluation does, without deciding."""
    policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies or {}, path="practice.rule_policies")
    salt = _decision_salt(policies, loaded_schedule(int(month[:4])))
    ids = patients_in_month(practice, month)
    changed = []
    with collector_paused():
        for i in range(0, len(ids), CHUNK):
            patients = month_patients(ids[i : i + CHUNK])
            documents = month_documents(patients, month)
            known = dict(
                PatientMonthDecision.objects.filter(patient_id__in=list(documents), month=month).values_list(
                    "patient_id", "facts_hash"
                )
            )
            changed += [
                p for p in patients if p.id in documents and known.get(p.id) != _facts_digest(documents[p.id], salt)
            ]
    return changed


class Decided(NamedTuple):
    """A patient-month the engine decided, as plain values (what a step writes; a worker process sends it)."""

    patient_id: int
    billing_practitioner_id: int
    facts_hash: str
    decision: dict
    status: str
    lines: tuple[Line, ...]  # the engine's own lines (frozen values, so a worker process can send them)


def _decide_chunk(month: str, ids: list[int], policies, fees=None) -> list[Decided]:
    """Gather the facts of these patients' month and decide those whose facts (or policies, or the fee file
    loaded for the year: `fees`) changed since the last evaluation; an unchanged month keeps its decision and any
    override without running the engine."""
    with collector_paused():  # thousands of fact and decision models, no cycles (ccmops.platform.collector)
        return _decide_chunk_in(month, ids, policies, fees)


def _decide_chunk_in(month: str, ids: list[int], policies, fees=None) -> list[Decided]:
    patients = month_patients(ids)
    documents = month_documents(patients, month)
    known = dict(
        PatientMonthDecision.objects.filter(patient_id__in=list(documents), month=month).values_list(
            "patient_id", "facts_hash"
        )
    )
    salt = _decision_salt(policies, fees)
    out = []
    for p in patients:
        document = documents.get(p.id)
        if document is None:
            continue
        digest = _facts_digest(document, salt)
        if known.get(p.id) == digest:
            continue
        decision = evaluate(PatientMonth.model_validate_json(document), policies, fees=fees)
        out.append(
            Decided(
                p.id,
                p.billing_practitioner_id,
                digest,
                decision_to_json(decision),
                decision.status.value,
                decision.lines,
            )
        )
    return out


DECISION_COLUMNS = [
    "patient",
    "month",
    "practice",
    "billing_practitioner",
    "status",
    "review",
    "decision",
    "facts_hash",
    "evaluated_at",
    "override_action",
    "override_reason",
    "override_by",
    "override_at",
]
LINE_COLUMNS = [
    "patient",
    "month",
    "code",
    "practice",
    "decision",
    "billing_practitioner",
    "units",
    "date_of_service",
    "diagnosis_codes",
    "allowed_amount",
    "patient_share",
    "remit_status",  # inserted empty, never updated here
    "remit_note",
]


def _persist(practice, month: str, rows: list[Decided], now) -> None:
    """Upsert a chunk's new decisions and their lines: a handful of statements per chunk whatever its size
    (`ccmops.platform.upsert`: one COPY and one INSERT … ON CONFLICT on PostgreSQL). The unique constraints (one
    decision per patient-month, no duplicate claim line) are the conflict targets, so a step raced or repeated
    after a crash updates rows in place and never adds a second one. A re-decided month loses its override:
    its facts changed since the override was given."""
    if not rows:
        return
    upsert(
        PatientMonthDecision,
        DECISION_COLUMNS,
        [
            (
                r.patient_id,
                month,
                practice.id,
                r.billing_practitioner_id,
                r.status,
                "needs_review" if r.status == "hold" else "none",
                JsonText(json.dumps(r.decision)),
                r.facts_hash,
                now,
                "",
                "",
                None,
                None,
            )
            for r in rows
        ],
        conflict=["patient", "month"],
        update=DECISION_COLUMNS[2:],
    )
    ids = [r.patient_id for r in rows]
    decision_ids = dict(
        PatientMonthDecision.objects.filter(patient_id__in=ids, month=month).values_list("patient_id", "id")
    )
    wanted = {(r.patient_id, line.code) for r in rows for line in r.lines}
    stale = [
        pk
        for pk, patient_id, code in ClaimLine.objects.filter(patient_id__in=ids, month=month).values_list(
            "id", "patient_id", "code"
        )
        if (patient_id, code) not in wanted
    ]
    if stale:
        ClaimLine.objects.filter(id__in=stale).delete()
    # Remittance fields are not updated: a line's recorded payment survives a re-evaluation.
    upsert(
        ClaimLine,
        LINE_COLUMNS,
        [
            (
                r.patient_id,
                month,
                line.code,
                practice.id,
                decision_ids[r.patient_id],
                r.billing_practitioner_id,
                line.units,
                line.date_of_service,
                JsonText(json.dumps(list(line.diagnosis_codes))),
                line.allowed_amount,
                line.patient_share,
                "",
                "",
            )
            for r in rows
            for line in r.lines
        ],
        conflict=["patient", "month", "code"],
        update=LINE_COLUMNS[3:-2],
    )


STEP = 100  # patients decided per web/API step: well under a second alone, a few seconds on a loaded server
CLI_STEP = 2000  # the CLI runs to the end and takes bigger steps


@transaction.atomic
def begin_evaluation(*, practice, month: str, by=None) -> MonthClose:
    """Start evaluating the month (again). An evaluation already under way is joined, not restarted, so two
    billers pressing the button at once share one run. Refused once the month is closed."""
    checked(month)
    if rule_set_for(int(month[:4])) is None:  # refused before anything is written: no close row left evaluating
        known = ", ".join(str(y) for y in sorted(RULE_SETS))
        raise Conflict(
            f"{month} cannot be evaluated: ccmops has no Medicare rule set for {month[:4]} (it has {known}). A "
            "system administrator installs the release that adds the year's rules, then loads its fee file "
            "(ccmops rules load-fees); time recorded meanwhile is kept and counted provisionally."
        )
    close = MonthClose.objects.select_for_update().filter(practice=practice, month=month).first()
    if close is not None and close.status == "closed":
        raise Conflict(f"{month} is closed; later work goes to the adjustment queue.")
    if close is not None and close.status == "evaluating":
        return close
    _whole_registry(practice, month)
    now = timezone.now()
    total = len(patients_in_month(practice, month))
    if close is None:
        close = MonthClose(practice=practice, month=month, evaluated_at=now, version=0)
    close.evaluated_by = by  # who started it; the page says "started by"
    close.status, close.cursor, close.progress_done, close.progress_total = "evaluating", 0, 0, total
    close.version += 1
    close.step_at = now
    close.save()
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        practice_id=practice.id,
        object_type="month_close",
        object_id=month,
        detail={"evaluation": "started", "patients": total, "version": close.version},
    )
    return close


def evaluate_step(*, practice, month: str, by=None, limit: int = STEP) -> MonthClose:
    """Decide the next `limit` patients of an evaluation under way, in one transaction; the step that finds
    nobody left finishes it. Steps from several requests serialize on the month's row, each continuing after
    the last one's cursor, and a step lost to a crash is simply done again (decisions are upserts)."""
    policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies or {}, path="practice.rule_policies")
    fees = loaded_schedule(int(month[:4]))
    with transaction.atomic():
        close = MonthClose.objects.select_for_update().filter(practice=practice, month=month).first()
        if close is None or close.status != "evaluating":
            return close
        ids = patients_in_month(practice, month, after=close.cursor, limit=limit)
        now = timezone.now()
        if ids:
            for i in range(0, len(ids), CHUNK):
                _persist(practice, month, _decide_chunk(month, ids[i : i + CHUNK], policies, fees), now)
            # Conditional on the cursor read, so a step that raced another (SQLite has no row locks) and decided
            # the same patients again — harmless, decisions are upserts — does not count them twice.
            advanced = MonthClose.objects.filter(pk=close.pk, cursor=close.cursor).update(
                cursor=ids[-1], progress_done=F("progress_done") + len(ids), step_at=now
            )
            close.refresh_from_db()
            if advanced and close.progress_done > close.progress_total:
                MonthClose.objects.filter(pk=close.pk).update(progress_total=close.progress_done)
                close.progress_total = close.progress_done
            return close
        close.status, close.evaluated_at, close.step_at = "reviewing", now, now
        close.progress_total = close.progress_done
        close.save()
        summary = summarize(practice, month)
        record_audit(
            action=AuditAction.UPDATE,
            user=by,
            practice_id=practice.id,
            object_type="month_close",
            object_id=month,
            detail=summary.__dict__ | {"allowed": str(summary.allowed), "version": close.version},
        )
    return close


def close_month(*, practice, month: str, by=None, workers: int = 1) -> CloseSummary:
    """Evaluate the month from start to end (the CLI's and benchmarks' way; the web steps through it). Safe to
    re-run or resume after a crash: each step commits on its own and a re-run re-decides and upserts, so the
    result equals an uninterrupted close. Refused once closed. With `workers` > 1 on PostgreSQL, patients are
    decided by that many forked processes (`evaluate_in_processes`)."""
    close = begin_evaluation(practice=practice, month=month, by=by)
    if workers > 1 and close.status == "evaluating":
        evaluate_in_processes(practice=practice, month=month, workers=workers)
    while close is not None and close.status == "evaluating":
        close = evaluate_step(practice=practice, month=month, by=by, limit=max(STEP, CLI_STEP))
    return summarize(practice, month)


def evaluate_in_processes(*, practice, month: str, workers: int, chunk: int = CHUNK) -> int:
    """Decide the rest of an evaluation under way with `workers` forked processes, each reading facts and
    running the engine on its own connection, while this process writes each chunk's decisions in order, one
    transaction per chunk with the cursor — the same commits as the steps, so a crash resumes the same way.
    A step taken meanwhile by someone else (the web) is not undone: the cursor only moves forward. Returns the
    processes used; 0 where it does not apply (SQLite, inside a transaction, fewer than two chunks), and the
    steps then do the work."""
    if not can_fork(workers):
        return 0
    close = MonthClose.objects.filter(practice=practice, month=month, status="evaluating").first()
    if close is None:
        return 0
    ids = patients_in_month(practice, month, after=close.cursor)
    chunks = [ids[i : i + chunk] for i in range(0, len(ids), chunk)]
    if len(chunks) < 2:
        return 0
    policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies or {}, path="practice.rule_policies")
    fees = loaded_schedule(int(month[:4]))

    def write(ids_done: list[int], rows: list[Decided]) -> bool:
        with transaction.atomic():
            locked = MonthClose.objects.select_for_update().get(pk=close.pk)
            if locked.status != "evaluating" or locked.version != close.version:
                return False  # restarted or finished by someone else: stop here, the steps carry on
            now = timezone.now()
            _persist(practice, month, rows, now)
            MonthClose.objects.filter(pk=close.pk, cursor__lt=ids_done[-1]).update(
                cursor=ids_done[-1], progress_done=F("progress_done") + len(ids_done), step_at=now
            )
        return True

    # The first chunk here: it loads the code tables and fee schedules, which the forked processes inherit.
    if not write(chunks[0], _decide_chunk(month, chunks[0], policies, fees)):
        return 0
    processes = min(workers, len(chunks) - 1)
    with forked_pool(processes) as pool:
        pending: deque = deque()
        rest = iter(chunks[1:])
        for ids_part in rest:  # at most two chunks per process in flight, so memory stays bounded
            pending.append((ids_part, pool.submit(in_worker, _decide_chunk, month, ids_part, policies, fees)))
            if len(pending) >= 2 * processes:
                break
        while pending:
            ids_part, future = pending.popleft()
            if not write(ids_part, future.result()):
                for _, f in pending:
                    f.cancel()
                break
            nxt = next(rest, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(in_worker, _decide_chunk, month, nxt, policies, fees)))
    return processes


def summarize(practice, month: str) -> CloseSummary:
    d = PatientMonthDecision.objects.filter(practice=practice, month=month)
    lines = ClaimLine.objects.filter(practice=practice, month=month)
    allowed = sum((x for x in lines.values_list("allowed_amount", flat=True)), Decimal("0.00"))
    return CloseSummary(
        month,
        d.count(),
        d.filter(status="ready").count(),
        d.filter(review="needs_review").count(),
        d.filter(status="nothing_billable").count(),
        lines.count(),
        allowed,
    )


def _not_closed(practice, month: str) -> None:
    if is_closed(practice, month):
        raise Conflict(f"{month} is closed.")


def closable_from(practice, month: str):
    """None once `month` has ended in the practice's time zone; before that, the local date from which it can
    be approved and closed. Its service period is the whole calendar month (R-TIME-1), add-on units can still be
    earned until its last day, and claims are held until close (ENGINE POLICY under R-CLM-DOS-1/-2): closing it
    early would lock it and send every later minute of it to the adjustment queue. Evaluating a month in
    progress stays allowed; it previews where the month stands."""
    window = month_window(month, practice.time_zone)
    return window.end.astimezone(window.zone).date() if timezone.now() < window.end else None


def _ended(practice, month: str) -> None:
    first = closable_from(practice, month)
    if first is not None:
        raise Conflict(
            f"{month} has not ended in {practice.time_zone}; it can be approved and closed from {first:%Y-%m-%d} "
            "(the service period is the whole calendar month, R-TIME-1)."
        )


def _whole_registry(practice, month: str) -> None:
    """Refuse while a chunked import is part written (security review, item 11): no decision or claim is made
    from a registry that holds half a file."""
    run = part_written(practice)
    if run is not None:
        raise Conflict(part_written_message(run, month))
