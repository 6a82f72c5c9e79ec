"""Normalized records that every importer produces, and the problems it reports (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One reason an input was rejected: which file, where in it, which field, and what was expected."""

    file: str
    location: str  # "line 12", "entry[3] Condition/abc", "row 7"
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, {self.location}" if self.location else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class PatientRec:
    source_id: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str = ""
    deceased_on: dt.date | None = None
    phone: str = ""
    language: str = ""
    payer: str = ""  # from a CSV; FHIR payers come as CoverageRec
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    medicare_id: str = ""


@dataclass(frozen=True)
class QmbRec:
    """A QMB period from an import (the CSV's qmb_from/qmb_to): recorded once per patient and start."""

    patient_ref: str
    start: dt.date
    end: dt.date | None
    source: str  # where it came from: the file and line
    where: str  # the line, for a problem found against the registry


@dataclass(frozen=True)
class ConditionRec:
    patient_ref: str
    system: str  # icd10cm | snomed
    code: str
    display: str = ""
    onset: dt.date | None = None
    abated: dt.date | None = None
    source_id: str = ""


@dataclass(frozen=True)
class EncounterRec:
    patient_ref: str
    source_id: str
    start: dt.datetime
    end: dt.datetime | None
    setting: str  # ambulatory | emergency | inpatient | other
    visit_kind: str  # em | awv | ippe | tcm | "" (not a qualifying face-to-face visit)
    code: str = ""
    display: str = ""
    practitioner_npi: str = ""


@dataclass(frozen=True)
class CoverageRec:
    patient_ref: str
    source_id: str
    payer: str  # one of patients.vocabulary.PAYERS
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class MedicationRec:
    patient_ref: str
    source_id: str
    kind: str  # request | statement
    status: str
    system: str  # rxnorm | ndc | other
    code: str
    display: str
    dosage: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    prescriber_npi: str = ""  # "ref:<id>" until the Practitioner is read
    prescriber: str = ""


@dataclass(frozen=True)
class AllergyRec:
    patient_ref: str
    source_id: str
    system: str
    code: str
    display: str
    clinical_status: str = ""
    category: str = ""
    criticality: str = ""
    reactions: str = ""
    recorded: dt.date | None = None


@dataclass(frozen=True)
class ObservationRec:
    patient_ref: str
    source_id: str
    category: str
    code: str  # LOINC
    display: str
    effective: dt.datetime
    value: float | None = None
    unit: str = ""
    value_text: str = ""
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ImmunizationRec:
    patient_ref: str
    source_id: str
    code: str  # CVX
    display: str
    status: str
    occurred: dt.date


@dataclass
class Batch:
    """Everything read from one input, validated, before anything is written."""

    patients: list[PatientRec] = field(default_factory=list)
    conditions: list[ConditionRec] = field(default_factory=list)
    encounters: list[EncounterRec] = field(default_factory=list)
    coverages: list[CoverageRec] = field(default_factory=list)
    qmb: list[QmbRec] = field(default_factory=list)
    medications: list[MedicationRec] = field(default_factory=list)
    allergies: list[AllergyRec] = field(default_factory=list)
    observations: list[ObservationRec] = field(default_factory=list)
    immunizations: list[ImmunizationRec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    resources_read: int = 0

    def skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1

    @property
    def record_count(self) -> int:
        return (
            len(self.patients)
            + len(self.conditions)
            + len(self.encounters)
            + len(self.coverages)
            + len(self.qmb)
            + sum(len(c) for c in self.clinical)
        )

    @property
    def clinical(self) -> tuple[list, ...]:
        """The clinical picture's records: medications, allergies, observations, immunizations."""
        return (self.medications, self.allergies, self.observations, self.immunizations)
