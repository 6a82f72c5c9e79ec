"""The EHR connection by the API and the command line (issue 34): the same checks, the same audit, the program
owner's only; the outbox listed and resent."""

import pytest
from django.core.management import CommandError, call_command

from ccmops.compliance.models import AuditEvent
from ccmops.documentation.services import save_note
from ccmops.ehr.deliver import deliver
from ccmops.organizations.models import User
from ccmops.outbox.models import EhrConnection, Outgoing


def test_the_api_sets_tests_and_resends(connected, ehr, login):
    maple, twyla, owner = connected
    url = f"/api/practices/{maple.id}/ehr"
    body = {"base_url": ehr.url, "client_id": "ccmops-maple", "write_back": True, "group_id": "maple-panel"}
    assert owner.put(url, body, content_type="application/json").json()["key_id"]
    bad = owner.put(url, body | {"base_url": "not a url"}, content_type="application/json")
    assert bad.status_code == 422 and "base_url: expected the EHR's https address" in bad.json()["detail"]
    tested = owner.post(f"{url}/test").json()
    assert tested["ok"] and {"ok": True, "text": "Conditional create: supported"} in tested["lines"]
    assert login("nora.rn").get(url).status_code == 403  # a care manager
    assert login("rick.biller").get(url).status_code == 404  # another practice's staff
    del ehr.patients["p-1"]
    fields = {"reason": "Check-in", "patient_status": "Well", "actions": "Reviewed", "next_steps": "4 weeks"}
    nora = User.objects.get(username="nora.rn")
    save_note(patient=twyla, author=nora, program="ccm", activity="care_coordination_call", sign=True, fields=fields)
    deliver(maple.id)
    listed = owner.get(f"{url}/outbox?status=parked").json()
    (item,) = listed["items"]
    assert listed["counts"]["parked"] == 1 and "no patient with MRN" in item["last_error"]
    ehr.patients["p-2"] = twyla.mrn
    assert owner.post(f"/api/outbox/{item['id']}/resend").json()["status"] == "queued"
    deliver(maple.id)
    assert Outgoing.objects.get().status == "sent"
    assert AuditEvent.objects.filter(object_type__icontains="ehrconnection", detail__action="test").exists()


def test_the_command_line_sets_and_tests(connected, ehr, capsys):
    maple, _, _ = connected
    call_command("ehr", "set", "--practice", maple.slug, "--note-type", "34109-9", "--pdf", "on")
    c = EhrConnection.objects.get(practice=maple)
    assert (c.note_type, c.send_pdf, c.client_id) == ("34109-9", True, "ccmops-maple")  # the rest kept
    call_command("ehr", "test", "--practice", maple.slug)
    out = capsys.readouterr().out
    assert "ok   Access token issued" in out and "outbox: 0 waiting" in out
    ehr.jwks.clear()
    with pytest.raises(CommandError, match="connection test found problems"):
        call_command("ehr", "test", "--practice", maple.slug)
    assert "invalid_client" in capsys.readouterr().out
    with pytest.raises(CommandError, match="note_type: expected one of"):
        call_command("ehr", "set", "--practice", maple.slug, "--note-type", "1234-5")


def test_the_practice_chooses_what_the_ehr_takes(connected, ehr):
    from tests.factories.enrollment import ALL, an_hour_ago

    from ccmops.enrollment.consents import record_consent
    from ccmops.organizations.models import Practitioner

    maple, twyla, owner = connected
    form = {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
            "note_type": "11506-3", "write_back": "on", "sends_shown": "1", "sends": ["note"]}  # fmt: skip
    page = owner.post("/settings/ehr/", form).content.decode()
    assert 'value="note" checked' in page and 'value="consent" checked' not in page  # as chosen
    assert EhrConnection.objects.get(practice=maple).sends == ["note"]
    nora = User.objects.get(username="nora.rn")
    record_consent(patient=twyla, program="ccm", practitioner=Practitioner.objects.get(npi="1003000019"),
                   method="verbal", documented_at=an_hour_ago(), elements=ALL, obtained_by=nora)  # fmt: skip
    assert not Outgoing.objects.filter(kind="consent").exists()  # this EHR files consents elsewhere
    fields = {"reason": "Check-in", "patient_status": "Well", "actions": "Reviewed", "next_steps": "4 weeks"}
    save_note(patient=twyla, author=nora, program="ccm", activity="care_coordination_call", sign=True, fields=fields)
    assert Outgoing.objects.filter(kind="note").count() == 1
    bad = owner.put(f"/api/practices/{maple.id}/ehr", {"base_url": ehr.url, "client_id": "x", "sends": ["fax"]},
                    content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "sends: expected some of note, care_plan" in bad.json()["detail"]


def test_outside_development_the_ehr_must_be_https(connected, settings):
    from ccmops.ehr.services import save_connection
    from ccmops.errors import InvalidInput

    maple, _, _ = connected
    settings.CCMOPS_EHR_ALLOW_HTTP = False
    with pytest.raises(InvalidInput, match="base_url: expected the EHR's https address"):
        save_connection(practice=maple, by=None, values={"base_url": "http://ehr.example.org/fhir", "client_id": "x"})
    saved = save_connection(
        practice=maple, by=None, values={"base_url": "https://ehr.example.org/fhir", "client_id": "x"}
    )
    assert saved.base_url == "https://ehr.example.org/fhir"
