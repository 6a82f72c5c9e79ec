"""The patient-month JSON contract (../shared/contracts/patient-month.md): strict input models and the
decision's JSON shape. Unknown fields are errors; every error names its JSON path."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ccmops.rules.decision import Decision, Line
from ccmops.rules.policies import DEFAULT_POLICIES, PolicyError

OUTPUT_SCHEMA = "ccmops.patient-month-decision/1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PracticeIn(_Strict):
    timezone: str
    setting: Literal["office", "facility", "rhc", "fqhc"]
    qualifying_apm_participant: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as America/Chicago, got {value!r}") from None
        return value


class BillingPractitionerIn(_Strict):
    id: str = Field(min_length=1)
    group_id: str = Field(min_length=1)
    credential: Literal["MD", "DO", "NP", "PA", "CNS", "CNM"]
    responsible_for_all_primary_care: bool = True


class ConditionIn(_Strict):
    code: str = Field(min_length=1)
    system: Literal["icd10cm", "snomed"]
    onset: dt.date | None = None
    abated: dt.date | None = None


class FacilityStayIn(_Strict):
    kind: Literal["inpatient", "snf"]
    start: dt.date
    end: dt.date

    @field_validator("end")
    @classmethod
    def _ordered(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start")
        if start is not None and value < start:
            raise ValueError(f"expected a date on or after start ({start})")
        return value


CoverageKind = Literal[
    "part_b_ffs", "medicare_advantage", "part_a_only", "part_d", "medicaid", "commercial", "other", "none", "unknown"
]


class CoverageIn(_Strict):
    """A coverage period (R-COV-1): Part B fee-for-service, Medicare Advantage and every non-Medicare payer kept
    apart; `medicare_secondary` when another payer is primary. No start: in force before any month asked about;
    no end: still in force."""

    kind: CoverageKind
    start: dt.date | None = None
    end: dt.date | None = None
    medicare_secondary: bool = False


class PatientIn(_Strict):
    id: str = Field(min_length=1)
    birth_date: dt.date
    conditions: tuple[ConditionIn, ...] = ()
    qmb: bool = False
    facility_stays: tuple[FacilityStayIn, ...] = ()
    # Stated by the close (the record's facts); a document that leaves them out is decided without them.
    coverage: tuple[CoverageIn, ...] | None = None
    deceased_on: dt.date | None = None
    # The enrollment records that another practice furnishes the patient's CCM, since that day (R-CONS-2): a fact
    # about the patient, not a service with a code, a practitioner and a date of service. Every month evaluated
    # while it stands is held (when the other practice began is not known).
    ccm_elsewhere_since: dt.date | None = None


class VisitIn(_Strict):
    date: dt.date
    kind: Literal["em", "awv", "ippe", "tcm"]
    code: str
    practitioner_id: str
    care_management_discussed: bool
    new_patient: bool = False  # the patient was new to the practitioner at this visit (R-INIT-6)
    same_group: bool = False  # by a practitioner of the billing practitioner's group (R-APCM-4)


ConsentElement = Literal["cost_sharing", "one_practitioner_per_month", "right_to_stop", "specialist_consultation"]
Program = Literal["ccm", "pcm", "apcm", "bhi"]


class ConsentIn(_Strict):
    program: Program
    practitioner_id: str
    documented_at: AwareDatetime
    method: Literal["verbal", "written", "electronic"]
    elements: tuple[ConsentElement, ...]
    revoked_at: AwareDatetime | None = None


class RevisionIn(_Strict):
    at: AwareDatetime
    substantial: bool


class CarePlanIn(_Strict):
    kind: Literal["comprehensive", "disease_specific"]
    established_at: AwareDatetime
    shared_with_patient_at: AwareDatetime | None = None
    revisions: tuple[RevisionIn, ...] = ()
    # PCM: why the one condition is complex or high-risk (recent hospitalization, frequent medication changes,
    # comorbidities) as the disease-specific plan records it (R-ELIG-3)
    complexity_reason: str | None = None


class MdmIn(_Strict):
    date: dt.date
    complexity: Literal["straightforward", "low", "moderate", "high"]
    practitioner_id: str


class NoteIn(_Strict):
    """The note that documents a time entry (R-TIME-8, R-DOC-1): signed by its author, or still a draft."""

    id: str = Field(min_length=1)
    signed_at: AwareDatetime | None = None
    author: str = Field(min_length=1)


class TimeEntryIn(_Strict):
    id: str = Field(min_length=1)
    start: AwareDatetime
    minutes: int = Field(ge=1, le=24 * 60)
    staff_id: str
    staff_role: Literal["clinical_staff", "billing_practitioner", "other_practitioner", "non_clinical"]
    employer: Literal["practice", "partner"]
    program: Literal["ccm", "pcm", "apcm", "bhi", "rpm", "tcm"]
    located_in_us: bool = True
    counted_for: str | None = None
    # Stated (even as null) by the close: the note documenting the entry. Left out: not stated, decided as before.
    note: NoteIn | None = None

    @property
    def documentation_stated(self) -> bool:
        return "note" in self.model_fields_set


class OtherServiceIn(_Strict):
    code: str = Field(min_length=1)
    practitioner_id: str
    same_group: bool
    date: dt.date


class BehavioralHealthActivityIn(_Strict):
    """Documented behavioral-health work of the month that the APCM add-ons rest on (R-2026-1): general BHI
    (screening, BH care planning, follow-up) or CoCM (care-manager activity, registry, psychiatric review)."""

    date: dt.date
    kind: Literal["general_bhi", "cocm_care_manager", "cocm_registry", "cocm_psychiatric_review"]


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PatientMonth(_Strict):
    """One patient-month to evaluate for one billing practitioner (frozen facts)."""

    schema_: Literal["ccmops.patient-month/1"] = Field(alias="schema")
    month: str
    practice: PracticeIn
    billing_practitioner: BillingPractitionerIn
    patient: PatientIn
    visits: tuple[VisitIn, ...] = ()
    consents: tuple[ConsentIn, ...] = ()
    care_plan: CarePlanIn | None = None
    medical_decision_making: tuple[MdmIn, ...] = ()
    time_entries: tuple[TimeEntryIn, ...] = ()
    other_services: tuple[OtherServiceIn, ...] = ()
    behavioral_health_activities: tuple[BehavioralHealthActivityIn, ...] = ()
    policy: dict[str, Any] = Field(default_factory=dict)

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError(f"expected YYYY-MM, got {value!r}")
        return value

    @field_validator("time_entries")
    @classmethod
    def _unique_entry_ids(cls, entries: tuple[TimeEntryIn, ...]) -> tuple[TimeEntryIn, ...]:
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            if entry.id in seen:
                raise ValueError(f"entry {i} repeats the id {entry.id!r}; ids must be unique")
            seen.add(entry.id)
        return entries


class ContractError(ValueError):
    """The input is not a valid patient-month; `problems` are (JSON path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))


