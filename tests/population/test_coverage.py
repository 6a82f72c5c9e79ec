"""Covered and alive (R-COV-1, R-COV-2) and confirmed diagnosis codes (R-DX-3) as the record keeps them: payers
told apart on import (Medicare Advantage and Part D are not original Medicare), coverage and the date of death
recorded on the patient's page or the API with their source, a SNOMED CT problem's ICD-10-CM code confirmed by a
person — each audited, and each deciding the month at close."""

import datetime as dt

import pytest

from ccmops.compliance.models import AuditEvent
from ccmops.errors import InvalidInput
from ccmops.organizations.models import User
from ccmops.patients.coverage import (
    check_claim_code,
    confirm_diagnosis,
    record_coverage,
    record_death,
    withdraw_coverage,
)
from ccmops.patients.models import CoverageRecord, Patient, PatientCondition
from ccmops.patients.vocabulary import normalize_payer, payer_from_sopt


@pytest.mark.parametrize(
    ("text", "payer"),
    [
        ("Medicare", "medicare"),
        ("Medicare Part B", "medicare"),
        ("Medicare Advantage HMO", "medicare_advantage"),
        ("Medicare Part C", "medicare_advantage"),
        ("Humana Medicare", "unknown"),  # an insurer's Medicare plan: Advantage or Part D, the name does not say
        ("Medicare Part D prescription drug plan", "part_d"),
        ("Medicare Part A", "part_a_only"),
        ("Dual Eligible", "dual_eligible"),
        ("Medicaid", "medicaid"),
        ("Blue Cross Blue Shield", "private"),
        ("NO_INSURANCE", "none"),
        ("", None),
    ],
)
def test_payers_are_told_apart(text, payer):
    """R-COV-1: Medicare Advantage, Part D and Part A only are never filed as plain Medicare."""
    assert normalize_payer(text) == payer


@pytest.mark.parametrize(
    ("code", "payer"),
    [("111", "medicare_advantage"), ("121", "medicare"), ("122", "part_d"), ("2", "medicaid"), ("x", None)],
)
def test_source_of_payment_typology_codes(code, payer):
    assert payer_from_sopt(code) == payer


def test_fhir_coverage_of_medicare_advantage_is_imported_as_such(demo, tmp_path):
    import json

    from ccmops.interop.services import Source, import_source
    from ccmops.organizations.models import Organization

    practice = Organization.objects.get(slug="maple-street-family-medicine")
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p1",
                    "identifier": [{"value": "MA-1"}],
                    "name": [{"family": "Plan", "given": ["Ada"]}],
                    "birthDate": "1950-02-03",
                }
            },
            {
                "resource": {
                    "resourceType": "Coverage",
                    "id": "c1",
                    "status": "active",
                    "beneficiary": {"reference": "Patient/p1"},
                    "payor": [{"display": "Acme Health"}],
                    "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "111"}]},
                    "period": {"start": "2026-01-01"},
                }
            },
        ],
    }
    path = tmp_path / "ma.json"
    path.write_text(json.dumps(bundle))
    import_source(practice=practice, source=Source("fhir", path, path.name), by=User.objects.get(username="admin"))
    record = CoverageRecord.objects.get(patient__mrn="p1", patient__practice=practice)
    assert record.payer == "medicare_advantage" and record.start == dt.date(2026, 1, 1)


def test_coverage_entered_by_hand_with_its_source_is_audited_ended_and_withdrawn(demo):
    twyla, ben = Patient.objects.get(family_name="Moen"), User.objects.get(username="ben.biller")
    with pytest.raises(InvalidInput, match="source: say how it is known"):
        record_coverage(patient=twyla, payer="medicare_advantage", start=None, end=None, source=" ", by=ben)
    with pytest.raises(InvalidInput, match="payer: expected one of"):
        record_coverage(patient=twyla, payer="medicare-ish", start=None, end=None, source="card", by=ben)
    with pytest.raises(InvalidInput, match="only Medicare coverage can be secondary"):
        record_coverage(
            patient=twyla, payer="private", start=None, end=None, source="card", by=ben, medicare_secondary=True
        )
    record = record_coverage(
        patient=twyla,
        payer="medicare_advantage",
        start=dt.date(2026, 3, 1),
        end=None,
        source="HETS 271 of 2026-03-02",
        by=ben,
    )
    assert AuditEvent.objects.filter(
        object_type="patients.CoverageRecord", object_id=str(record.id), detail__payer="medicare_advantage"
    ).exists()
    with pytest.raises(InvalidInput, match="reason"):
        withdraw_coverage(record=record, reason="", by=ben)
    withdraw_coverage(record=record, reason="Entered for the wrong patient", by=ben)
    assert not CoverageRecord.objects.filter(pk=record.pk).exists()
    imported = CoverageRecord.objects.filter(patient=twyla).exclude(source_id__startswith="manual:").first()
    with pytest.raises(InvalidInput, match="imported coverage is corrected in the EHR"):
        withdraw_coverage(record=imported, reason="no, it is an import", by=ben)


