"""What the engine works with while deciding one patient-month: its context (facts, window, consent, time
counted, policies, fees) and each candidate family of codes it weighs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ccmops.rules.calendar import MonthWindow
from ccmops.rules.concurrency import Blocks
from ccmops.rules.conditions import Classification
from ccmops.rules.consent import ConsentState
from ccmops.rules.contract import PatientMonth
from ccmops.rules.decision import Line
from ccmops.rules.fees import FeeSchedule, patient_share
from ccmops.rules.initiation import Initiation
from ccmops.rules.policies import Policies
from ccmops.rules.timecount import TimeResult
from ccmops.rules.years.base import RuleSet


@dataclass(frozen=True)
class Candidate:
    family: str
    program: str
    lines: tuple[Line, ...]
    note: str = ""

    @property
    def total(self) -> Decimal:
        return sum((x.allowed_amount for x in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class Context:
    pm: PatientMonth
    policies: Policies
    rules: RuleSet
    fees: FeeSchedule
    window: MonthWindow
    conditions: Classification
    consents: dict[str, ConsentState]
    initiations: dict[str, Initiation]
    time: TimeResult
    blocks: Blocks

    @property
    def facility(self) -> bool:
        return self.pm.practice.setting == "facility"

    def line(self, code: str, units: int, dos: dt.date, dx: tuple[str, ...]) -> Line:
        """A claim line priced for this practitioner (85% for NP, PA, CNS: R-PAY-4), never dated after the
        patient's death (R-COV-2, R-CLM-DOS-2)."""
        rate = self.fees.practitioner_rate(
            code,
            facility=self.facility,
            qualifying_apm_participant=self.pm.practice.qualifying_apm_participant,
            credential=self.pm.billing_practitioner.credential,
        )
        died = self.pm.patient.deceased_on
        if died is not None and died < dos:
            dos = died
        allowed = rate * units
        return Line(code, units, dos, dx, allowed, patient_share(allowed, qmb=self.pm.patient.qmb))


def active_codes(pm: PatientMonth, window: MonthWindow) -> list[tuple[str, str]]:
    return [
        (c.system, c.code)
        for c in pm.patient.conditions
        if (c.onset is None or c.onset <= window.last_day) and (c.abated is None or c.abated >= window.first_day)
    ]


def services_start(state: ConsentState, window: MonthWindow) -> dt.date:
    if state.first_documented is None:
        return window.first_day
    return window.local_date(state.first_documented)