def _path(loc: tuple) -> str:
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith(("function-", "union[")):
            continue
        else:
            out += f".{'schema' if part == 'schema_' else part}"
    return out


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field (a typo must not silently change a bill)"
    msg = error["msg"]
    return msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg


def parse_patient_month(text: str | bytes) -> PatientMonth:
    """Parse and strictly validate a patient-month document.

    Raises:
        ContractError: bad JSON or any field not as the contract says, each with its JSON path.
    """
    try:
        pm = PatientMonth.model_validate_json(text)
    except ValidationError as exc:
        errors = exc.errors()
        if errors and errors[0]["type"] == "json_invalid":
            raise ContractError([("$", f"not valid JSON: {errors[0]['ctx'].get('error', errors[0]['msg'])}")]) from None
        raise ContractError([(_path(e["loc"]), _message(e)) for e in errors]) from None

    try:
        DEFAULT_POLICIES.with_overrides(pm.policy)
    except PolicyError as exc:
        raise ContractError([(exc.path, exc.message)]) from None
    return pm


def _undocumented(decision: Decision) -> list[dict]:
    return [{"entry_id": e, "minutes": m, "why": why} for e, m, why in decision.undocumented]


def _line(line: Line) -> dict:
    return {
        "code": line.code,
        "units": line.units,
        "date_of_service": line.date_of_service.isoformat(),
        "diagnosis_codes": list(line.diagnosis_codes),
        "allowed_amount": f"{line.allowed_amount:.2f}",
        "patient_share": f"{line.patient_share:.2f}",
    }


def decision_to_json(decision: Decision) -> dict:
    """The decision as a `ccmops.patient-month-decision/1` JSON object."""
    return {
        "schema": OUTPUT_SCHEMA,
        "month": decision.month,
        "patient_id": decision.patient_id,
        "billing_practitioner_id": decision.billing_practitioner_id,
        "status": decision.status.value,
        "lines": [_line(x) for x in decision.lines],
        "counted_minutes": {
            "clinical_staff": decision.counted_minutes.clinical_staff,
            "billing_practitioner": decision.counted_minutes.billing_practitioner,
        },
        "excluded_time": [
            {"entry_id": e.entry_id, "minutes": e.minutes, "reason": e.reason.value, "rules": list(e.rules)}
            for e in decision.excluded_time
        ],
        "findings": [
            {"code": f.code, "severity": f.severity.value, "message": f.message, "rules": list(f.rules)}
            for f in decision.findings
        ],
        "alternatives": [
            {"lines": [_line(x) for x in a.lines], "total": f"{a.total:.2f}", "why_not": a.why_not}
            for a in decision.alternatives
        ],
        "family": decision.family,
        "fee_source": decision.fee_source,
        "fees_provisional": decision.fees_provisional,
        "undocumented_time": _undocumented(decision),
    }
