"""Look back under today's rules: re-decide closed months with the rules, policies, fee files and facts as they
stand now — without changing anything — and list every patient-month whose codes or units would differ from
what was billed, with the rule IDs and the amounts. The self-audit a practice runs before a contractor does
(issue: the rules stay current)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from ccmops.billing.facts import month_documents, month_patients
from ccmops.billing.fees import loaded_schedule
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.months.models import MonthClose
from ccmops.months.month import checked
from ccmops.platform.collector import collector_paused
from ccmops.rules.contract import PatientMonth
from ccmops.rules.decision import Severity
from ccmops.rules.engine import evaluate
from ccmops.rules.policies import DEFAULT_POLICIES
from ccmops.rules.years import rule_set_for

CHUNK = 500


@dataclass(frozen=True)
class Difference:
    patient_id: int
    patient: str
    mrn: str
    month: str
    billed: tuple[tuple[str, int], ...]
    now: tuple[tuple[str, int], ...]
    billed_amount: Decimal
    now_amount: Decimal
    status_now: str
    rules: tuple[str, ...]  # the rule IDs of the findings that hold, refuse or change the month now
    reasons: tuple[str, ...]  # those findings' messages

    @property
    def difference(self) -> Decimal:
        return self.now_amount - self.billed_amount

    def as_dict(self) -> dict:
        return {
            "patient_id": self.patient_id,
            "patient": self.patient,
            "mrn": self.mrn,
            "month": self.month,
            "billed": [{"code": c, "units": u} for c, u in self.billed],
            "now": [{"code": c, "units": u} for c, u in self.now],
            "billed_amount": str(self.billed_amount),
            "now_amount": str(self.now_amount),
            "difference": str(self.difference),
            "status_now": self.status_now,
            "rules": list(self.rules),
            "reasons": list(self.reasons),
        }


@dataclass
class Lookback:
    start: str
    end: str
    months: list[str] = field(default_factory=list)  # the closed months looked at
    patient_months: int = 0
    differences: list[Difference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # closed months of a year with no rule set now

    @property
    def total_difference(self) -> Decimal:
        return sum((d.difference for d in self.differences), Decimal("0.00"))

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "months": self.months,
            "patient_months": self.patient_months,
            "skipped": self.skipped,
            "total_difference": str(self.total_difference),
            "differences": [d.as_dict() for d in self.differences],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Lookback:
        """A look back as a job stored it (`as_dict`)."""
        return cls(
            data["start"],
            data["end"],
            list(data["months"]),
            data["patient_months"],
            [
                Difference(
                    d["patient_id"],
                    d["patient"],
                    d["mrn"],
                    d["month"],
                    tuple((b["code"], b["units"]) for b in d["billed"]),
                    tuple((b["code"], b["units"]) for b in d["now"]),
                    Decimal(d["billed_amount"]),
                    Decimal(d["now_amount"]),
                    d["status_now"],
                    tuple(d["rules"]),
                    tuple(d["reasons"]),
                )
                for d in data["differences"]
            ],
            list(data["skipped"]),
        )


def lookback(*, practice, start: str, end: str, by=None) -> Lookback:
    """Re-decide the practice's closed months from `start` to `end` (YYYY-MM, inclusive) as the rules and facts
    stand now; nothing is written but the audit event of the look itself.

    Raises:
        InvalidInput: a malformed month, or `start` after `end`.
    """
    start, end = checked(start, "from"), checked(end, "to")
    if start > end:
        raise InvalidInput(f"from: {start} is after to: {end}")
    policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies or {}, path="practice.rule_policies")
    result = Lookback(start, end)
    closed = MonthClose.objects.filter(practice=practice, status="closed", month__gte=start, month__lte=end)
    for month in sorted(closed.values_list("month", flat=True)):
        if rule_set_for(int(month[:4])) is None:
            result.skipped.append(month)
            continue
        result.months.append(month)
        fees = loaded_schedule(int(month[:4]))
        billed = _billed(practice, month)
        ids = list(
            PatientMonthDecision.objects.filter(practice=practice, month=month)
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
        )
        with collector_paused():
            for i in range(0, len(ids), CHUNK):
                patients = month_patients(ids[i : i + CHUNK])
                documents = month_documents(patients, month)
                for p in patients:
                    result.patient_months += 1
                    had = billed.get(p.id, {})
                    document = documents.get(p.id)
                    if document is None:  # no billing practitioner now
                        now, amount, status, findings = {}, Decimal("0.00"), "no billing practitioner", []
                    else:
                        decision = evaluate(PatientMonth.model_validate_json(document), policies, fees=fees)
                        now = {line.code: line.units for line in decision.lines}
                        amount, status = decision.total, decision.status.value
                        findings = [f for f in decision.findings if f.severity in (Severity.HOLD, Severity.REFUSAL)]
                    # the same codes and units, and nothing that would hold the month now: as billed
                    if {c: u for c, (u, _) in had.items()} == now and status != "hold":
                        continue
                    result.differences.append(
                        Difference(
                            p.id,
                            str(p),
                            p.mrn,
                            month,
                            tuple(sorted((c, u) for c, (u, _) in had.items())),
                            tuple(sorted(now.items())),
                            sum((a for _, a in had.values()), Decimal("0.00")),
                            amount,
                            status,
                            tuple(dict.fromkeys(r for f in findings for r in f.rules)),
                            tuple(f.message for f in findings),
                        )
                    )
    record_audit(
        action=AuditAction.READ,
        user=by,
        practice_id=practice.id,
        object_type="lookback",
        object_id=f"{start}..{end}",
        detail={
            "months": len(result.months),
            "patient_months": result.patient_months,
            "differ": len(result.differences),
        },
    )
    return result


def _billed(practice, month: str) -> dict[int, dict[str, tuple[int, Decimal]]]:
    """What went out for each patient-month: its claim lines, less those overridden to "do not bill"."""
    out: dict[int, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for patient_id, code, units, allowed, action in ClaimLine.objects.filter(
        practice=practice, month=month
    ).values_list("patient_id", "code", "units", "allowed_amount", "decision__override_action"):
        if action != "do_not_bill":
            out[patient_id][code] = (units, allowed)
    return out
