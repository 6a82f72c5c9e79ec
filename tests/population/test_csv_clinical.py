"""Clinical rows in the CSV layout (issue 33): medication, allergy, result and immunization rows import into the
same records as FHIR and C-CDA, once (the same file again changes nothing); a bad row is named with its line and
column and the file writes nothing; the downloadable template imports as it is."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from tests.factories.population import write

from ccmops.clinical.models import Allergy, Immunization, Medication, Observation
from ccmops.interop.csv_read import COLUMNS, TEMPLATE
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.patients.models import Patient

EXTRA = ("value", "unit", "reference_low", "reference_high", "dosage", "status", "reaction", "criticality")
HEADER = ",".join((*COLUMNS, *EXTRA))


def row(record, mrn="M-1", system="", code="", description="", onset="", resolved="", npi="", **extra):
    cells = dict.fromkeys(COLUMNS, "") | dict.fromkeys(EXTRA, "")
    cells |= {"record": record, "mrn": mrn, "code_system": system, "code": code, "description": description,
              "onset_date": onset, "resolved_date": resolved, "practitioner_npi": npi, **extra}  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([cells[c] for c in (*COLUMNS, *EXTRA)])
    return out.getvalue()


PATIENT = "patient,M-1,Moen,Twyla,1945-12-09,female,,,medicare" + "," * (len(COLUMNS) - 9) + "," * len(EXTRA)
ROWS = [
    PATIENT,
    row("medication", system="rxnorm", code="314076", description="Lisinopril 10 MG Oral Tablet", onset="2024-02-01",
        npi="1003000019", dosage="1 tablet daily"),
    row("medication", system="rxnorm", code="860975", description="Metformin 500 MG Oral Tablet", onset="2020-01-01",
        resolved="2025-03-01"),
    row("allergy", system="snomed", code="91936005", description="Allergy to penicillin", onset="2019-05-01",
        reaction="Hives", criticality="high"),
    row("result", system="loinc", code="4548-4", description="Hemoglobin A1c", onset="2026-10-14", value="8.1",
        unit="%", reference_low="4", reference_high="5.6"),
    row("result", code="8480-6", description="Systolic blood pressure", onset="2026-10-14", value="148",
        unit="mm[Hg]"),
    row("result", code="5794-3", description="Hemoglobin [Presence] in Urine by Test strip", onset="2026-10-14",
        value="negative"),
    row("immunization", system="cvx", code="150", description="Influenza, injectable, quadrivalent",
        onset="2026-10-14"),
]  # fmt: skip


def load(practice, tmp_path, *rows, name="clinical.csv"):
    path = write(tmp_path, name, HEADER + "\n" + "\n".join(rows) + "\n")
    return import_source(practice=practice, source=Source("csv", path, path.name))


def test_clinical_rows_import_once(practice, tmp_path):
    run = load(practice, tmp_path, *ROWS)
    twyla = Patient.objects.get(mrn="M-1")
    lisinopril, metformin = Medication.objects.filter(patient=twyla).order_by("display")
    assert (lisinopril.code, lisinopril.system, lisinopril.status, lisinopril.start, lisinopril.dosage) == (
        "314076", "rxnorm", "active", dt.date(2024, 2, 1), "1 tablet daily",
    )  # fmt: skip
    assert lisinopril.prescriber_npi == "1003000019" and lisinopril.active
    assert metformin.status == "completed" and metformin.end == dt.date(2025, 3, 1) and not metformin.active
    allergy = Allergy.objects.get(patient=twyla)
    assert (allergy.code, allergy.reactions, allergy.criticality, allergy.clinical_status) == (
        "91936005", "Hives", "high", "active",
    )  # fmt: skip
    a1c = Observation.objects.get(patient=twyla, code="4548-4")
    assert (a1c.value, a1c.unit, a1c.low, a1c.high, a1c.category) == (
        Decimal("8.1"), "%", Decimal("4"), Decimal("5.6"), "laboratory",
    )  # fmt: skip
    assert Observation.objects.get(code="8480-6").category == "vital-signs"
    urine = Observation.objects.get(code="5794-3")
    assert urine.value is None and urine.value_text == "negative"
    assert Immunization.objects.get(patient=twyla).occurred == dt.date(2026, 10, 14)
    assert run.counts["medications"] == 2 and run.counts["observations"] == 3
    before = {m: m.objects.count() for m in (Medication, Allergy, Observation, Immunization)}
    load(practice, tmp_path, *ROWS)  # the same file again
    assert {m: m.objects.count() for m in before} == before


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (row("medication", description="Lisinopril", onset="2024-13-01"),
         "line 3: onset_date: expected a date YYYY-MM-DD, got '2024-13-01'"),
        (row("medication", system="snomed", description="Lisinopril", onset="2024-01-01"),
         "line 3: code_system: expected rxnorm, ndc for a medication row, got 'snomed'"),
        (row("medication", description="Lisinopril", onset="2024-01-01", status="maybe"),
         "line 3: status: expected one of active, completed, stopped, on-hold, got 'maybe'"),
        (row("medication", description="Lisinopril", onset="2024-05-01", resolved="2024-01-01"),
         "line 3: resolved_date: 2024-01-01 is before onset_date 2024-05-01"),
        (row("result", code="4548-4", description="A1c", onset="2026-10-14", value="8..1", unit="%"),
         "line 3: value: expected a number, got '8..1'"),
        (row("result", code="4548-4", description="A1c", onset="2026-10-14"),
         "line 3: value: required for a result row"),
        (row("allergy", description="Peanuts", criticality="severe"),
         "line 3: criticality: expected one of low, high, unable-to-assess, got 'severe'"),
        (row("immunization", code="150", description="Flu"), "line 3: onset_date: required for a immunization row"),
        (row("vitals", description="x"), "line 3: record: expected one of patient, diagnosis, visit, medication"),
    ],
)  # fmt: skip
def test_a_bad_clinical_row_is_named_and_nothing_is_written(practice, tmp_path, bad, problem):
    with pytest.raises(ImportRejected) as info:
        load(practice, tmp_path, PATIENT, bad)
    assert any(problem in p for p in info.value.run.problems), info.value.run.problems
    assert not Patient.objects.exists() and not Medication.objects.exists()


def test_the_template_imports_as_it_is(practice, tmp_path):
    path = write(tmp_path, "template.csv", TEMPLATE)
    import_source(practice=practice, source=Source("csv", path, path.name))
    twyla = Patient.objects.get(mrn="MRN-1001")
    assert [m.display for m in Medication.objects.filter(patient=twyla)] == ["Lisinopril 10 MG Oral Tablet"]
    assert Allergy.objects.filter(patient=twyla).count() == Immunization.objects.filter(patient=twyla).count() == 1
    assert Observation.objects.get(patient=twyla, code="4548-4").value == Decimal("7.4")