def test_a_date_of_death_is_checked_recorded_and_cleared_with_a_source(demo):
    twyla, ben = Patient.objects.get(family_name="Moen"), User.objects.get(username="ben.biller")
    with pytest.raises(InvalidInput, match="in the future"):
        record_death(patient=twyla, on=dt.date.today() + dt.timedelta(days=2), source="call", by=ben)
    with pytest.raises(InvalidInput, match="before the birth date"):
        record_death(patient=twyla, on=dt.date(1900, 1, 1), source="call", by=ben)
    record_death(patient=twyla, on=dt.date(2026, 11, 5), source="The daughter called", by=ben)
    assert Patient.objects.get(pk=twyla.pk).deceased_on == dt.date(2026, 11, 5)
    record_death(patient=twyla, on=None, source="Wrong patient: it was her sister", by=ben)
    assert Patient.objects.get(pk=twyla.pk).deceased_on is None
    assert AuditEvent.objects.filter(detail__source="Wrong patient: it was her sister").exists()


def test_a_crosswalked_code_is_confirmed_once_by_a_person(demo):
    """R-DX-3, R-DX-1, R-DX-2: a billable, non-acute ICD-10-CM code; who and when are kept and audited."""
    twyla, patel = Patient.objects.get(family_name="Moen"), User.objects.get(username="dr.patel")
    snomed = PatientCondition.objects.create(practice=twyla.practice, patient=twyla, system="snomed", code="44054006")
    for code, named in (("N18.3", "is a category"), ("I63.9", "acute-episode"), ("ZZZ", "not an ICD-10-CM code")):
        with pytest.raises(InvalidInput, match=named):
            confirm_diagnosis(condition=snomed, code=code, by=patel)
    assert check_claim_code("e1122") == "E11.22"
    confirm_diagnosis(condition=snomed, code="E11.22", by=patel)
    snomed.refresh_from_db()
    assert (snomed.confirmed_code, snomed.confirmed_by) == ("E11.22", patel) and snomed.confirmed_at is not None
    assert AuditEvent.objects.filter(object_type="patients.PatientCondition", detail__icd10cm=[None, "E11.22"]).exists()
    icd = PatientCondition.objects.filter(patient=twyla, system="icd10cm").first() or PatientCondition.objects.create(
        practice=twyla.practice, patient=twyla, system="icd10cm", code="I10"
    )
    with pytest.raises(InvalidInput, match="already an ICD-10-CM code"):
        confirm_diagnosis(condition=icd, code="I10", by=patel)


def test_the_patient_page_and_api_record_coverage_death_and_confirmed_codes(demo, login):
    twyla = Patient.objects.get(family_name="Moen")
    ben = login("ben.biller")
    page = ben.get(f"/patients/{twyla.id}/").content.decode()
    assert 'id="coverage"' in page and "Record coverage" in page and "Record date of death" in page
    saved = ben.post(
        f"/patients/{twyla.id}/coverage/",
        {"payer": "medicare", "start": "2016-03-01", "end": "", "source": "Medicare card seen 2026-11-02"},
    )
    assert saved.status_code == 302 and saved["Location"].endswith("#coverage")
    page = ben.get(f"/patients/{twyla.id}/").content.decode()
    assert "Medicare (original, Part B fee-for-service)" in page and "Medicare card seen 2026-11-02" in page
    api = ben.post(
        f"/api/patients/{twyla.id}/coverage",
        {"payer": "part_d", "start": "2026-01-01", "source": "PDP card"},
        content_type="application/json",
    )
    assert api.status_code == 201 and api.json()["payer"] == "part_d"
    listed = ben.get(f"/api/patients/{twyla.id}/coverage").json()
    assert {c["payer"] for c in listed["coverage"]} >= {"medicare", "part_d"}
    bad = ben.post(f"/api/patients/{twyla.id}/coverage", {"payer": "x", "source": "y"}, content_type="application/json")
    assert bad.status_code == 422 and "payer" in bad.json()["detail"]
    died = ben.post(
        f"/api/patients/{twyla.id}/death",
        {"deceased_on": "2026-11-20", "source": "Obituary"},
        content_type="application/json",
    )
    assert died.status_code == 200 and Patient.objects.get(pk=twyla.pk).deceased_on == dt.date(2026, 11, 20)
    snomed = PatientCondition.objects.create(practice=twyla.practice, patient=twyla, system="snomed", code="38341003")
    page = login("dr.patel").get(f"/patients/{twyla.id}/").content.decode()
    assert f'action="/conditions/{snomed.id}/confirm/"' in page
    confirmed = login("dr.patel").post(
        f"/api/conditions/{snomed.id}/confirm", {"code": "I10"}, content_type="application/json"
    )
    assert confirmed.status_code == 200 and confirmed.json()["on_claims"] == {"state": "confirmed", "code": "I10"}
    nora = login("nora.rn")  # a care manager neither records coverage nor confirms codes
    assert (
        nora.post(f"/api/conditions/{snomed.id}/confirm", {"code": "I10"}, content_type="application/json").status_code
        == 403
    )
