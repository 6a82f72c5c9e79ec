"""Notes of a closed month: a note documents its time entry's month, and one signed after the close (or an
addendum to one) goes to the adjustment queue instead of silently joining the record a claim was sent on."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from tests.factories.billing import evaluate_and_bill, previous_month

from ccmops.billing.adjustments import open_impacts, resolve
from ccmops.billing.packets import packet_context
from ccmops.documentation.models import Note
from ccmops.documentation.services import add_addendum, save_note
from ccmops.errors import InvalidInput
from ccmops.months.models import Adjustment
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.timetracking.entries import add_manual_entry
from ccmops.timetracking.models import TimeEntry

CALL = {
    "reason": "Blood pressure log review",
    "patient_status": "Stable, walking daily",
    "actions": "Reviewed readings, reinforced salt limits",
    "next_steps": "Nora calls again in two weeks",
}


@pytest.fixture
def closed(month_world):
    """Twyla's month closed and billed on its 45 minutes; no note written for its calls yet."""
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    call = TimeEntry.objects.get(patient=twyla, activity="care_coordination_call")
    return twyla, month, ben, call


def write(patient, entry=None, *, sign=True, draft=None):
    """Nora's coordination-call note for the patient (documenting `entry`), or her `draft` finished."""
    return save_note(
        patient=patient,
        author=User.objects.get(username="nora.rn"),
        program="ccm",
        activity="care_coordination_call",
        fields=CALL,
        time_entry=entry,
        note=draft,
        sign=sign,
    )


def test_a_note_signed_after_the_close_is_queued_changes_no_code_and_shows_in_the_packet(closed):
    twyla, month, ben, call = closed
    note = write(twyla, call)
    assert note.month == month  # written today, it documents last month's call
    (queued,) = Adjustment.objects.all()
    assert (queued.kind, queued.note, queued.month, queued.time_entry) == ("note", note, month, None)
    assert "signed after" in queued.description and month in queued.description

    (impact,) = open_impacts(twyla.practice, month)
    assert impact.changes == [] and impact.minutes == 0
    assert impact.as_dict()["adjustments"][0]["kind"] == "note"
    resolve(practice=twyla.practice, month=month, adjustment_ids=[queued.id], outcome="no_change", by=ben)

    add_addendum(note=note, author=ben, text="Readings were from the home cuff, not the clinic")
    addendum = Adjustment.objects.get(resolved_at__isnull=True)
    assert (addendum.kind, addendum.note, addendum.addendum) == ("addendum", note, note.addenda.get())

    ctx = packet_context(twyla, month)
    (in_packet,) = ctx["notes"]
    assert in_packet == note and in_packet.adjustment == queued
    assert [(a.id, adj) for a, adj in in_packet.late_addenda] == [(note.addenda.get().id, addendum)]


def test_drafts_and_notes_of_open_months_queue_nothing_until_signed_for_a_closed_month(closed):
    twyla, month, _ben, call = closed
    draft = write(twyla, call, sign=False)
    today = write(twyla)  # no time entry: documents today's work, a month not closed
    assert today.month != month and today.time_entry is None
    assert not Adjustment.objects.exists()
    assert packet_context(twyla, month)["notes"] == [draft]  # the draft is shown (as a draft), today's note is not

    signed = write(twyla, draft=draft)
    (queued,) = Adjustment.objects.all()
    assert queued.note == signed and queued.kind == "note"


def test_a_note_cannot_document_another_patients_time(closed):
    _twyla, _month, _ben, call = closed
    other = Patient.objects.exclude(id=call.patient_id).filter(practice=call.practice).first()
    with pytest.raises(InvalidInput, match="time_entry"):
        write(other, call)
    assert not Note.objects.filter(patient=other).exists()


