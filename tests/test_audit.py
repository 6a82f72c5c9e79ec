import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from tests.factories.session import demo_patient

from ccmops.compliance.audit import verify_chain
from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.patients.models import Patient


def test_reading_a_chart_is_audited_with_user_and_patient(login):
    patient = Patient.objects.get(family_name="Kohler")
    login("nora.rn").get(f"/patients/{patient.id}/")
    event = AuditEvent.objects.filter(action="read").latest("id")
    assert (event.username, event.patient_id, event.practice_id) == (
        "nora.rn",
        patient.id,
        patient.practice_id,
    )


def test_logins_and_failed_logins_are_audited(client, demo):
    assert not client.login(username="nora.rn", password="wrong")
    client.login(username="nora.rn", password=world.DEMO_PASSWORD)
    actions = list(AuditEvent.objects.filter(username="nora.rn").values_list("action", "outcome"))
    assert ("login_failed", "failure") in actions and ("login", "success") in actions


def test_audit_events_cannot_be_changed_or_deleted_through_the_model(login):
    login("nora.rn")
    event = AuditEvent.objects.latest("id")
    event.action = "delete"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_chain_verifies_and_detects_an_altered_row(login):
    login("nora.rn").get(f"/patients/{Patient.objects.get(family_name='Moen').id}/")
    assert verify_chain().ok
    target = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(id=target.id).update(username="mallory")
    report = verify_chain()
    assert not report.ok
    assert f"event {target.id}: contents altered" in report.problems[0]


def test_chain_detects_a_deleted_row_and_the_command_fails(login, capsys):
    login("nora.rn")
    middle = AuditEvent.objects.order_by("id")[2]
    AuditEvent.objects.filter(id=middle.id)._raw_delete(using="default")
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1
    assert f"event {middle.id + 1}: chain {middle.chain}" in (out := capsys.readouterr().out)
    assert "broken before it" in out and "events were deleted" in out


def test_compliance_reviewer_reports_who_accessed_a_chart_and_what_a_user_touched(login):
    twyla = demo_patient("Moen")
    nora = login("nora.rn")
    nora.get(f"/patients/{twyla.id}/")
    nora.get(f"/patients/{twyla.id}/")
    carl = login("carl.compliance")

    chart = carl.get("/audit/", {"patient": twyla.id}).content.decode()
    assert "Who accessed this chart" in chart and ">nora.rn</a></td><td>2<" in chart

    person = carl.get("/audit/", {"user": "nora.rn"}).content.decode()
    assert "Patients this user's events touched" in person and "Moen, Twyla" in person
    assert "login: 1" in person  # her sign-in (no practice) is in her practice's report

    report = carl.get("/audit/", {"patient": twyla.id, "action": "read", "format": "csv"})
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert rows[0][:3] == ["at_utc", "username", "action"]
    assert [r[1] for r in rows[1:]] == ["nora.rn", "nora.rn"] and {r[2] for r in rows[1:]} == {"read"}
    assert AuditEvent.objects.filter(username="carl.compliance", action="export", object_type="audit_report").exists()

    assert carl.get("/audit/", {"since": "yesterday"}).status_code == 422
    assert carl.get("/audit/", {"action": "peek"}).status_code == 422
    assert nora.get("/audit/").status_code == 404  # not a compliance reviewer


def test_the_audit_report_shows_nothing_of_a_practice_out_of_scope(login):
    other = Patient.objects.exclude(practice=demo_patient("Moen").practice).first()
    login("pat.rn").get(f"/patients/{other.id}/")  # partner staff reading another practice's chart
    page = login("carl.compliance").get("/audit/", {"patient": other.id}).content.decode()
    assert other.family_name not in page and "No events." in page


def test_an_appended_event_is_stored_as_returned_and_in_its_chains_order(demo):
    """`record_audit` writes with plain SQL: the event it returns is the stored row (id, instant, detail,
    hashes), it cannot be saved again, and its chain's head moves to it."""
    from django.db import transaction

    from ccmops.compliance.audit import record_audit
    from ccmops.compliance.models import AuditChainHead

    patient = Patient.objects.get(family_name="Kohler")
    head = AuditChainHead.objects.get(id=patient.practice_id)
    with transaction.atomic():
        first = record_audit(action="update", patient=patient, object_type="note", object_id="7", detail={"n": 1})
        second = record_audit(action="update", patient=patient, detail={"when": dt.date(2026, 11, 27), "x": "é"})
    stored = AuditEvent.objects.get(id=second.id)
    assert (stored.at, stored.detail, stored.hash, stored.prev_hash) == (
        second.at,
        {"when": "2026-11-27", "x": "é"},
        second.hash,
        first.hash,
    )
    assert (stored.chain, stored.practice_id, stored.patient_id) == (
        patient.practice_id,
        patient.practice_id,
        patient.id,
    )
    assert first.id < second.id and first.at <= second.at and first.prev_hash == head.last_hash
    head.refresh_from_db()
    assert (head.last_hash, head.count) == (second.hash, AuditEvent.objects.filter(chain=head.id).count())
    with pytest.raises(ValueError, match="append-only"):
        second.save()
    assert verify_chain(patient.practice_id).ok


def test_the_first_event_of_a_new_chain_creates_its_head(db):
    from django.db import transaction

    from ccmops.compliance.audit import GENESIS, record_audit
    from ccmops.compliance.models import AuditChainHead
    from ccmops.organizations.models import Organization

    practice = Organization.objects.create(slug="fresh", kind="practice", name="Fresh Practice")
    assert not AuditChainHead.objects.filter(id=practice.id).exists()
    with transaction.atomic():
        event = record_audit(action="create", practice_id=practice.id, obj=practice)
    assert event.prev_hash == GENESIS
    assert AuditChainHead.objects.filter(id=practice.id).values_list("last_hash", "count").get() == (event.hash, 1)
    assert verify_chain(practice.id).ok
