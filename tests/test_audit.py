import pytest
from django.core.management import call_command

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
    assert "chain broken" in capsys.readouterr().out
