"""Voiding a mistaken time entry: kept on record with who, when and why, counted nowhere after, and — for a
closed month — queued for the biller with the time it removes."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone
from tests.factories.billing import counted, evaluate_and_bill, previous_month

from ccmops.billing.adjustments import open_impacts, resolve
from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.billing.packets import packet_context
from ccmops.billing.revenue import month_revenue
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.months.models import Adjustment
from ccmops.organizations.models import User
from ccmops.timetracking.entries import add_manual_entry, void_entry
from ccmops.timetracking.models import TimeEntry


def test_a_voided_entry_is_kept_and_counts_nowhere(month_world):
    twyla, month, ben = month_world
    nora = User.objects.get(username="nora.rn")
    call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    assert counted(twyla, month) == sorted([call.id, reconciliation.id])

    with pytest.raises(InvalidInput, match="reason"):
        void_entry(entry=reconciliation, by=nora, reason="no")
    with pytest.raises(PermissionDenied, match="billing staff"):
        void_entry(entry=reconciliation, by=User.objects.get(username="dr.patel"), reason="Not mine to keep")
    voided = void_entry(entry=reconciliation, by=nora, reason="Entered on the wrong patient")
    assert (voided.voided_by, voided.void_reason) == (nora, "Entered on the wrong patient")
    assert TimeEntry.objects.filter(id=reconciliation.id, seconds=reconciliation.seconds).exists()  # not deleted
    assert counted(twyla, month) == [call.id]
    with pytest.raises(Conflict, match="already voided"):
        void_entry(entry=reconciliation, by=ben, reason="Twice by mistake", as_billing=True)
    event = AuditEvent.objects.filter(object_type="timetracking.TimeEntry", object_id=str(reconciliation.id)).latest(
        "id"
    )
    assert event.detail["voided"] is True and event.detail["reason"] == "Entered on the wrong patient"

    # Its minutes are free again: the right time can be entered over them.
    again = add_manual_entry(
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="medication_reconciliation",
        start=reconciliation.start,
        minutes=12,
        reason="Re-entered with the right length",
    )
    assert counted(twyla, month) == sorted([call.id, again.id])

    close_month(practice=twyla.practice, month=month, by=ben)  # an open month's close never sees it
    decision = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert decision.decision["counted_minutes"]["clinical_staff"] == 37
    assert not Adjustment.objects.exists()


def test_voiding_in_a_closed_month_queues_the_time_it_removes(month_world, login, capsys):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    before = month_revenue(twyla.practice, month)
    _call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")

    got = login("ben.biller").post(
        f"/api/time-entries/{reconciliation.id}/void",
        json.dumps({"reason": "Paper log double-entered"}),
        "application/json",
    )
    assert got.status_code == 200 and got.json()["voided_by"] == "ben.biller"
    (queued,) = Adjustment.objects.all()
    assert (queued.kind, queued.time_entry_id, queued.month) == ("void", reconciliation.id, month)
    assert "voided after" in queued.description and "Paper log double-entered" in queued.description

    (impact,) = open_impacts(twyla.practice, month)
    assert impact.minutes == -20  # 45 → 25 minutes: 99439 is no longer earned
    call_command("month", "adjustments", "--practice", twyla.practice.slug, "--month", month)
    assert f"ids {queued.id}: -20 min (20 min by " in capsys.readouterr().out
    assert [(c["code"], c["billed_units"], c["now_units"]) for c in impact.changes] == [("99439", 1, 0)]
    with pytest.raises(Conflict, match="changes the month's codes"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=[queued.id], outcome="no_change", by=ben)
    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=[queued.id],
        outcome="corrected",
        reference="Refund 2026-118",
        by=ben,
    )
    after = month_revenue(twyla.practice, month)
    assert after.corrections == impact.difference < 0 and after.captured == before.captured + impact.difference

    packet = packet_context(twyla, month)
    (shown,) = [e for _day, entries in packet["days"] for e in entries if e.id == reconciliation.id]
    assert shown.voided_at is not None and shown.void_adjustment == queued and shown.adjustment is None
    html = login("ben.biller").get(f"/patients/{twyla.id}/packets/{month}/").content.decode()
    assert "Paper log double-entered" in html and f"removed by adjustment {queued.id}" in html


def test_who_may_void_through_the_pages_and_api(month_world, login):
    twyla, _month, _ben = month_world
    call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert f'action="/time-entries/{call.id}/void/"' in page  # last month's entries are listed with the form
    assert 'action="/time-entries/' not in login("dr.patel").get(f"/patients/{twyla.id}/").content.decode()

    refused = login("dr.patel").post(f"/time-entries/{call.id}/void/", {"reason": "Not my entry at all"})
    assert refused.status_code == 403
    for other_tenant in ("pat.rn", "sam.lead"):  # another practice's care manager and partner lead: not found
        got = login(other_tenant).post(f"/time-entries/{call.id}/void/", {"reason": "Not my entry at all"})
        assert got.status_code == 404
    short = login("nora.rn").post(f"/api/time-entries/{call.id}/void", json.dumps({"reason": "x"}), "application/json")
    assert short.status_code == 422 and "reason" in short.content.decode()
    missing = login("nora.rn").post(
        "/api/time-entries/987654/void", json.dumps({"reason": "whatever"}), "application/json"
    )
    assert missing.status_code == 404
    assert not TimeEntry.objects.filter(voided_at__isnull=False).exists()  # every refusal left it counted

    done = login("nora.rn").post(f"/time-entries/{call.id}/void/", {"reason": "Timer left running over lunch"})
    assert done.status_code == 302
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert "Timer left running over lunch" in page and f'id="entry-{call.id}" class="voided"' in page
    listed = {e["id"]: e for e in login("nora.rn").get(f"/api/patients/{twyla.id}/time-entries").json()}
    assert listed[call.id]["void_reason"] == "Timer left running over lunch"
    assert listed[reconciliation.id]["voided_at"] is None
    # A voided entry cannot be documented by a note.
    form = login("nora.rn").get(f"/patients/{twyla.id}/notes/new/").content.decode()
    assert f'value="{call.id}"' not in form and f'value="{reconciliation.id}"' in form


def test_voiding_clears_the_overlap_flag_on_the_other_staff_members_entry(month_world):
    twyla, _month, _ben = month_world
    _, mid = previous_month()
    patel = User.objects.get(username="dr.patel")
    nora_call = TimeEntry.objects.filter(patient=twyla).order_by("start").first()
    overlapping = add_manual_entry(
        patient=twyla,
        staff=patel,
        program="ccm",
        activity="care_plan_review",
        start=mid + dt.timedelta(minutes=5),
        minutes=10,
        reason="Reviewed with Nora on the call",
    )
    nora_call.refresh_from_db()
    assert overlapping.overlaps_with == [nora_call.id] and nora_call.overlaps_with == [overlapping.id]
    void_entry(entry=overlapping, by=patel, reason="Was not on that call")
    nora_call.refresh_from_db()
    assert nora_call.overlaps_with == []


def test_time_recorded_or_voided_during_review_must_be_evaluated_before_approval(month_world):
    twyla, month, ben = month_world
    nora = User.objects.get(username="nora.rn")
    evaluate_and_bill(twyla, month, ben, approve=False)
    _, mid = previous_month()
    add_manual_entry(  # found during review: 45 → 60 minutes, a second 99439 unit
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="record_review",
        start=mid + dt.timedelta(days=6),
        minutes=15,
        reason="Paper log found during review",
    )
    with pytest.raises(Conflict, match=r"the facts of 1 patient-month\(s\) changed after .*\(Moen, Twyla\)"):
        approve_and_close(practice=twyla.practice, month=month, by=ben)
    assert not Adjustment.objects.exists()  # the month is open: nothing is queued, it is decided again

    evaluate_and_bill(twyla, month, ben)  # the override was given on other facts: asked again
    assert dict(ClaimLine.objects.filter(patient=twyla).values_list("code", "units")) == {"99490": 1, "99439": 2}


def test_a_void_during_review_is_caught_the_same_way(month_world):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben, approve=False)
    _call, reconciliation = TimeEntry.objects.filter(patient=twyla).order_by("start")
    void_entry(entry=reconciliation, by=ben, reason="Double-entered from the paper log", as_billing=True)
    with pytest.raises(Conflict, match="Evaluate the month again"):
        approve_and_close(practice=twyla.practice, month=month, by=ben)
    evaluate_and_bill(twyla, month, ben)
    assert dict(ClaimLine.objects.filter(patient=twyla).values_list("code", "units")) == {"99490": 1}


def test_an_earlier_months_time_is_shown_on_request_and_voided_from_there(month_world, login):
    twyla, month, _ben = month_world
    nora = User.objects.get(username="nora.rn")
    first = dt.date.fromisoformat(f"{month}-01")
    earlier = f"{first - dt.timedelta(days=1):%Y-%m}"
    old = add_manual_entry(
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="care_coordination_call",
        start=timezone.make_aware(dt.datetime(first.year, first.month, 1, 9, 0)) - dt.timedelta(days=20),
        minutes=14,
        reason="Typed on the wrong patient",
    )
    client = login("nora.rn")
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert f'id="entry-{old.id}"' not in page  # this month and last only
    page = client.get(f"/patients/{twyla.id}/?time={earlier}").content.decode()
    assert f"<h3>{earlier}</h3>" in page and f'id="entry-{old.id}"' in page
    assert f'action="/time-entries/{old.id}/void/"' in page
    assert f"?time_entry={old.id}&amp;" not in page  # a note documents this or last month's work only
    for bad, why in ((month, "is not before last month"), ("2026-13", "time: expected YYYY-MM")):
        refused = client.get(f"/patients/{twyla.id}/?time={bad}")
        assert refused.status_code == 422 and why in refused.content.decode()
    client.post(f"/time-entries/{old.id}/void/", {"reason": "Typed on the wrong patient"})
    assert TimeEntry.objects.get(id=old.id).voided_by == nora
    page = client.get(f"/patients/{twyla.id}/?time={earlier}").content.decode()
    assert f'id="entry-{old.id}" class="voided"' in page
