"""The same enrollment workflow through the JSON API."""

import zoneinfo

from django.utils import timezone
from tests.factories.enrollment import ALL, complete


def test_enrollment_workflow_over_the_api(login, twyla):
    nora, patel = login("nora.rn"), login("dr.patel")
    r = nora.post(
        f"/api/patients/{twyla.id}/outreach-attempts",
        {"channel": "phone", "outcome": "reached"},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["enrollments"][0]["status"] == "outreach"
    bad = nora.post(
        f"/api/patients/{twyla.id}/consents",
        {
            "practitioner_npi": "1003000019",
            "method": "verbal",
            "documented_at": timezone.now().isoformat(),
            "elements": ["cost_sharing"],
        },
        content_type="application/json",
    )
    assert bad.status_code == 422 and "must be told" in bad.json()["detail"]
    ok = nora.post(
        f"/api/patients/{twyla.id}/consents",
        {
            "practitioner_npi": "1003000019",
            "method": "verbal",
            "documented_at": timezone.now().isoformat(),
            "elements": ALL,
        },
        content_type="application/json",
    )
    assert ok.status_code == 201
    visit = nora.post(
        f"/api/patients/{twyla.id}/visits",
        {
            "date": timezone.localdate(timezone=zoneinfo.ZoneInfo("America/Chicago")).isoformat(),
            "kind": "em",
            "code": "99214",
            "practitioner_npi": "1003000019",
            "care_management_discussed": True,
        },
        content_type="application/json",
    )
    assert visit.status_code == 201
    plan = nora.post(f"/api/patients/{twyla.id}/care-plans?program=ccm").json()
    assert plan["latest"]["missing"]
    refused = patel.post(
        f"/api/care-plans/{plan['id']}/approve", {"lock_version": plan["lock_version"]}, content_type="application/json"
    )
    assert refused.status_code == 422 and "Missing" in refused.json()["detail"]
    saved = nora.put(
        f"/api/care-plans/{plan['id']}",
        {"content": complete(plan["latest"]["content"]), "lock_version": plan["lock_version"]},
        content_type="application/json",
    ).json()
    stale = nora.put(
        f"/api/care-plans/{plan['id']}",
        {"content": {}, "lock_version": plan["lock_version"]},
        content_type="application/json",
    )
    assert stale.status_code == 409
    approved = patel.post(
        f"/api/care-plans/{plan['id']}/approve",
        {"lock_version": saved["lock_version"]},
        content_type="application/json",
    )
    assert approved.status_code == 200 and approved.json()["in_force_version"] == 2
    state = nora.get(f"/api/patients/{twyla.id}/enrollment").json()
    assert state["enrollments"][0]["status"] == "active"
    assert [h["to"] for h in state["enrollments"][0]["history"]] == ["outreach", "consented", "active"]
    shared = nora.post(f"/api/care-plans/{plan['id']}/share", {"method": "portal"}, content_type="application/json")
    assert shared.status_code == 201
