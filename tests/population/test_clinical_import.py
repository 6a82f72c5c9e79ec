"""The clinical picture comes in with the population (issue 33): medications, allergies, observations (vital
signs, laboratory results, blood pressure by component) and immunizations from FHIR Bundles and Bulk NDJSON —
all or nothing, idempotent, every rejected resource named, codes kept with their displays."""

import json
from pathlib import Path

import pytest
from tests.factories.population import PATIENT, bundle, write

from ccmops.clinical.models import Allergy, Immunization, Medication, Observation
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.patients.models import Patient

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synthea" / "fhir-r4"
CLINICAL = (Medication, Allergy, Observation, Immunization)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in CLINICAL}


def synthea(prefix: str) -> Path:
    if not SYNTHEA.exists():
        pytest.skip("../shared/data is not here")
    return next(SYNTHEA.glob(f"{prefix}_*.json"))


def expected_from(path: Path) -> dict[str, int]:
    """What the bundle holds, counted from the file itself: one observation row per value (a panel: per
    component with a value), medications, allergies and immunizations one each (none entered in error)."""
    resources = [e["resource"] for e in json.loads(path.read_text())["entry"]]
    kinds = [r["resourceType"] for r in resources]
    values = 0
    for r in resources:
        if r["resourceType"] != "Observation":
            continue
        parts = r.get("component") or [r]
        values += sum(1 for p in parts if "valueQuantity" in p or "valueCodeableConcept" in p or "valueString" in p)
    return {
        "Medication": kinds.count("MedicationRequest") + kinds.count("MedicationStatement"),
        "Allergy": kinds.count("AllergyIntolerance"),
        "Observation": values,
        "Immunization": kinds.count("Immunization"),
    }


def test_a_synthea_bundle_brings_its_clinical_picture_once(practice):
    path = synthea("Elvina_Lemke")  # medications, an allergy, vitals, labs and vaccines
    expected = expected_from(path)
    assert all(expected.values()), expected
    run = import_source(practice=practice, source=Source("fhir", path, path.name))
    assert counts() == expected
    for kind, key in (("Medication", "medications"), ("Allergy", "allergies"), ("Observation", "observations")):
        assert run.counts[key] == expected[kind]
    assert "MedicationRequest" not in run.counts["skipped"] and "Observation" not in run.counts["skipped"]
    assert "medication" in run.counted and "immunization" in run.counted
    patient = Patient.objects.get()
    # Codes with their systems and displays; the prescriber resolved from the bundle's Practitioner.
    med = Medication.objects.filter(patient=patient, system="rxnorm").first()
    assert med.code.isdigit() and med.display and med.kind == "request" and med.start is not None
    assert Medication.objects.exclude(prescriber="").exists()
    systolic = Observation.objects.filter(patient=patient, code="8480-6")
    diastolic = Observation.objects.filter(patient=patient, code="8462-4")
    assert systolic.count() == diastolic.count() > 0  # blood pressure: one row per component
    assert all("#8480-6" in s for s in systolic.values_list("source_id", flat=True))
    assert (
        Observation.objects.filter(category="laboratory", code="4548-4").exists()
        or Observation.objects.filter(category="laboratory").exists()
    )
    assert Immunization.objects.filter(patient=patient).exclude(code="").count() == expected["Immunization"]
    # Importing the same export again changes nothing and duplicates nothing.
    import_source(practice=practice, source=Source("fhir", path, path.name + " again"))
    assert counts() == expected


def test_a_changed_resource_updates_its_row(practice, tmp_path):
    obs = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-10-01T09:00:00-05:00",
        "valueQuantity": {"value": 8.1, "unit": "%"},
        "referenceRange": [{"low": {"value": 4.0}, "high": {"value": 5.6}}],
    }
    first = write(tmp_path, "a.json", bundle(PATIENT, obs))
    import_source(practice=practice, source=Source("fhir", first, first.name))
    corrected = write(tmp_path, "b.json", bundle(PATIENT, {**obs, "valueQuantity": {"value": 7.4, "unit": "%"}}))
    import_source(practice=practice, source=Source("fhir", corrected, corrected.name))
    (row,) = Observation.objects.all()
    assert float(row.value) == 7.4 and float(row.high) == 5.6 and row.unit == "%"


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (
            {"resourceType": "Observation", "id": "o2", "status": "final", "subject": {"reference": "Patient/p1"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}, "valueQuantity": {"value": 70}},
            "entry[1] Observation/o2: effectiveDateTime: required: when it was observed",
        ),
        (
            {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/p1"}},
            "entry[1] MedicationRequest/m1: medicationCodeableConcept or medicationReference: required: the medication",
        ),
        (
            {"resourceType": "Immunization", "id": "i1", "status": "completed", "patient": {"reference": "Patient/p1"},
             "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]}},
            "Immunization/i1: occurrenceDateTime or occurrenceString: required: the date the vaccine was given",
        ),
        (
            {"resourceType": "AllergyIntolerance", "id": "a1", "patient": {"reference": "Patient/p1"}},
            "entry[1] AllergyIntolerance/a1: code: required: the substance",
        ),
    ],
)  # fmt: skip
def test_a_resource_that_cannot_be_used_is_named_and_nothing_is_written(practice, tmp_path, resource, problem):
    path = write(tmp_path, "bad.json", bundle(PATIENT, resource))
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert any(problem in p for p in info.value.run.problems), info.value.run.problems
    assert Patient.objects.count() == 0 and counts() == dict.fromkeys(counts(), 0)


def test_bulk_ndjson_brings_the_clinical_picture_too(practice, tmp_path):
    path = synthea("Twyla_Moen")
    resources = [e["resource"] for e in json.loads(path.read_text())["entry"]]
    out = tmp_path / "bulk"
    out.mkdir()
    by_type: dict[str, list] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    for kind, items in by_type.items():
        (out / f"{kind}.ndjson").write_text("\n".join(json.dumps(r) for r in items) + "\n")
    import_source(practice=practice, source=Source("bulk", out, "moen-bulk"))
    assert counts() == expected_from(path)
    assert Medication.objects.exclude(prescriber="").exists()  # prescribers resolve across the files
