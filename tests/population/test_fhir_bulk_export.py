"""A practice's CCM record exported as Bulk FHIR NDJSON (`ccmops export fhir`): every line a valid R4 resource,
the patients, conditions, visits and clinical picture read back by ccmops's own Bulk import into another practice,
the export audited."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class

from ccmops.clinical.instruments import PHQ2
from ccmops.clinical.models import Allergy, Immunization, Medication, Observation
from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.documentation.assess import record_assessment
from ccmops.interop.fhir_export import BULK_TYPES
from ccmops.interop.services import Source, import_source
from ccmops.organizations.models import Organization, User
from ccmops.patients.models import Encounter, Patient, PatientCondition


def clinical(practice) -> dict[str, list[tuple]]:
    """The practice's clinical picture, by patient MRN, as a person reads it."""
    rows = {
        "medications": Medication.objects.values_list(
            "patient__mrn", "kind", "status", "system", "code", "display", "dosage", "start", "end", "prescriber_npi"
        ),
        "allergies": Allergy.objects.values_list(
            "patient__mrn", "system", "code", "display", "clinical_status", "criticality", "reactions", "recorded"
        ),
        "observations": Observation.objects.values_list(
            "patient__mrn", "category", "code", "effective", "value", "unit", "value_text", "low", "high"
        ),
        "immunizations": Immunization.objects.values_list("patient__mrn", "code", "display", "status", "occurred"),
    }
    return {kind: sorted(q.filter(patient__practice=practice), key=str) for kind, q in rows.items()}


def test_a_practice_exports_its_record_and_it_imports_back(demo_activity, db, tmp_path, capsys):
    maple = Organization.objects.get(slug=world.MAPLE)
    twyla = Patient.objects.get(practice=maple, family_name="Moen")
    record_assessment(patient=twyla, by=User.objects.get(username="nora.rn"), instrument="phq2",
                      answers={i.link_id: 1 for i in PHQ2.items})  # fmt: skip
    Allergy.objects.create(practice=maple, patient=twyla, source_id="a-1", system="snomed", code="91936005",
                           display="Allergy to penicillin", clinical_status="active", criticality="high",
                           reactions="Hives, Wheezing", recorded=dt.date(2019, 5, 1))  # fmt: skip
    call_command("export", "fhir", "--practice", world.MAPLE, "--out", str(tmp_path / "out"))
    assert "Patient" in capsys.readouterr().out
    files = {p.name: p.read_text().splitlines() for p in (tmp_path / "out").iterdir()}
    assert set(files) == {f"{t}.ndjson" for t in BULK_TYPES}
    assert files["MedicationRequest.ndjson"] and files["Observation.ndjson"] and files["Immunization.ndjson"]
    assert len(files["QuestionnaireResponse.ndjson"]) == 1
    assert len(files["Patient.ndjson"]) == Patient.objects.filter(practice=maple).count()
    assert len(files["Condition.ndjson"]) == PatientCondition.objects.filter(patient__practice=maple).count()
    assert files["Consent.ndjson"] and files["CarePlan.ndjson"]
    for name, lines in files.items():
        model = get_fhir_model_class(name.split(".")[0])
        for line in lines:
            model.model_validate(json.loads(line))
    with_mbi = Patient.objects.filter(practice=maple).exclude(medicare_id="").first()
    exported = next(json.loads(x) for x in files["Patient.ndjson"] if f'"patient-{with_mbi.id}"' in x)
    assert {"system": "http://hl7.org/fhir/sid/us-mbi", "value": with_mbi.medicare_id} in exported["identifier"]
    event = AuditEvent.objects.filter(practice_id=maple.id, action="export", object_type="fhir_export").get()
    assert event.detail["counts"]["Patient"] == len(files["Patient.ndjson"])
    # read back into another practice by ccmops's own Bulk import
    other = Organization.objects.create(slug="copy", kind="practice", name="Copy", time_zone="America/Chicago")
    run = import_source(practice=other, source=Source("bulk", tmp_path / "out", "maple-export"))
    assert run.status == "succeeded"
    copied = {p.mrn: p for p in Patient.objects.filter(practice=other)}
    originals = Patient.objects.filter(practice=maple)
    assert set(copied) == {p.mrn for p in originals}
    for p in originals:
        c = copied[p.mrn]
        assert (c.family_name, c.birth_date, c.medicare_id, c.postal_code) == (
            p.family_name,
            p.birth_date,
            p.medicare_id,
            p.postal_code,
        )
    assert PatientCondition.objects.filter(patient__practice=other).count() == len(files["Condition.ndjson"])
    assert run.counts["skipped"].get("Consent") == len(files["Consent.ndjson"])

    # visits keep their dates, setting and practitioner: the initiating visit is still found
    def visits(practice):
        known = Encounter.objects.filter(patient__practice=practice).exclude(setting="other").select_related("patient")
        return sorted((e.patient.mrn, e.start, e.setting, e.practitioner_npi) for e in known)

    assert visits(other) == visits(maple) and visits(maple)
    # the clinical picture too: every medication, allergy, reading and vaccine as it was
    assert clinical(other) == clinical(maple) and all(clinical(maple).values())
    assert run.counts["skipped"].get("QuestionnaireResponse") == 1


def test_an_export_that_fails_leaves_no_half_written_files(db, tmp_path, monkeypatch):
    seed_demo()
    from ccmops.errors import InvalidInput
    from ccmops.interop import fhir_export

    calls = {"n": 0}
    real = fhir_export.patient_bundle

    def failing(patient):
        calls["n"] += 1
        if calls["n"] == 3:
            raise InvalidInput("patient: stopped on purpose")
        return real(patient)

    monkeypatch.setattr(fhir_export, "patient_bundle", failing)
    maple = Organization.objects.get(slug=world.MAPLE)
    with pytest.raises(InvalidInput, match="stopped on purpose"):
        fhir_export.export_practice(maple, tmp_path / "out")
    assert calls["n"] == 3 and list((tmp_path / "out").iterdir()) == []
