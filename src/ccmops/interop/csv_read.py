"""The ccmops CSV layout for practices whose EHR exports spreadsheets: one file, one row per patient, diagnosis,
visit, medication, allergy, result (a vital sign or laboratory value) or immunization (column `record`).
`TEMPLATE` is the downloadable template; docs/population.md documents it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from ccmops.interop.records import (
    AllergyRec,
    Batch,
    ConditionRec,
    EncounterRec,
    ImmunizationRec,
    MedicationRec,
    ObservationRec,
    PatientRec,
    Problem,
    QmbRec,
)
from ccmops.patients.vocabulary import normalize_payer, state_code

COLUMNS = (
    "record",
    "mrn",
    "last_name",
    "first_name",
    "birth_date",
    "sex",
    "deceased_date",
    "phone",
    "payer",
    "code_system",
    "code",
    "description",
    "onset_date",
    "resolved_date",
    "visit_date",
    "visit_type",
    "practitioner_npi",
)
# Patient rows may also carry address_line, city, state, postal_code and medicare_id (for claims) and a QMB period
# (qmb_from, qmb_to; docs/population.md), read when present.
# Clinical rows (issue 33) may also carry value, unit, reference_low, reference_high (a result), dosage and status
# (a medication), reaction and criticality (an allergy), read when present.
REQUIRED = {
    "patient": ("mrn", "last_name", "first_name", "birth_date"),
    "diagnosis": ("mrn", "code_system", "code"),
    "visit": ("mrn", "visit_date", "visit_type"),
    "medication": ("mrn", "description", "onset_date"),
    "allergy": ("mrn", "description"),
    "result": ("mrn", "code", "description", "onset_date"),
    "immunization": ("mrn", "code", "description", "onset_date"),
}
CLINICAL_SYSTEMS = {
    "medication": {"rxnorm": "rxnorm", "ndc": "ndc", "": "other"},
    "allergy": {"snomed": "snomed", "sct": "snomed", "rxnorm": "rxnorm", "": "other"},
    "result": {"loinc": "loinc", "": "loinc"},
    "immunization": {"cvx": "cvx", "": "cvx"},
}
MEDICATION_STATUSES = ("active", "completed", "stopped", "on-hold")
CRITICALITIES = ("low", "high", "unable-to-assess")
# Vital signs (LOINC) among results: the rest are laboratory results.
VITAL_SIGNS = frozenset({"8480-6", "8462-4", "85354-9", "29463-7", "39156-5", "8867-4", "8310-5", "9279-1",
                         "59408-5", "2708-6", "8302-2"})  # fmt: skip
VISIT_TYPES = {
    "em": ("ambulatory", "em"),
    "awv": ("ambulatory", "awv"),
    "ippe": ("ambulatory", "ippe"),
    "tcm": ("ambulatory", "tcm"),
    "ed": ("emergency", ""),
    "inpatient": ("inpatient", ""),
    "other": ("other", ""),
}
CODE_SYSTEMS = {"icd10cm": "icd10cm", "icd-10-cm": "icd10cm", "icd10": "icd10cm", "snomed": "snomed", "sct": "snomed"}
TEMPLATE_ROWS = (  # the downloadable template: every kind of row once, with the optional value and unit of results
    "patient,MRN-1001,Moen,Twyla,1945-12-09,female,,555-651-6494,medicare,,,,,,,,,,",
    "diagnosis,MRN-1001,,,,,,,,icd10cm,I10,Essential hypertension,2011-03-02,,,,,,",
    "diagnosis,MRN-1001,,,,,,,,icd10cm,E11.9,Type 2 diabetes mellitus,2015-06-20,,,,,,",
    "visit,MRN-1001,,,,,,,,,99214,Office visit,,,2026-10-14,em,1003000019,,",
    "medication,MRN-1001,,,,,,,,rxnorm,314076,Lisinopril 10 MG Oral Tablet,2024-02-01,,,,1003000019,,",
    "allergy,MRN-1001,,,,,,,,snomed,91936005,Allergy to penicillin,2019-05-01,,,,,,",
    "result,MRN-1001,,,,,,,,loinc,4548-4,Hemoglobin A1c,2026-10-14,,,,,7.4,%",
    "immunization,MRN-1001,,,,,,,,cvx,150,Influenza injectable quadrivalent,2026-10-14,,,,,,",
)
TEMPLATE = ",".join((*COLUMNS, "value", "unit")) + "\n" + "\n".join(TEMPLATE_ROWS) + "\n"


def _date(row: dict, column: str, problems: list[Problem], file: str, where: str) -> dt.date | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(file, where, column, f"expected a date YYYY-MM-DD, got {value!r}"))
        return None


def read_csv_text(text: str, file_label: str) -> Batch:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        return _read_rows(reader, file_label)
    except csv.Error as exc:  # e.g. an unterminated quote or a NUL byte: the file is not CSV from that line on
        batch = Batch()
        batch.problems.append(Problem(file_label, f"line {reader.line_num}", "", f"not readable as CSV: {exc}"))
        return batch


def _read_rows(reader: csv.DictReader, file_label: str) -> Batch:
    batch = Batch()
    p = batch.problems
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        p.append(
            Problem(
                file_label,
                "line 1 (header)",
                ", ".join(missing),
                f"missing column(s); the header must name all of: {', '.join(COLUMNS)}",
            )
        )
        return batch
    for row in reader:
        row = {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str | None)}
        where = f"line {reader.line_num}"
        kind = row["record"].lower()
        if kind not in REQUIRED:
            p.append(
                Problem(file_label, where, "record", f"expected one of {', '.join(REQUIRED)}, got {row['record']!r}")
            )
            continue
        absent = [c for c in REQUIRED[kind] if not row.get(c)]
        if absent:
            p.append(Problem(file_label, where, ", ".join(absent), f"required for a {kind} row"))
            continue
        batch.resources_read += 1
        before = len(p)
        if kind == "patient":
            birth = _date(row, "birth_date", p, file_label, where)
            deceased = _date(row, "deceased_date", p, file_label, where)
            payer = normalize_payer(row["payer"]) or ""
            qmb_from = _date(row, "qmb_from", p, file_label, where)
            qmb_to = _date(row, "qmb_to", p, file_label, where)
            if qmb_to is not None and qmb_from is None and len(p) == before:
                p.append(Problem(file_label, where, "qmb_from", "required with qmb_to (the QMB period's first day)"))
            elif qmb_from is not None and qmb_to is not None and qmb_to < qmb_from:
                p.append(Problem(file_label, where, "qmb_to", f"{qmb_to} is before qmb_from {qmb_from}"))
            if len(p) == before and qmb_from is not None:
                batch.qmb.append(QmbRec(row["mrn"], qmb_from, qmb_to, f"{file_label} {where}", where))
            if len(p) == before:
                batch.patients.append(
                    PatientRec(
                        row["mrn"],
                        row["mrn"],
                        row["first_name"],
                        row["last_name"],
                        birth,
                        row["sex"].lower(),
                        deceased,
                        row["phone"],
                        "",
                        payer,
                        row.get("address_line", ""),
                        row.get("city", ""),
                        state_code(row.get("state", "")),
                        row.get("postal_code", ""),
                        row.get("medicare_id", "").replace("-", "").upper(),
                    )
                )
        elif kind in CLINICAL_SYSTEMS:
            _clinical_row(batch, kind, row, file_label, where)
        elif kind == "diagnosis":
            system = CODE_SYSTEMS.get(row["code_system"].lower())
            if system is None:
                p.append(
                    Problem(
                        file_label,
                        where,
                        "code_system",
                        f"unknown code system {row['code_system']!r}; expected icd10cm or snomed",
                    )
                )
                continue
            onset = _date(row, "onset_date", p, file_label, where)
            resolved = _date(row, "resolved_date", p, file_label, where)
            if len(p) == before:
                batch.conditions.append(
                    ConditionRec(row["mrn"], system, row["code"], row["description"], onset, resolved)
                )
        else:
            visit_type = VISIT_TYPES.get(row["visit_type"].lower())
            if visit_type is None:
                p.append(
                    Problem(
                        file_label,
                        where,
                        "visit_type",
                        f"expected one of {', '.join(VISIT_TYPES)}, got {row['visit_type']!r}",
                    )
                )
                continue
            day = _date(row, "visit_date", p, file_label, where)
            if len(p) == before:
                setting, visit_kind = visit_type
                start = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
                batch.encounters.append(
                    EncounterRec(
                        row["mrn"],
                        f"csv:{row['mrn']}:{day}:{row['visit_type']}:{row['code']}",
                        start,
                        None,
                        setting,
                        visit_kind,
                        row["code"],
                        row["description"],
                        row["practitioner_npi"],
                    )
                )
    return batch


def _number(row: dict, column: str, problems: list[Problem], file: str, where: str) -> float | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        problems.append(Problem(file, where, column, f"expected a number, got {value!r}"))
        return None
    return float(number)


def _numeric(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _one_of(row: dict, column: str, allowed, problems: list[Problem], file: str, where: str) -> str:
    value = (row.get(column) or "").strip().lower()
    if value and value not in allowed:
        problems.append(Problem(file, where, column, f"expected one of {', '.join(allowed)}, got {row[column]!r}"))
    return value


def _clinical_row(batch: Batch, kind: str, row: dict, file: str, where: str) -> None:
    """A medication, allergy, result or immunization row. Its source id is the row's content (patient, code or
    description, date), so importing the same file again changes nothing."""
    p = batch.problems
    before = len(p)
    systems = CLINICAL_SYSTEMS[kind]
    system = systems.get(row["code_system"].lower())
    if system is None:
        names = ", ".join(k for k in systems if k)
        p.append(Problem(file, where, "code_system", f"expected {names} for a {kind} row, got {row['code_system']!r}"))
    start = _date(row, "onset_date", p, file, where)
    end = _date(row, "resolved_date", p, file, where)
    if start and end and end < start:
        p.append(Problem(file, where, "resolved_date", f"{end} is before onset_date {start}"))
    key = f"csv:{kind}:{row['mrn']}:{row['code'] or row['description'].lower()}:{start or ''}"
    mrn, code, text = row["mrn"], row["code"], row["description"]
    if kind == "medication":
        status = _one_of(row, "status", MEDICATION_STATUSES, p, file, where) or ("completed" if end else "active")
        if len(p) == before:
            batch.medications.append(MedicationRec(
                mrn, key, "request", status, system, code, text, row.get("dosage", ""), start, end,
                row["practitioner_npi"],
            ))  # fmt: skip
    elif kind == "allergy":
        criticality = _one_of(row, "criticality", CRITICALITIES, p, file, where)
        if len(p) == before:
            batch.allergies.append(AllergyRec(
                mrn, key, system, code, text, "resolved" if end else "active", "", criticality,
                row.get("reaction", ""), start,
            ))  # fmt: skip
    elif kind == "result":
        raw = (row.get("value") or "").strip()
        unit = row.get("unit", "")
        # A value with a unit is a number; one without may be a text result ("negative", "trace").
        value = _number(row, "value", p, file, where) if unit or _numeric(raw) else None
        low = _number(row, "reference_low", p, file, where)
        high = _number(row, "reference_high", p, file, where)
        if not raw:
            p.append(
                Problem(file, where, "value", "required for a result row (a number with its unit, or a text result)")
            )
        if len(p) == before:
            effective = dt.datetime(start.year, start.month, start.day, 12, tzinfo=dt.UTC)
            category = "vital-signs" if code in VITAL_SIGNS else "laboratory"
            batch.observations.append(ObservationRec(
                mrn, key, category, code, text, effective, value, unit, "" if value is not None else raw, low, high,
            ))  # fmt: skip
    elif len(p) == before:
        batch.immunizations.append(ImmunizationRec(mrn, key, code, text, "completed", start))
