"""Sync in from the EHR (issue 34): a Bulk Data export of the practice's Group — kick-off, status polled with its
Retry-After, files downloaded with the token — read by ccmops's Bulk import; the next run asks only for what changed
since the last successful one; a download cut short imports nothing and leaves `_since` where it was."""

import json
from pathlib import Path

import ccmops.demo
from ccmops.clinical.models import Observation
from ccmops.ehr.models import SyncRun
from ccmops.ehr.sync import sync_in
from ccmops.interop.models import ImportRun
from ccmops.patients.models import Patient

UCUM = "http://unitsofmeasure.org"
BUNDLE = next((Path(ccmops.demo.__file__).parent / "data" / "synthea").glob("Murray_Hane_*.json"))


def resources() -> list[dict]:
    return [e["resource"] for e in json.loads(BUNDLE.read_text())["entry"]]


def test_a_sync_imports_the_export_then_only_what_changed(connected, ehr, login):
    maple, _, owner = connected
    ehr.add_bulk(*[r for r in resources() if r["resourceType"] != "Claim"])
    ehr.export_polls = 2
    waits = []
    first = sync_in(maple, sleep=waits.append)
    assert first.status == "succeeded", first.error
    assert first.since is None and waits == [0, 0]  # polled twice as the server asked
    hane = Patient.objects.get(practice=maple, family_name="Hane")
    before = Observation.objects.filter(patient=hane).count()
    assert before > 0 and first.files["Patient"] == 1 and first.import_run.status == "succeeded"
    assert ("GET", "/Group/maple-panel/$export") in ehr.requests
    # a new reading in the EHR: the next run asks _since the first began and brings only it
    new = {"resourceType": "Observation", "id": "bp-new", "status": "final",
           "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
           "effectiveDateTime": "2026-12-05T10:00:00-06:00",
           "valueQuantity": {"value": 81.5, "unit": "kg", "system": UCUM, "code": "kg"}}  # fmt: skip
    patient = next(r for r in resources() if r["resourceType"] == "Patient")
    new["subject"] = {"reference": f"Patient/{patient['id']}"}
    ehr.add_bulk(patient, new)
    second = sync_in(maple, sleep=lambda s: None)
    assert second.status == "succeeded", second.error
    assert second.since == first.started_at and second.files == {"Patient": 1, "Observation": 1}
    assert Observation.objects.filter(patient=hane).count() == before + 1
    page = owner.get(f"/practices/{maple.id}/integration/").content.decode()
    assert "Sync now" in page and "Observation 1" in page


def test_a_download_cut_short_imports_nothing(connected, ehr):
    maple, _, _ = connected
    ehr.add_bulk(*[r for r in resources() if r["resourceType"] != "Claim"])
    ehr.cut_downloads = 1
    imports = ImportRun.objects.filter(practice=maple).count()
    run = sync_in(maple, sleep=lambda s: None)
    assert run.status == "failed" and "cut short" in run.error
    assert run.import_run is None and ImportRun.objects.filter(practice=maple).count() == imports  # nothing read
    again = sync_in(maple, sleep=lambda s: None)
    assert again.status == "succeeded" and again.since is None  # asks from the same start: nothing skipped
    assert again.import_run.status == "succeeded"
    assert SyncRun.objects.filter(practice=maple).count() == 2


def test_an_ehr_without_bulk_data_is_synced_patient_by_patient(connected, ehr, login):
    """`sync_mode` search: each patient of the practice found by MRN, read, and their resources searched (paged,
    `_lastUpdated` after the last successful run) into the same import; a patient the EHR does not know is
    counted, not guessed."""
    maple, twyla, owner = connected
    ehr.searchable = {"Condition", "Encounter", "Coverage", "MedicationRequest", "AllergyIntolerance", "Observation",
                      "Immunization"}  # fmt: skip
    ehr.page_size = 2  # every search of more than two follows its next link
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
                                  "note_type": "11506-3", "sync_mode": "search"})  # fmt: skip
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "Search by patient: supported for Condition, Encounter" in page
    patient = {"resourceType": "Patient", "id": "p-1", "birthDate": twyla.birth_date.isoformat(),
               "name": [{"family": twyla.family_name, "given": [twyla.given_name]}], "gender": "female",
               "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                    "code": "MR"}]}, "value": twyla.mrn}]}  # fmt: skip

    def weight(n: int, kg: float) -> dict:
        return {"resourceType": "Observation", "id": f"w-{n}", "status": "final",
                "subject": {"reference": "Patient/p-1"},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
                "effectiveDateTime": f"2026-11-0{n}T10:00:00-06:00",
                "valueQuantity": {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"}}  # fmt: skip

    ehr.add_bulk(patient, weight(1, 80.0), weight(2, 80.4), weight(3, 80.9))
    before = Observation.objects.filter(patient=twyla).count()
    first = sync_in(maple, sleep=lambda s: None)
    assert first.status == "succeeded", first.error
    assert first.files["Patient"] == 1 and first.files["Observation"] == 3
    assert first.files["Patient not found"] == Patient.objects.filter(practice=maple).exclude(mrn="").count() - 1
    assert Observation.objects.filter(patient=twyla).count() == before + 3
    assert not any(path.endswith("/$export") for _, path in ehr.requests)  # no Bulk Data asked of it
    assert ("GET", "/Observation") in ehr.requests and ("GET", "/Patient/p-1") in ehr.requests
    ehr.add_bulk(weight(4, 81.2))
    second = sync_in(maple, sleep=lambda s: None)
    assert second.status == "succeeded" and second.files["Observation"] == 1  # only what changed since the first
    assert Observation.objects.filter(patient=twyla).count() == before + 4
