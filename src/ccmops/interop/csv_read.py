"""The ccmops CSV layout for practices whose EHR exports spreadsheets: one file, one row per patient,
diagnosis or visit (column `record`). `TEMPLATE` is the downloadable template; docs/population.md documents it."""

from __future__ import annotations

import csv
import datetime as dt
import io

from ccmops.interop.records import Batch, ConditionRec, EncounterRec, PatientRec, Problem, QmbRec
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
REQUIRED = {
    "patient": ("mrn", "last_name", "first_name", "birth_date"),
    "diagnosis": ("mrn", "code_system", "code"),
    "visit": ("mrn", "visit_date", "visit_type"),
}
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
TEMPLATE = (
    ",".join(COLUMNS)
    + "\n"
    + "patient,MRN-1001,Moen,Twyla,1945-12-09,female,,555-651-6494,medicare,,,,,,,,\n"
    + "diagnosis,MRN-1001,,,,,,,,icd10cm,I10,Essential hypertension,2011-03-02,,,,\n"
    + "diagnosis,MRN-1001,,,,,,,,icd10cm,E11.9,Type 2 diabetes mellitus,2015-06-20,,,,\n"
    + "visit,MRN-1001,,,,,,,,,99214,Office visit,,,2026-10-14,em,1003000019\n"
)


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
                Problem(file_label, where, "record", f"expected patient, diagnosis or visit, got {row['record']!r}")
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