def test_note_form_and_api_link_a_note_to_its_time_entry(closed, login):
    twyla, month, _ben, call = closed
    nora = login("nora.rn")
    form = nora.get(f"/patients/{twyla.id}/notes/new/?time_entry={call.id}").content.decode()
    assert f'<option value="{call.id}" selected>' in form and "belongs to that entry's month" in form
    posted = nora.post(
        f"/patients/{twyla.id}/notes/new/",
        {"activity": "care_coordination_call", "program": "ccm", "time_entry": call.id, "sign": "1", **CALL},
    )
    assert posted.status_code == 302
    note = Note.objects.get(patient=twyla)
    assert note.time_entry == call and Adjustment.objects.get().note == note
    page = nora.get(f"/patients/{twyla.id}/").content.decode()
    assert "documents the 25-min entry" in page

    url = f"/api/patients/{twyla.id}/notes"
    body = {"activity": "care_coordination_call", "fields": CALL, "sign": True, "time_entry_id": call.id}
    got = nora.post(url, json.dumps(body), "application/json")
    assert got.status_code == 201 and got.json()["month"] == month and got.json()["time_entry_id"] == call.id
    bad = nora.post(url, json.dumps({**body, "time_entry_id": call.id + 10_000}), "application/json")
    assert bad.status_code == 422 and "time_entry_id" in bad.content.decode()
    assert Note.objects.filter(patient=twyla).count() == 2 and Adjustment.objects.count() == 2

    html = login("ben.biller").get(f"/patients/{twyla.id}/packets/{month}/").content.decode()
    assert "documenting the 25-minute entry" in html and "signed after the month was closed" in html
    month_page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert f"#note-{note.id}" in month_page and "note by" in month_page


def test_the_month_page_lists_the_months_unsigned_notes(closed, login):
    twyla, month, _ben, call = closed
    draft = write(twyla, call, sign=False)  # documents last month's call
    write(twyla, sign=False)  # today's: another month
    page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert "Unsigned notes" in page and page.count("#note-") == 1 and f"#note-{draft.id}" in page
    write(twyla, draft=draft)
    page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert "Unsigned notes" not in page


def test_queued_work_without_code_changes_resolves_in_one_step(closed, login, capsys):
    twyla, month, _ben, call = closed
    write(twyla, call)  # signed late: changes no code
    _, mid = previous_month()
    add_manual_entry(  # 45 → 60 minutes: a second 99439 unit
        patient=twyla,
        staff=User.objects.get(username="nora.rn"),
        program="ccm",
        activity="record_review",
        start=mid + dt.timedelta(days=5),
        minutes=15,
        reason="Found another paper log",
    )
    (impact,) = open_impacts(twyla.practice, month)  # one patient-month: the note and the time together
    assert impact.changes
    page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert "without code changes as no change" not in page  # nothing to resolve that way

    other = Patient.objects.filter(practice=twyla.practice).exclude(id=twyla.id).first()
    other_entry = TimeEntry.objects.create(  # another patient's note of the month, through its own entry
        practice=twyla.practice,
        patient=other,
        staff=call.staff,
        staff_role=call.staff_role,
        credential=call.credential,
        employer=call.employer,
        program="ccm",
        activity="care_coordination_call",
        start=call.start,
        end=call.end,
        seconds=call.seconds,
        source="manual",
        entered_at=call.entered_at,
    )
    write(other, other_entry)
    assert len(open_impacts(twyla.practice, month)) == 2
    page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert "Resolve the 1 without code changes as no change" in page
    done = login("ben.biller").post(f"/practices/{twyla.practice.id}/months/{month}/adjustments/resolve-unchanged/")
    assert done.status_code == 302 and "error" not in done["Location"]
    (left,) = open_impacts(twyla.practice, month)
    assert left.patient == twyla  # the codes change: left for the biller
    assert Adjustment.objects.get(patient=other).outcome == "no_change"

    api = login("ben.biller").post(f"/api/practices/{twyla.practice.id}/months/{month}/adjustments/resolve-unchanged")
    assert api.status_code == 200 and api.json()["count"] == 0
    call_command("month", "resolve-adjustments", "--practice", twyla.practice.slug, "--month", month, "--unchanged")
    assert "0 patient-month(s) without code changes resolved" in capsys.readouterr().out
