"""POST /api/rules/evaluate: the same decision over HTTP, with practice policy overrides."""

import json

from tests.rules.builders import doc, entry

from ccmops.demo import world
from ccmops.organizations.models import Organization


def test_api_evaluates_a_patient_month(login):
    response = login("ben.biller").post(
        "/api/rules/evaluate", json.dumps(doc(time_entries=[entry(45)])), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["schema"] == "ccmops.patient-month-decision/1"
    assert [(x["code"], x["units"]) for x in body["lines"]] == [("99490", 1), ("99439", 1)]


def test_api_rejects_bad_input_with_paths(login):
    d = doc()
    d["patient"]["birth_date"] = "1948-13-01"
    response = login("ben.biller").post("/api/rules/evaluate", json.dumps(d), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.patient.birth_date"


def test_practice_policy_overrides_apply_and_the_document_wins(login):
    maple = Organization.objects.get(slug=world.MAPLE)
    maple.rule_policies = {"date_of_service": "last_day_of_month"}
    maple.save()
    client = login("ben.biller")
    d = doc(time_entries=[entry(25)])
    url = f"/api/rules/evaluate?practice_id={maple.id}"
    body = client.post(url, json.dumps(d), content_type="application/json").json()
    assert body["lines"][0]["date_of_service"] == "2026-05-31"
    d["policy"] = {"date_of_service": "threshold_reached"}
    body = client.post(url, json.dumps(d), content_type="application/json").json()
    assert body["lines"][0]["date_of_service"] == "2026-05-06"


def test_practice_outside_scope_is_404(login):
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    response = login("ben.biller").post(
        f"/api/rules/evaluate?practice_id={riverbend.id}", json.dumps(doc()), content_type="application/json"
    )
    assert response.status_code == 404


def test_anonymous_is_refused(client):
    assert client.post("/api/rules/evaluate", "{}", content_type="application/json").status_code == 401
