"""The adjustment queue: work recorded for a closed month, what it changes, and how the biller resolved it.

A closed month's claim lines are never changed (they are what was sent). Time recorded later for the month is
queued (`close.queue_adjustment_if_closed`), and so is a note of the month signed after the close or an addendum
to one (`close.queue_note_adjustment_if_closed`: they change no code, but the claim went out without them), and a
service of another practitioner that became known after the close, or was withdrawn (`known`: the claim may have
gone out as a duplicate).
Here each patient-month with queued work is decided again by the rules engine with everything now on file and
compared with what was billed — the claim lines, or the codes a previous resolution recorded as billed after it.
The biller then resolves the queued entries they saw:

- no change: the late work changes no code or unit (refused when it does, and when a service that became known
  holds the month: a possible duplicate is the biller's call, never "no change");
- corrected: the claim was corrected with the Medicare contractor outside ccmops (a reopening or a corrected
  claim, whichever the contractor accepts); its reference is required, and the month's codes as now decided
  become what later adjustments are compared with;
- not billed: the claim stays as sent; a reason is required.

Each resolution is audited with what was billed, what the engine now decides and the difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ccmops.billing.facts import patient_months
from ccmops.billing.fees import loaded_schedule
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.ledger import is_closed
from ccmops.months.models import Adjustment
from ccmops.patients.models import Patient
from ccmops.rules.concurrency import OTHER_SERVICE_HOLDS
from ccmops.rules.engine import evaluate
from ccmops.rules.policies import DEFAULT_POLICIES

OUTCOMES = dict(Adjustment.OUTCOMES)


@dataclass(frozen=True)
class Billed:
    code: str
    units: int
    allowed: Decimal
    patient_share: Decimal | None = None  # None: not recorded (resolutions made before it was kept)

    def as_dict(self) -> dict:
        out = {"code": self.code, "units": self.units, "allowed": str(self.allowed)}
        if self.patient_share is not None:
            out["patient_share"] = str(self.patient_share)
        return out


@dataclass(frozen=True)
class Impact:
    """One patient-month with queued late work: what was billed, what the engine decides now, the difference."""

    patient: Patient
    month: str
    adjustments: list[Adjustment]  # the open ones, oldest first
    billed: list[Billed]
    billed_as_of: str  # "the claim as closed" or which resolution last recorded the billed codes
    now: list[Billed]
    now_status: str
    now_findings: list[dict]  # the engine's warnings and holds for the month as now decided

    @property
    def changes(self) -> list[dict]:
        """Per code whose units or amount differ: {code, billed_units, now_units, difference}."""
        was = {b.code: b for b in self.billed}
        now = {b.code: b for b in self.now}
        out = []
        for code in sorted(was.keys() | now.keys()):
            a, b = was.get(code), now.get(code)
            a_units, b_units = (a.units if a else 0), (b.units if b else 0)
            a_amt, b_amt = (a.allowed if a else Decimal("0.00")), (b.allowed if b else Decimal("0.00"))
            if a_units != b_units or a_amt != b_amt:
                out.append({"code": code, "billed_units": a_units, "now_units": b_units, "difference": b_amt - a_amt})
        return out

    @property
    def difference(self) -> Decimal:
        return sum((c["difference"] for c in self.changes), Decimal("0.00"))

    @property
    def held_by_known_service(self) -> bool:
        """A service recorded after the close holds the month as now decided (a possible duplicate claim)."""
        return any(a.kind == "service" for a in self.adjustments) and any(
            f["severity"] == "hold" and f["code"] in OTHER_SERVICE_HOLDS for f in self.now_findings
        )

    @property
    def minutes(self) -> int:
        """Minutes the queued work adds (less those voided entries remove)."""
        return sum((-1 if a.voids else 1) * (a.time_entry.seconds // 60) for a in self.adjustments if a.time_entry_id)

    def as_dict(self) -> dict:
        return {
            "patient_id": self.patient.id,
            "patient": str(self.patient),
            "mrn": self.patient.mrn,
            "month": self.month,
            "adjustments": [
                {
                    "id": a.id,
                    "description": a.description,
                    "queued_at": a.created_at,
                    "kind": a.kind,
                    "time_entry_id": a.time_entry_id,
                    "note_id": a.note_id,
                    "addendum_id": a.addendum_id,
                    "known_service_id": a.known_service_id,
                    "minutes": a.time_entry.seconds // 60 if a.time_entry_id else None,
                    "activity": a.time_entry.activity if a.time_entry_id else None,
                    "start": a.time_entry.start if a.time_entry_id else None,
                }
                for a in self.adjustments
            ],
            "billed": [b.as_dict() for b in self.billed],
            "billed_as_of": self.billed_as_of,
            "now": [b.as_dict() for b in self.now],
            "now_status": self.now_status,
            "now_findings": self.now_findings,
            "changes": [{**c, "difference": str(c["difference"])} for c in self.changes],
            "difference": str(self.difference),
            "held_by_known_service": self.held_by_known_service,
        }


def billed_by_patient(practice, month: str, patient_ids: list[int]) -> dict[int, tuple[list[Billed], str]]:
    """What each patient-month stands billed at: the last resolution's record where one was made, else the
    closed month's claim lines (none when the month was overridden to "do not bill")."""
    out: dict[int, tuple[list[Billed], str]] = {}
    not_billed = set(
        PatientMonthDecision.objects.filter(
            practice=practice, month=month, patient_id__in=patient_ids, override_action="do_not_bill"
        ).values_list("patient_id", flat=True)
    )
    lines: dict[int, list[Billed]] = defaultdict(list)
    for pid, code, units, allowed, share in (
        ClaimLine.objects.filter(practice=practice, month=month, patient_id__in=patient_ids)
        .order_by("patient_id", "code")
        .values_list("patient_id", "code", "units", "allowed_amount", "patient_share")
    ):
        if pid not in not_billed:
            lines[pid].append(Billed(code, units, allowed, share))
    for pid in patient_ids:
        out[pid] = (lines.get(pid, []), "the claim as closed")
    resolved = (
        Adjustment.objects.filter(
            practice=practice, month=month, patient_id__in=patient_ids, billed_after__isnull=False
        )
        .order_by("patient_id", "resolved_at", "id")
        .values_list("patient_id", "billed_after", "outcome", "reference", "resolved_at")
    )
    for pid, after, outcome, reference, at in resolved:  # the latest per patient wins
        as_of = f"{OUTCOMES.get(outcome, outcome).lower()} on {timezone.localtime(at):%Y-%m-%d}"
        if reference:
            as_of += f" (ref. {reference})"
        out[pid] = ([_billed(x) for x in after], as_of)
    return out


