"""Imports, screening and candidates through the web UI and the API, scoped by the responsibility matrix."""

import csv
import io
import json
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from ccmops.demo import world
from ccmops.enrollment.models import Enrollment
from ccmops.enrollment.screening import screen_practice
from ccmops.interop.csv_read import TEMPLATE
from ccmops.interop.models import ImportRun
from ccmops.patients.models import Patient, ScreeningResult, ScreeningRun


@pytest.fixture
def screened(orgs):
    for slug in (world.MAPLE, world.RIVERBEND):
        screen_practice(practice=orgs[slug])
    return orgs


def test_upload_a_csv_in_the_ui_and_see_the_report(login, orgs):
    maple = orgs[world.MAPLE]
    client = login("olivia.owner")
    response = client.post(
        f"/practices/{maple.id}/imports/",
        {"kind": "csv", "file": SimpleUploadedFile("ehr.csv", TEMPLATE.encode(), "text/csv")},
    )
    run = ImportRun.objects.filter(practice=maple, kind="csv").get()
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{run.id}/")
    page = client.get(response["Location"]).content.decode()
    assert "Succeeded" in page and "1 patient, 2 conditions, 1 encounter" in page
    assert Patient.objects.filter(practice=maple, mrn="MRN-1001").exists()


def test_rejected_upload_shows_every_problem(login, orgs):
    maple = orgs[world.MAPLE]
    client = login("nora.rn")
    bad = TEMPLATE.replace("2015-06-20", "20-06-2015")
    response = client.post(
        f"/practices/{maple.id}/imports/",
        {"kind": "csv", "file": SimpleUploadedFile("ehr.csv", bad.encode(), "text/csv")},
        follow=True,
    )
    page = response.content.decode()
    assert "Problems — nothing was imported" in page
    assert "ehr.csv, line 4: onset_date: expected a date YYYY-MM-DD, got &#x27;20-06-2015&#x27;" in page
    assert not Patient.objects.filter(mrn="MRN-1001").exists()


def test_wrong_file_type_is_refused(login, orgs):
    response = login("olivia.owner").post(
        f"/practices/{orgs[world.MAPLE].id}/imports/", {"kind": "fhir", "file": SimpleUploadedFile("x.csv", b"a,b\n")}
    )
    assert "a fhir import takes .json files" in response.content.decode()


def test_candidates_page_ranks_by_risk_with_reasons(login, screened):
    maple = screened[world.MAPLE]
    page = login("nora.rn").get(f"/practices/{maple.id}/candidates/").content.decode()
    eligible = ScreeningResult.objects.filter(practice=maple, ccm="eligible").order_by("-risk_score")
    assert eligible.exists()
    top = eligible.first().patient
    assert page.index(top.family_name) < page.index(eligible.last().patient.family_name) or eligible.count() == 1
    assert "chronic conditions:" in page and "Needs an initiating visit" in page
    assert "Hane" not in page  # deceased: not a candidate
    run = ScreeningRun.objects.filter(practice=maple).latest("finished_at")
    patients = Patient.objects.filter(practice=maple).count()
    changed = f"{run.changed} result{'' if run.changed == 1 else 's'} new or changed"
    assert f"Screened {date_filter(run.on)} ({patients} patients, {changed})" in page


def test_candidates_csv_export_is_audited(login, screened):
    maple = screened[world.MAPLE]
    response = login("nora.rn").get(f"/practices/{maple.id}/candidates/?program=ccm&status=eligible&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and all(r["status"] == "eligible" for r in rows)
    assert float(rows[0]["risk_score"]) >= float(rows[-1]["risk_score"])
    from ccmops.compliance.models import AuditEvent

    assert AuditEvent.objects.filter(action="export", object_type="candidates", username="nora.rn").exists()


def test_start_outreach_from_the_candidates_list(login, screened):
    maple = screened[world.MAPLE]
    candidate = ScreeningResult.objects.filter(practice=maple, ccm="eligible").first().patient
    client = login("nora.rn")
    response = client.post(
        f"/practices/{maple.id}/candidates/{candidate.id}/outreach/", {"program": "ccm"}, HTTP_HX_REQUEST="true"
    )
    assert "Outreach in progress" in response.content.decode()
    enrollment = Enrollment.objects.get(patient=candidate, program="ccm")
    event = enrollment.events.get()
    assert (event.from_status, event.to_status, event.by.username, event.party_id) == (
        "",
        "outreach",
        "nora.rn",
        maple.id,
    )


def test_identification_owner_routes_the_candidates_list(login, screened):
    """Riverbend is hybrid: the practice identifies, the partner does outreach; Summit's care managers do
    not get the candidates list, Riverbend's staff do."""
    riverbend = screened[world.RIVERBEND]
    assert login("pat.rn").get(f"/practices/{riverbend.id}/candidates/").status_code == 403
    assert login("maya.ma").get(f"/practices/{riverbend.id}/candidates/").status_code == 200
    assert login("pat.rn").get(f"/practices/{screened[world.MAPLE].id}/candidates/").status_code == 404


def test_api_import_screen_and_candidates(login, orgs):
    maple = orgs[world.MAPLE]
    client = login("olivia.owner")
    created = client.post(
        f"/api/practices/{maple.id}/imports?kind=csv",
        {"file": SimpleUploadedFile("ehr.csv", TEMPLATE.encode(), "text/csv")},
    )
    assert created.status_code == 201, created.content
    assert created.json()["counts"]["patients"] == 1
    rejected = client.post(
        f"/api/practices/{maple.id}/imports?kind=fhir",
        {"file": SimpleUploadedFile("b.json", b'{"resourceType": "Bundle"')},
    )
    assert rejected.status_code == 422
    assert "not valid JSON" in rejected.json()["report"]["problems"][0]
    summary = client.post(f"/api/practices/{maple.id}/screen").json()
    assert summary["patients"] == Patient.objects.filter(practice=maple).count()
    again = client.post(f"/api/practices/{maple.id}/screen").json()
    assert (again["patients"], again["changed"]) == (summary["patients"], 0)  # nothing rewritten
    listed = client.get(f"/api/practices/{maple.id}/candidates?program=ccm").json()
    assert listed and listed[0]["risk_score"] >= listed[-1]["risk_score"]
    practice_today = timezone.localdate(timezone=zoneinfo.ZoneInfo(maple.time_zone))  # what screening dates by
    assert {r["decided_on"] for r in listed} <= {practice_today.isoformat()}
    started = client.post(f"/api/practices/{maple.id}/enrollments?patient_id={listed[0]['patient_id']}&program=ccm")
    assert started.status_code == 201 and started.json()["status"] == "outreach"
    assert client.get(f"/api/practices/{maple.id}/imports").json()[0]["status"] in ("rejected", "succeeded")


def test_api_refuses_other_tenants(login, orgs):
    riverbend = orgs[world.RIVERBEND]
    client = login("nora.rn")
    assert client.get(f"/api/practices/{riverbend.id}/candidates").status_code == 404
    assert client.post(f"/api/practices/{riverbend.id}/screen").status_code == 404
    pat = login("pat.rn")
    assert pat.post(f"/api/practices/{riverbend.id}/screen").status_code == 403
    assert json.loads(pat.get(f"/api/practices/{riverbend.id}/candidates").content)["detail"].startswith("You may not")
