"""Care transitions, recorded or from an HL7 ADT feed, create follow-up tasks on the worklist."""

import datetime as dt

import pytest
from django.utils import timezone
from tests.factories.monthly import adt

from ccmops.errors import InvalidInput
from ccmops.worklist.adt import import_adt
from ccmops.worklist.models import CareTransition, FollowUpTask
from ccmops.worklist.services import add_business_days, complete_task, record_transition


def test_discharge_creates_a_two_business_day_follow_up(twyla, nora):
    friday = timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0))
    t = record_transition(patient=twyla, kind="discharge", occurred_at=friday, facility="General", by=nora)
    task = t.tasks.get()
    assert task.due_on == dt.date(2026, 11, 24)  # Fri → Tue
    assert add_business_days(dt.date(2026, 11, 20), 2) == dt.date(2026, 11, 24)
    complete_task(task=task, by=nora)
    assert FollowUpTask.objects.get().status == "done"


def test_adt_feed_imports_transitions_once(twyla):
    text = "\n".join(
        [
            adt("A04", twyla.mrn, "E", "M1"),
            adt("A01", twyla.mrn, "I", "M2"),
            adt("A03", twyla.mrn, "I", "M3"),
            adt("A08", twyla.mrn, "I", "M4"),
        ]
    )
    assert import_adt(practice=twyla.practice, text=text, file_label="adt.hl7") == 3
    assert sorted(CareTransition.objects.values_list("kind", flat=True)) == ["admission", "discharge", "ed_visit"]
    assert FollowUpTask.objects.filter(kind="transition").count() == 3
    assert import_adt(practice=twyla.practice, text=text, file_label="adt.hl7") == 0  # same messages: nothing new


def test_adt_with_an_unknown_patient_imports_nothing(twyla):
    text = "\n".join([adt("A03", twyla.mrn, "I", "M1"), adt("A03", "NOPE-1", "I", "M2")])
    with pytest.raises(InvalidInput, match=r"adt\.hl7, message 2: PID-3: no patient with MRN 'NOPE-1'"):
        import_adt(practice=twyla.practice, text=text, file_label="adt.hl7")
    assert not CareTransition.objects.exists()


@pytest.mark.parametrize("encoding", ["00", "^~^&", "^~\\", "^~ &", "^~|&"])
def test_malformed_encoding_characters_are_named_not_a_crash(twyla, encoding):
    """The HL7 parser assumes MSH-2 holds distinct symbols (found by fuzzing: `MSH|00|…` failed an assertion
    inside it); the message is refused with what MSH-2 must hold."""
    good = adt("A03", twyla.mrn, "I", "M1")
    bad = good.replace("MSH|^~\\&|", f"MSH|{encoding}|", 1)
    with pytest.raises(InvalidInput, match=r"adt\.hl7, message 2: MSH-2: the encoding characters"):
        import_adt(practice=twyla.practice, text=good + "\n" + bad, file_label="adt.hl7")
    assert not CareTransition.objects.exists()


def test_transition_form_and_api(login, twyla):
    client = login("nora.rn")
    local = timezone.localtime(
        timezone.now() - dt.timedelta(days=1), timezone=__import__("zoneinfo").ZoneInfo("America/Chicago")
    ).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/patients/{twyla.id}/transitions/", {"kind": "ed_visit", "occurred_at": local, "facility": "Mercy"})
    assert CareTransition.objects.get().facility == "Mercy"
    r = client.post(
        f"/api/patients/{twyla.id}/transitions",
        {"kind": "discharge", "occurred_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["tasks"][0]["title"].startswith("Post-discharge")


def test_adt_cli(twyla, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "feed.hl7"
    path.write_text(adt("A03", twyla.mrn, "I", "C1"))
    call_command("adt", "import", str(path), "--practice", twyla.practice.slug)
    assert "1 care transitions recorded" in capsys.readouterr().out
