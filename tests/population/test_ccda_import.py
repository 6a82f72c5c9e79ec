"""C-CDA documents (issue 33) go through `ccda-to-fhir` into the FHIR import: problems, medications, allergies,
results, vital signs and encounters land where a FHIR import puts them; re-importing the same document changes
nothing; what cannot be used is named. The documents are HL7's C-CDA examples (../shared/data/ccda, CC0)."""

from pathlib import Path

import pytest
from django.core.management import call_command

from ccmops.clinical.models import Allergy, Medication, Observation
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.patients.models import Encounter, Patient, PatientCondition

CCDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ccda"
TABLES = (Patient, PatientCondition, Encounter, Medication, Allergy, Observation)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in TABLES}


def document(name: str) -> Path:
    if not CCDA.exists():
        pytest.skip("../shared/data is not here")
    return CCDA / name


def test_a_progress_note_brings_the_patient_problems_medications_results_once(practice):
    path = document("Progress_Note.xml")
    run = import_source(practice=practice, source=Source("ccda", path, path.name))
    patient = Patient.objects.get()
    assert (patient.mrn, patient.family_name, str(patient.birth_date)) == ("12345", "Everyman", "1954-11-25")
    codes = set(PatientCondition.objects.values_list("code", flat=True))
    assert "190389009" in codes  # type II diabetes mellitus with ulcer, a chronic condition CCM rests on
    assert Medication.objects.filter(system="rxnorm").count() == 2
    assert Allergy.objects.count() == 2 and Observation.objects.filter(category="vital-signs").exists()
    assert Encounter.objects.count() == 1
    assert "1 patient, 3 conditions, 1 encounter" in run.counted and "2 medications" in run.counted
    # What the converter could not map is in the report, not dropped silently.
    assert any("C-CDA converter says" in w for w in run.warnings)
    before = counts()
    import_source(practice=practice, source=Source("ccda", path, path.name + " again"))
    assert counts() == before  # the converter's ids are random; ccmops's are stable


def test_a_document_without_an_mrn_is_refused_and_an_ssn_never_kept(practice):
    path = document("CCD_1.xml")  # its patient is identified only by a (sample) Social Security number
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("ccda", path, path.name))
    assert info.value.run.problems == [
        "CCD_1.xml, recordTarget/patientRole: id: the patient has no identifier but a Social Security number; "
        "ccmops matches patients on the EHR's patient identifier (MRN): export the document with it in "
        "recordTarget/patientRole/id"
    ]
    assert counts() == dict.fromkeys(counts(), 0)


def test_what_is_not_a_c_cda_document_is_named(practice, tmp_path):
    path = tmp_path / "note.xml"
    path.write_text("<html><body>not a clinical document</body></html>")
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("ccda", path, path.name))
    (problem,) = info.value.run.problems
    assert problem.startswith("note.xml: ClinicalDocument: not a C-CDA document ccmops can read:")
    assert counts() == dict.fromkeys(counts(), 0)


def test_the_command_line_imports_c_cda(practice, capsys):
    call_command("import", "ccda", str(document("Discharge_Summary.xml")), "--practice", practice.slug)
    out = capsys.readouterr().out
    assert "Discharge_Summary.xml: imported 1 patient, 2 conditions, 1 encounter" in out
    assert Allergy.objects.count() == 3
