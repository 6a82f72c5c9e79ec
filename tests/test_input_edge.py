"""Security review item 6: input that crashed the server now answers 4xx naming what is wrong — malformed
months in the address, bodies over the limit, multipart without its boundary, NUL characters and lone surrogates,
NaN hours, time dated before any rule year, a time without its UTC offset."""

import json

from ccmops.demo import world
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient


def test_edge_inputs_answer_4xx(login):
    maple = Organization.objects.get(slug=world.MAPLE)
    ben, nora, owner = login("ben.biller"), login("nora.rn"), login("olivia.owner")
    assert ben.get(f"/practices/{maple.id}/months/xyz/").status_code == 404
    assert ben.get(f"/practices/{maple.id}/months/2026-13/").status_code == 404
    big = json.dumps({"reason": "x" * (3 * 1024 * 1024)})
    assert ben.post("/api/engagements", big, content_type="application/json").status_code == 413
    assert ben.post("/api/engagements", b"--x", content_type="multipart/form-data").status_code == 400
    assert nora.get("/worklist/?page=1\x00").status_code == 400
    surrogate = '{"reason": "\\ud800", "action": "bill"}'
    answer = ben.post("/api/decisions/1/override", surrogate, content_type="application/json")
    assert answer.status_code == 400 and "$.reason" in answer.json()["detail"]
    nul = ben.post(
        f"/patients/{Patient.objects.filter(practice=maple).first().id}/coverage/",
        {"payer": "medicare", "source": "card\x00"},
    )
    assert nul.status_code == 400
    hours = owner.post(
        f"/api/staff?org={world.MAPLE}",
        {"username": "new.rn", "role": "care_manager", "first_name": "N", "last_name": "R", "hours": "NaN"},
        content_type="application/json",
    )
    assert hours.status_code == 422 and "hours" in str(hours.json()["detail"])
    twyla = Patient.objects.get(family_name="Moen")
    old = nora.post(
        f"/api/patients/{twyla.id}/time-entries",
        {"activity": "care_coordination_call", "start": "1900-01-02T09:00:00-06:00", "minutes": 10, "reason": "paper"},
        content_type="application/json",
    )
    assert old.status_code == 422 and "first year ccmops has Medicare rules" in old.json()["detail"]
    naive = nora.post(
        f"/api/patients/{twyla.id}/time-entries",
        {"activity": "care_coordination_call", "start": "2026-11-02T09:00:00", "minutes": 10, "reason": "paper"},
        content_type="application/json",
    )
    assert naive.status_code == 422 and "UTC offset" in naive.json()["detail"]


def test_nan_hours_are_refused_by_the_staff_service(demo):
    import pytest

    from ccmops.administration.staff import _hours
    from ccmops.errors import InvalidInput

    for raw in ("NaN", "inf", "-1", "61"):
        with pytest.raises(InvalidInput, match="hours"):
            _hours(raw)
