"""Restoring an entry voided by mistake: a new entry with the same minutes, source and time of record (live stays
live), linked to the voided one, which stays on record; refused over minutes counted again since; for a closed
month, queued for the biller like any time recorded after the close."""

import json

import pytest
from tests.factories.billing import (
    counted,
    evaluate_and_bill,
)

from ccmops.billing.adjustments import open_impacts, resolve_unchanged
from ccmops.billing.packets import packet_context
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.months.models import Adjustment
from ccmops.organizations.models import User
from ccmops.timetracking.entries import add_manual_entry, restore_entry, void_entry
from ccmops.timetracking.models import TimeEntry


def test_a_mistaken_void_is_restored_and_counts_again(month_world, login):
    twyla, month, _ben = month_world
    nora = User.objects.get(username="nora.rn")
    call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    with pytest.raises(Conflict, match="not voided"):
        restore_entry(entry=call, by=nora, reason="Nothing to undo here")
    void_entry(entry=call, by=nora, reason="Thought it was the wrong patient")
    assert counted(twyla, month) == [reconciliation.id]

    with pytest.raises(PermissionDenied, match="billing staff"):
        restore_entry(entry=call, by=User.objects.get(username="dr.patel"), reason="Not mine to restore")
    with pytest.raises(InvalidInput, match=r"^reason"):
        restore_entry(entry=call, by=nora, reason="oops")
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert f'action="/time-entries/{call.id}/restore/"' in page
    done = login("nora.rn").post(f"/time-entries/{call.id}/restore/", {"reason": "It was Twyla after all"})
    assert done.status_code == 302

    restored = TimeEntry.objects.get(restored_from=call)
    call.refresh_from_db()
    assert call.voided_at is not None and call.void_reason == "Thought it was the wrong patient"  # kept as it was
    same = ("start", "end", "seconds", "source", "entered_at", "lag_seconds", "staff_id", "staff_role", "credential")
    assert [getattr(restored, f) for f in same] == [getattr(call, f) for f in same]
    assert list(restored.segments.values_list("start", "end")) == list(call.segments.values_list("start", "end"))
    assert (restored.restored_by, restored.restore_reason, restored.voided_at) == (nora, "It was Twyla after all", None)
    assert counted(twyla, month) == sorted([restored.id, reconciliation.id])
    event = AuditEvent.objects.filter(object_type="timetracking.TimeEntry", object_id=str(call.id)).latest("id")
    assert event.detail["restored_as"] == restored.id and event.detail["reason"] == "It was Twyla after all"

    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert f'restored as <a href="#entry-{restored.id}">' in page and f"from entry {call.id} by" in page
    assert f'action="/time-entries/{call.id}/restore/"' not in page
    again = login("nora.rn").post(
        f"/api/time-entries/{call.id}/restore", json.dumps({"reason": "Twice by mistake"}), "application/json"
    )
    assert again.status_code == 409 and f"already restored, as entry {restored.id}" in again.json()["detail"]


def test_minutes_entered_again_since_the_void_are_not_counted_twice(month_world):
    twyla, month, _ben = month_world
    nora = User.objects.get(username="nora.rn")
    call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    void_entry(entry=reconciliation, by=nora, reason="Length typed wrong")
    again = add_manual_entry(
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="medication_reconciliation",
        start=reconciliation.start,
        minutes=12,
        reason="Re-entered with the right length",
    )
    with pytest.raises(InvalidInput, match="same minutes cannot be counted twice"):
        restore_entry(entry=reconciliation, by=nora, reason="Restored by mistake")
    assert not TimeEntry.objects.filter(restored_from=reconciliation).exists()
    assert counted(twyla, month) == sorted([call.id, again.id])


def test_restoring_in_a_closed_month_is_queued_and_nets_out(month_world, login):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    _call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    biller = login("ben.biller")
    voided = biller.post(
        f"/api/time-entries/{reconciliation.id}/void",
        json.dumps({"reason": "Looked double-entered"}),
        "application/json",
    )
    assert voided.status_code == 200
    got = biller.post(
        f"/api/time-entries/{reconciliation.id}/restore",
        json.dumps({"reason": "Not double: two separate calls"}),
        "application/json",
    )
    assert got.status_code == 201
    body = got.json()
    assert (body["restored_from"], body["restored_by"]) == (reconciliation.id, "ben.biller")
    assert (body["source"], body["lag_seconds"]) == (reconciliation.source, reconciliation.lag_seconds)
    assert [(a.kind, a.time_entry_id) for a in Adjustment.objects.order_by("id")] == [
        ("void", reconciliation.id),
        ("time", body["id"]),
    ]
    restored_note = Adjustment.objects.get(time_entry_id=body["id"]).description
    assert f"restored (voided entry {reconciliation.id}) after {month} was closed" in restored_note
    (impact,) = open_impacts(twyla.practice, month)
    assert impact.minutes == 0 and impact.changes == []  # the claim as sent stands
    resolve_unchanged(practice=twyla.practice, month=month, by=ben)
    assert not open_impacts(twyla.practice, month)

    packet = packet_context(twyla, month)
    shown = {e.id: e for _day, entries in packet["days"] for e in entries}
    assert shown[body["id"]].restored_from_id == reconciliation.id and shown[reconciliation.id].voided_at
    html = biller.get(f"/patients/{twyla.id}/packets/{month}/").content.decode()
    assert f"restores voided entry {reconciliation.id} (" in html and "Not double: two separate calls" in html
