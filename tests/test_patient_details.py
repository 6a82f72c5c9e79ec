"""Those who work with a patient correct their contact details and MBI on the patient's page or the API: each
value validated and named when wrong, the change audited by field (not value), and a later import that says
nothing of a field keeps the correction."""

import pytest
from tests.factories.pages import markup_problems
from tests.factories.population import write

from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.interop.csv_read import TEMPLATE
from ccmops.interop.services import Source, import_source
from ccmops.organizations.models import Organization
from ccmops.patients.details import change_details
from ccmops.patients.models import Patient


def maple_patient() -> Patient:
    return Patient.objects.filter(practice__slug=world.MAPLE, care_manager__username="nora.rn").first()


def test_a_care_manager_corrects_a_phone_number_learned_on_a_call(login):
    nora = login("nora.rn")
    patient = maple_patient()
    page = nora.get(f"/patients/{patient.id}/")
    assert page.status_code == 200 and markup_problems(page) == []
    assert 'id="pd_phone"' in page.content.decode()
    saved = nora.post(f"/patients/{patient.id}/details/", {"phone": "(217) 555 0199", "preferred_language": "Polish"})
    assert saved.status_code == 302 and saved["Location"].endswith("#details")
    patient.refresh_from_db()
    assert (patient.phone, patient.preferred_language) == ("217-555-0199", "Polish")
    event = AuditEvent.objects.filter(patient=patient, action="update").latest("id")
    assert event.detail == {"changed": ["phone", "preferred_language"]}  # which fields, not the numbers
    assert 'href="tel:217-555-0199"' in nora.get(f"/patients/{patient.id}/").content.decode()


def test_a_bad_detail_is_named_and_nothing_is_saved(login):
    patient = maple_patient()
    before = (patient.phone, patient.city)
    refused = login("nora.rn").post(f"/patients/{patient.id}/details/", {"city": "Decatur", "phone": "555-01"})
    assert refused.status_code == 422 and markup_problems(refused) == []
    body = refused.content.decode()
    assert "phone: expected a 10-digit US number" in body and 'value="Decatur"' in body
    patient.refresh_from_db()
    assert (patient.phone, patient.city) == before
    for changes, named in (
        ({"medicare_id": "1EG4TE5MK7"}, "medicare_id"),  # ten characters
        ({"medicare_id": "1SG4TE5MK73"}, "medicare_id"),  # S is never an MBI letter
        ({"state": "XX"}, "state"),
        ({"postal_code": "6270"}, "postal_code"),
        ({"time_zone": "Chicago"}, "time_zone"),
        ({"address_line": "1 Main St\nApt 2"}, "address_line"),
        ({"birth_date": "1950-01-01"}, "birth_date"),  # from the EHR only
    ):
        with pytest.raises(InvalidInput, match=f"^{named}"):
            change_details(patient=patient, changes=changes, by=None)
    assert change_details(patient=patient, changes={"medicare_id": "1eg4-te5-mk73"}, by=None) == ["medicare_id"]
    patient.refresh_from_db()
    assert patient.medicare_id == "1EG4TE5MK73"


def test_only_those_who_work_with_the_patient_correct_details(login):
    patient = maple_patient()
    assert login("carl.compliance").post(f"/patients/{patient.id}/details/", {"phone": "2175550100"}).status_code == 403
    assert login("pat.rn").post(f"/patients/{patient.id}/details/", {"phone": "2175550100"}).status_code == 404
    api = login("ben.biller").patch(
        f"/api/patients/{patient.id}/details", {"medicare_id": "1EG4TE5MK73"}, content_type="application/json"
    )
    assert api.status_code == 200 and api.json() == {"changed": ["medicare_id"]}
    typo = login("ben.biller").patch(
        f"/api/patients/{patient.id}/details", {"medicare_idd": "1EG4TE5MK73"}, content_type="application/json"
    )
    assert typo.status_code == 422


def test_an_import_that_says_nothing_of_a_detail_keeps_the_correction(db, tmp_path):
    practice = Organization.objects.create(slug="p", kind="practice", name="P", time_zone="America/Chicago")
    path = write(tmp_path, "t.csv", TEMPLATE)
    import_source(practice=practice, source=Source("csv", path, path.name))
    twyla = Patient.objects.get(practice=practice, mrn="MRN-1001")
    assert twyla.phone == "555-651-6494"
    change_details(patient=twyla, changes={"phone": "217-555-0199"}, by=None)
    path.write_text(TEMPLATE.replace("555-651-6494", ""))  # this export carries no phone for her
    import_source(practice=practice, source=Source("csv", path, "again.csv"))
    twyla.refresh_from_db()
    assert twyla.phone == "217-555-0199"
    path.write_text(TEMPLATE.replace("555-651-6494", "217-555-0123"))  # this one does: the EHR is the source
    import_source(practice=practice, source=Source("csv", path, "third.csv"))
    twyla.refresh_from_db()
    assert twyla.phone == "217-555-0123"


def test_a_detail_sent_back_unchanged_is_not_judged_again(demo):
    patient = maple_patient()
    Patient.objects.filter(pk=patient.pk).update(postal_code="627")  # as some import brought it
    patient.refresh_from_db()
    assert change_details(patient=patient, changes={"postal_code": "627", "phone": "2175550100"}, by=None) == ["phone"]