def _billed(x: dict) -> Billed:
    share = x.get("patient_share")
    return Billed(x["code"], int(x["units"]), Decimal(x["allowed"]), None if share is None else Decimal(share))


def _impacts(practice, month: str, open_adjustments: list[Adjustment]) -> list[Impact]:
    by_patient: dict[int, list[Adjustment]] = defaultdict(list)
    for a in open_adjustments:
        by_patient[a.patient_id].append(a)
    if not by_patient:
        return []
    patients = list(Patient.objects.filter(id__in=list(by_patient)).select_related("practice", "billing_practitioner"))
    facts = patient_months(patients, month)
    policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies or {}, path="practice.rule_policies")
    billed = billed_by_patient(practice, month, list(by_patient))
    fees = loaded_schedule(int(month[:4]))
    out = []
    for p in sorted(patients, key=lambda p: (p.family_name, p.given_name, p.id)):
        pm = facts.get(p.id)
        if pm is None:  # no billing practitioner now: nothing can be decided, so nothing is billable
            now, status, findings = [], "no billing practitioner", []
        else:
            decision = evaluate(pm, policies, fees=fees)
            now = [Billed(line.code, line.units, line.allowed_amount, line.patient_share) for line in decision.lines]
            status = decision.status.value
            findings = [
                {"code": f.code, "severity": f.severity.value, "message": f.message, "rules": list(f.rules)}
                for f in decision.findings
                if f.severity.value != "info"
            ]
        was, as_of = billed[p.id]
        out.append(Impact(p, month, by_patient[p.id], was, as_of, sorted(now, key=lambda b: b.code), status, findings))
    return out


def open_impacts(practice, month: str) -> list[Impact]:
    """The month's patient-months with queued late work, each decided again and compared with what was billed."""
    queued = list(
        Adjustment.objects.filter(practice=practice, month=month, resolved_at__isnull=True)
        .select_related("time_entry")
        .order_by("created_at", "id")
    )
    return _impacts(practice, month, queued)


def resolved_adjustments(practice, month: str):
    return (
        Adjustment.objects.filter(practice=practice, month=month, resolved_at__isnull=False)
        .select_related("patient", "resolved_by", "time_entry")
        .order_by("-resolved_at", "-id")
    )


