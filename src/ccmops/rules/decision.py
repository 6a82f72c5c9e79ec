"""The decision values the engine returns (frozen; JSON shape in `ccmops.rules.contract`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    HOLD = "hold"
    REFUSAL = "refusal"


class Status(StrEnum):
    READY = "ready"
    HOLD = "hold"
    NOTHING_BILLABLE = "nothing_billable"


class Reason(StrEnum):
    """Why minutes were not counted."""

    OTHER_MONTH = "OTHER_MONTH"
    NON_CLINICAL = "NON_CLINICAL"
    OUTSIDE_US = "OUTSIDE_US"
    COUNTED_ELSEWHERE = "COUNTED_ELSEWHERE"
    OTHER_PROGRAM = "OTHER_PROGRAM"
    BEFORE_CONSENT = "BEFORE_CONSENT"
    BEFORE_INITIATING_VISIT = "BEFORE_INITIATING_VISIT"
    FACILITY_STAY = "FACILITY_STAY"
    OVERLAP = "OVERLAP"
    AFTER_DEATH = "AFTER_DEATH"
    NOT_BILLED_FAMILY = "NOT_BILLED_FAMILY"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Line:
    code: str
    units: int
    date_of_service: dt.date
    diagnosis_codes: tuple[str, ...]
    allowed_amount: Decimal
    patient_share: Decimal


@dataclass(frozen=True)
class ExcludedTime:
    entry_id: str
    minutes: int
    reason: Reason
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Alternative:
    lines: tuple[Line, ...]
    total: Decimal
    why_not: str


@dataclass(frozen=True)
class CountedMinutes:
    clinical_staff: int = 0
    billing_practitioner: int = 0


@dataclass(frozen=True)
class Decision:
    month: str
    patient_id: str
    billing_practitioner_id: str
    status: Status
    lines: tuple[Line, ...]
    counted_minutes: CountedMinutes
    excluded_time: tuple[ExcludedTime, ...]
    findings: tuple[Finding, ...]
    alternatives: tuple[Alternative, ...] = field(default_factory=tuple)
    family: str | None = None
    fee_source: str = ""  # the fee file (and release) the amounts come from, or how provisional ones were made
    fees_provisional: bool = False  # R-2027-3: not the year's final fee file
    # Time entries whose counted minutes no signed note documents: (entry id, minutes, why) (R-DOC-1)
    undocumented: tuple[tuple[str, int, str], ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((line.allowed_amount for line in self.lines), Decimal("0.00"))
