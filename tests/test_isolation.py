"""Tenant isolation through the real interfaces: partner staff see only engaged practices, practice staff
only their own; out-of-scope patients are 404 in the UI and the API."""

import datetime as dt

import pytest
from tests.factories.session import demo_patient

from ccmops.demo import world
from ccmops.organizations.models import User
from ccmops.patients.scope import scope_for


@pytest.fixture
def maple_patient(demo):
    return demo_patient("Moen")


@pytest.fixture
def riverbend_patient(demo):
    return demo_patient("Lemke")


@pytest.mark.parametrize("username", ["pat.rn", "lee.lpn", "sam.lead"])
def test_partner_staff_cannot_open_a_patient_of_a_practice_the_partner_does_not_serve(login, maple_patient, username):
    client = login(username)
    assert client.get(f"/patients/{maple_patient.id}/").status_code == 404
    assert client.get(f"/api/patients/{maple_patient.id}").status_code == 404
    listed = client.get("/api/patients").json()
    assert maple_patient.id not in {p["id"] for p in listed}
    search = client.get("/patients/?q=Moen").content.decode()
    assert "0 patients" in search and f"/patients/{maple_patient.id}/" not in search


def test_partner_care_manager_opens_patients_of_the_engaged_hybrid_practice(login, riverbend_patient):
    client = login("pat.rn")
    assert client.get(f"/patients/{riverbend_patient.id}/").status_code == 200
    body = client.get(f"/api/patients/{riverbend_patient.id}").json()
    assert (body["family_name"], body["practice_id"]) == ("Lemke", riverbend_patient.practice_id)
    assert len(body["conditions"]) > 0


@pytest.mark.parametrize(
    ("username", "own_prefix"),
    [
        ("nora.rn", world.MAPLE),
        ("dr.patel", world.MAPLE),
        ("maya.ma", world.RIVERBEND),
        ("rick.biller", world.RIVERBEND),
    ],
)
def test_practice_staff_see_only_their_practice(login, orgs, username, own_prefix):
    practices = {p["practice_id"] for p in login(username).get("/api/patients?limit=1000").json()}
    assert practices == {orgs[own_prefix].id}


def test_other_practice_is_404_for_practice_staff(login, riverbend_patient):
    client = login("nora.rn")
    assert client.get(f"/patients/{riverbend_patient.id}/").status_code == 404
    assert client.get(f"/api/patients/{riverbend_patient.id}").status_code == 404
    assert client.get(f"/practices/{riverbend_patient.practice_id}/operating-model/").status_code == 404


def test_partner_access_follows_the_matrix_dates(demo, riverbend_patient):
    pat = User.objects.get(username="pat.rn")
    # engaged a month before the switch, but the practice was still in-house that month: nothing to see yet
    assert not scope_for(pat, world.PARTNER_ENGAGED + dt.timedelta(days=14)).patients().exists()
    assert scope_for(pat, world.HYBRID_FROM).patients().filter(id=riverbend_patient.id).exists()


def test_system_admin_sees_no_patient_data(login, maple_patient):
    client = login(world.ADMIN_USERNAME)
    assert client.get(f"/patients/{maple_patient.id}/").status_code == 404
    assert client.get("/api/patients").json() == []


def test_anonymous_requests_are_refused(client, maple_patient):
    assert client.get(f"/api/patients/{maple_patient.id}").status_code == 401
    response = client.get(f"/patients/{maple_patient.id}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