@transaction.atomic
def resolve(
    *, practice, month: str, adjustment_ids: list[int], outcome: str, note: str = "", reference: str = "", by
) -> Impact:
    """Resolve these open adjustments (one patient-month's, as the biller saw them) with `outcome`. The impact
    is computed again here, on the facts as they are now, so a page left open cannot resolve "no change" after
    more work arrived that changes the codes.

    Raises:
        InvalidInput: unknown outcome, missing reference or reason, no adjustments named, or adjustments of
            several patient-months.
        Conflict: an adjustment is already resolved or not of this practice and month; "no change" while the
            codes change.
    """
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
    note, reference = note.strip(), reference.strip()
    if outcome == "corrected" and not reference:
        raise InvalidInput("reference: give the Medicare contractor's reopening or corrected-claim reference")
    if outcome == "not_billed" and len(note) < 5:
        raise InvalidInput("note: explain why the difference is not billed (it is kept and audited)")
    if len(note) > 300:
        raise InvalidInput(f"note: at most 300 characters, got {len(note)}")
    if len(reference) > 60:
        raise InvalidInput(f"reference: at most 60 characters, got {len(reference)}")
    ids = sorted(set(adjustment_ids))
    if not ids:
        raise InvalidInput("adjustment_ids: name the queued entries you are resolving")
    if not is_closed(practice, month):
        raise Conflict(f"{month} is not closed; its time still counts in the month's own evaluation.")
    chosen = list(
        Adjustment.objects.select_for_update(of=("self",))
        .filter(id__in=ids, practice=practice, month=month)
        .select_related("time_entry")
        .order_by("created_at", "id")
    )
    missing = sorted(set(ids) - {a.id for a in chosen})
    if missing:
        raise Conflict(f"adjustment(s) {', '.join(map(str, missing))}: not queued for {practice.name} in {month}")
    done = [a.id for a in chosen if a.resolved_at is not None]
    if done:
        raise Conflict(f"adjustment(s) {', '.join(map(str, done))} already resolved; reload the queue")
    if len({a.patient_id for a in chosen}) != 1:
        raise InvalidInput("adjustment_ids: resolve one patient-month at a time")
    (impact,) = _impacts(practice, month, chosen)
    if outcome == "no_change" and impact.held_by_known_service:
        holds = "; ".join(f["message"] for f in impact.now_findings if f["code"] in OTHER_SERVICE_HOLDS)
        raise Conflict(
            f"a service that became known after the close holds the month ({holds}): resolve it as corrected "
            "(with the contractor's reference) or not billed (the claim stands; say why)"
        )
    if outcome == "no_change" and impact.changes:
        raise Conflict(
            "the late work changes the month's codes ("
            + "; ".join(f"{c['code']} {c['billed_units']} → {c['now_units']}" for c in impact.changes)
            + "): resolve it as corrected or not billed"
        )
    after = impact.now if outcome == "corrected" else impact.billed
    now = timezone.now()
    for a in chosen:
        a.resolved_at, a.resolved_by, a.outcome = now, by, outcome
        a.resolution, a.reference = note, reference
        a.billed_after = [b.as_dict() for b in after]
        a.save(update_fields=["resolved_at", "resolved_by", "outcome", "resolution", "reference", "billed_after"])
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=impact.patient,
        object_type="adjustment",
        object_id=month,
        detail={
            "outcome": outcome,
            "note": note,
            "reference": reference,
            "adjustments": [a.id for a in chosen],
            "billed": [b.as_dict() for b in impact.billed],
            "now": [b.as_dict() for b in impact.now],
            "difference": str(impact.difference),
        },
    )
    return impact


@transaction.atomic
def resolve_unchanged(*, practice, month: str, by, note: str = "") -> list[Impact]:
    """Resolve as "no change" every queued patient-month whose late work changes no code or unit — a note
    signed late, an addendum, time that reaches no new threshold — each one as `resolve` does it (decided again
    on the facts at that moment, audited on its own). Patient-months whose codes change, or that a service
    known after the close holds, stay queued for the biller. Returns the ones resolved."""
    return [
        resolve(
            practice=practice,
            month=month,
            adjustment_ids=[a.id for a in impact.adjustments],
            outcome="no_change",
            note=note,
            by=by,
        )
        for impact in open_impacts(practice, month)
        if not impact.changes and not impact.held_by_known_service
    ]
