"""QMB periods from the CSV (qmb_from, qmb_to on patient rows): recorded once per patient and first day,
updated on re-import, refused with the line when they overlap another period (the same QmbPeriod rows the month's
facts read: tests/billing/test_qmb.py)."""

import datetime as dt

import pytest
from tests.factories.population import write

from ccmops.interop.csv_read import COLUMNS
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.patients.models import Patient, QmbPeriod
from ccmops.patients.services import record_qmb

HEADER = ",".join((*COLUMNS, "qmb_from", "qmb_to"))
EMPTY = "," * (len(COLUMNS) - 9)  # the columns after payer, up to practitioner_npi


def patient_row(mrn: str, qmb_from: str = "", qmb_to: str = "") -> str:
    return f"patient,{mrn},Moen,Twyla,1945-12-09,female,,,medicare{EMPTY},{qmb_from},{qmb_to}"


def load(practice, tmp_path, *rows: str, name: str = "elig.csv"):
    path = write(tmp_path, name, HEADER + "\n" + "\n".join(rows) + "\n")
    return import_source(practice=practice, source=Source("csv", path, path.name))


def periods() -> list[tuple]:
    return list(QmbPeriod.objects.order_by("patient__mrn", "start").values_list("patient__mrn", "start", "end"))


def test_qmb_columns_record_update_and_never_duplicate(practice, tmp_path):
    run = load(practice, tmp_path, patient_row("M-1", "2026-01-01"), patient_row("M-2"))
    assert periods() == [("M-1", dt.date(2026, 1, 1), None)]
    assert run.counts["qmb_periods"] == 1
    assert QmbPeriod.objects.get().source == "elig.csv line 2"

    load(practice, tmp_path, patient_row("M-1", "2026-01-01"), patient_row("M-2"))  # the same file again
    assert periods() == [("M-1", dt.date(2026, 1, 1), None)]
    load(practice, tmp_path, patient_row("M-1", "2026-01-01", "2026-10-31"), name="elig-nov.csv")
    assert periods() == [("M-1", dt.date(2026, 1, 1), dt.date(2026, 10, 31))]
    assert QmbPeriod.objects.get().source == "elig-nov.csv line 2"


def test_bad_or_overlapping_qmb_rows_import_nothing_and_name_the_line(practice, tmp_path):
    load(practice, tmp_path, patient_row("M-1"))
    record_qmb(patient=Patient.objects.get(mrn="M-1"), start=dt.date(2026, 3, 1), end=None, source="HETS 271", by=None)
    with pytest.raises(ImportRejected) as info:
        load(
            practice,
            tmp_path,
            patient_row("M-1", "2026-01-01", "2026-06-30"),
            patient_row("M-2", "", "2026-06-30"),
            patient_row("M-3", "2026-07-01", "2026-02-01"),
            patient_row("M-4", "2026-01-01", "2026-05-31"),
            patient_row("M-4", "2026-05-01"),
        )
    assert info.value.run.problems == [
        "elig.csv, line 3: qmb_from: required with qmb_to (the QMB period's first day)",
        "elig.csv, line 4: qmb_to: 2026-02-01 is before qmb_from 2026-07-01",
    ]  # read problems first; the registry is not consulted for a file that cannot be read
    with pytest.raises(ImportRejected) as info:
        load(
            practice,
            tmp_path,
            patient_row("M-1", "2026-01-01", "2026-06-30"),
            patient_row("M-4", "2026-01-01", "2026-05-31"),
            patient_row("M-4", "2026-05-01"),
        )
    assert info.value.run.problems == [
        "elig.csv, line 2: qmb_from: the QMB period from 2026-01-01 overlaps the one from 2026-03-01 (still open); "
        "end that one first, or give only the days it does not cover",
        "elig.csv, line 4: qmb_from: the QMB period from 2026-05-01 overlaps the one from 2026-01-01 to 2026-05-31; "
        "end that one first, or give only the days it does not cover",
    ]
    assert periods() == [("M-1", dt.date(2026, 3, 1), None)]
    assert not Patient.objects.filter(mrn="M-4").exists()  # the whole file was refused
