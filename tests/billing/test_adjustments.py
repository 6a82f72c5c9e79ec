"""The adjustment queue: late work for a closed month shows what it changes, and the biller resolves it."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from tests.factories.billing import evaluate_and_bill, previous_month

from ccmops.billing.adjustments import open_impacts, resolve
from ccmops.billing.models import ClaimLine
from ccmops.billing.packets import packet_context
from ccmops.billing.revenue import month_revenue
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.models import Adjustment
from ccmops.organizations.models import User
from ccmops.timetracking.entries import add_manual_entry


@pytest.fixture
def closed(month_world):
    """Twyla's month closed with 45 minutes billed (99490 + one 99439), then 15 late minutes recorded for it."""
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    late(twyla, days=5, minutes=15)
    return twyla, month, ben


def late(patient, *, days: int, minutes: int):
    _month, mid = previous_month()
    return add_manual_entry(
        patient=patient,
        staff=User.objects.get(username="nora.rn"),
        program="ccm",
        activity="record_review",
        start=mid + dt.timedelta(days=days),
        minutes=minutes,
        reason="Found another paper log",
    )


def sent(patient) -> list[tuple]:
    return sorted(ClaimLine.objects.filter(patient=patient).values_list("code", "units", "allowed_amount"))


def test_late_time_shows_the_codes_it_would_add_against_what_was_billed(closed):
    twyla, month, _ben = closed
    (impact,) = open_impacts(twyla.practice, month)
    assert impact.patient == twyla and impact.minutes == 15 and len(impact.adjustments) == 1
    assert [(b.code, b.units) for b in impact.billed] == [("99439", 1), ("99490", 1)]
    assert impact.billed_as_of == "the claim as closed"
    assert [(b.code, b.units) for b in impact.now] == [("99439", 2), ("99490", 1)]  # 60 minutes now
    one_unit = ClaimLine.objects.get(patient=twyla, code="99439").allowed_amount
    assert impact.changes == [{"code": "99439", "billed_units": 1, "now_units": 2, "difference": one_unit}]
    assert impact.difference == one_unit


def test_resolutions_are_checked_kept_audited_and_never_change_the_sent_claim(closed):
    twyla, month, ben = closed
    before = sent(twyla)
    (impact,) = open_impacts(twyla.practice, month)
    ids = [a.id for a in impact.adjustments]
    with pytest.raises(Conflict, match="changes the month's codes"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="no_change", by=ben)
    with pytest.raises(InvalidInput, match="reference"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="corrected", by=ben)
    with pytest.raises(InvalidInput, match="explain why"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="not_billed", note="no", by=ben)
    with pytest.raises(InvalidInput, match="outcome"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="ignore", by=ben)
    assert Adjustment.objects.get().resolved_at is None  # every refusal left it queued

    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=ids,
        outcome="corrected",
        reference="RO-2026-1187",
        note="Reopening by phone",
        by=ben,
    )
    a = Adjustment.objects.get()
    assert (a.outcome, a.reference, a.resolution, a.resolved_by) == (
        "corrected",
        "RO-2026-1187",
        "Reopening by phone",
        ben,
    )
    assert [(x["code"], x["units"]) for x in a.billed_after] == [("99439", 2), ("99490", 1)]
    assert sent(twyla) == before  # the claim as sent is kept as it was
    assert open_impacts(twyla.practice, month) == []
    event = AuditEvent.objects.filter(object_type="adjustment").latest("id")
    assert event.detail["outcome"] == "corrected" and event.detail["reference"] == "RO-2026-1187"
    with pytest.raises(Conflict, match="already resolved"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="not_billed", note="again", by=ben)

    # More late time: compared with what the correction billed, not with the claim as closed. 99439 is at its
    # two units, so five more minutes change nothing and "no change" is accepted.
    late(twyla, days=6, minutes=5)
    (impact,) = open_impacts(twyla.practice, month)
    assert impact.billed_as_of.startswith("corrected with the medicare contractor on") and "RO-2026-1187" in (
        impact.billed_as_of
    )
    assert impact.changes == []
    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=[a.id for a in impact.adjustments],
        outcome="no_change",
        by=ben,
    )
    assert not Adjustment.objects.filter(resolved_at__isnull=True).exists()


def test_only_the_queued_entries_of_one_patient_month_of_this_practice_are_resolved(closed, orgs):
    twyla, month, ben = closed
    (first,) = Adjustment.objects.all()
    with pytest.raises(InvalidInput, match="name the queued entries"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=[], outcome="no_change", by=ben)
    with pytest.raises(Conflict, match="2020-01 is not closed"):
        resolve(practice=twyla.practice, month="2020-01", adjustment_ids=[first.id], outcome="no_change", by=ben)
    other = next(o for o in orgs.values() if o.kind == "practice" and o.id != twyla.practice_id)
    with pytest.raises(Conflict, match="is not closed"):
        resolve(practice=other, month=month, adjustment_ids=[first.id], outcome="no_change", by=ben)
    with pytest.raises(Conflict, match=f"adjustment\\(s\\) {first.id + 1000}: not queued"):
        resolve(
            practice=twyla.practice,
            month=month,
            adjustment_ids=[first.id, first.id + 1000],
            outcome="no_change",
            by=ben,
        )
    # Work that arrived after the biller looked stays queued: only the ids they saw are resolved.
    late(twyla, days=7, minutes=3)
    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=[first.id],
        outcome="not_billed",
        note="Beyond what the practice rebills for",
        by=ben,
    )
    (impact,) = open_impacts(twyla.practice, month)
    assert [a.id for a in impact.adjustments] != [first.id] and len(impact.adjustments) == 1
    # "Not billed" keeps what was billed as the baseline: the 18 late minutes still add a 99439 unit.
    assert impact.billed_as_of.startswith("not billed on")
    assert [(c["code"], c["billed_units"], c["now_units"]) for c in impact.changes] == [("99439", 1, 2)]


def test_month_page_api_cli_and_packet(closed, login, capsys):
    twyla, month, _ben = closed
    practice = twyla.practice
    (a,) = Adjustment.objects.all()
    page = login("ben.biller").get(f"/practices/{practice.id}/months/{month}/").content.decode()
    assert "Adjustment queue" in page and "99439 1 → 2" in page and f'name="adjustment" value="{a.id}"' in page
    assert 'value="no_change"' not in page  # not offered while the codes change

    api = login("ben.biller")
    got = api.get(f"/api/practices/{practice.id}/months/{month}/adjustments").json()
    (item,) = got["open"]
    assert item["patient_id"] == twyla.id and item["changes"][0]["code"] == "99439" and got["resolved"] == []
    url = f"/api/practices/{practice.id}/months/{month}/adjustments/resolve"
    refused = api.post(url, json.dumps({"adjustment_ids": [a.id], "outcome": "no_change"}), "application/json")
    assert refused.status_code == 409 and "changes the month's codes" in refused.content.decode()
    assert login("nora.rn").get(f"/api/practices/{practice.id}/months/{month}/adjustments").status_code == 403

    call_command("month", "adjustments", "--practice", practice.slug, "--month", month)
    out = capsys.readouterr().out
    assert f"ids {a.id}: +15 min (15 min by " in out and "1 patient-months with queued late work" in out
    call_command("month", "adjustments", "--practice", practice.slug, "--month", month, "--json")
    assert json.loads(capsys.readouterr().out)[0]["now"][0] == {
        "code": "99439",
        "units": 2,
        "allowed": item["now"][0]["allowed"],
        "patient_share": item["now"][0]["patient_share"],
    }

    form = login("ben.biller").post(
        f"/practices/{practice.id}/months/{month}/adjustments/resolve/",
        {"adjustment": [a.id], "outcome": "not_billed", "note": "Practice policy: no rebilling under $20"},
    )
    assert form.status_code == 302 and "error" not in form["Location"]
    a.refresh_from_db()
    assert a.outcome == "not_billed" and a.resolved_by.username == "ben.biller"
    page = login("ben.biller").get(f"/practices/{practice.id}/months/{month}/").content.decode()
    assert "Nothing queued." in page and "Practice policy: no rebilling under $20" in page

    ctx = packet_context(twyla, month)
    assert ctx["late"] == [a]
    marked = [e for _day, entries in ctx["days"] for e in entries if e.adjustment]
    assert [e.id for e in marked] == [a.time_entry_id]
    html = login("ben.biller").get(f"/patients/{twyla.id}/packets/{month}/").content.decode()
    assert "Recorded after the month was closed" in html and "Practice policy: no rebilling under $20" in html


def test_cli_resolves_and_names_bad_input(closed, capsys):
    twyla, month, _ben = closed
    (a,) = Adjustment.objects.all()
    args = ["month", "resolve-adjustments", "--practice", twyla.practice.slug, "--month", month]
    with pytest.raises(SystemExit):
        call_command(*args, "--ids", "x1", "--outcome", "no_change")
    assert "--ids: expected comma-separated adjustment ids" in capsys.readouterr().err
    call_command(
        *args, "--ids", str(a.id), "--outcome", "corrected", "--reference", "ICN 22026", "--user", "ben.biller"
    )
    assert "1 adjustment(s) resolved as corrected" in capsys.readouterr().out
    a.refresh_from_db()
    assert (a.outcome, a.reference, a.resolved_by.username) == ("corrected", "ICN 22026", "ben.biller")


def test_revenue_adds_what_a_correction_billed_and_nothing_for_other_outcomes(closed, login):
    twyla, month, ben = closed
    at_close = month_revenue(twyla.practice, month)
    assert at_close.corrected_patients == 0 and at_close.corrections == 0
    (impact,) = open_impacts(twyla.practice, month)
    ids = [a.id for a in impact.adjustments]
    resolve(practice=twyla.practice, month=month, adjustment_ids=ids, outcome="not_billed", note="Under $60", by=ben)
    assert month_revenue(twyla.practice, month).captured == at_close.captured  # the claim stands as sent

    late(twyla, days=7, minutes=15)  # now 75 minutes: two 99439 units against the one billed
    (impact,) = open_impacts(twyla.practice, month)
    one_unit = impact.difference
    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=[a.id for a in impact.adjustments],
        outcome="corrected",
        reference="ICN 99",
        by=ben,
    )
    r = month_revenue(twyla.practice, month)  # not the figure cached before the correction
    assert (r.captured_at_close, r.captured, r.corrections) == (
        at_close.captured,
        at_close.captured + one_unit,
        one_unit,
    )
    assert r.corrected_patients == 1 and r.by_code["99439"]["units"] == 2
    share = sum(ClaimLine.objects.filter(patient=twyla).values_list("patient_share", flat=True))
    assert r.patient_share > share  # the added unit's coinsurance
    got = login("ben.biller").get(f"/api/practices/{twyla.practice.id}/months/{month}/revenue").json()
    assert got["corrections"] == str(one_unit) and got["corrected_patients"] == 1
    page = login("ben.biller").get(f"/practices/{twyla.practice.id}/months/{month}/").content.decode()
    assert f"${one_unit} from corrections recorded in the adjustment queue (1 patient-month)" in page


def waiting_on_a_lock(within: float) -> bool:
    """Whether another session of this database comes to wait on a row lock within `within` seconds."""
    import time

    from django.db import connection

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with connection.cursor() as c:
            c.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if c.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_minute_recorded_while_the_month_is_approved_is_queued_not_lost(demo_activity, monkeypatch):
    """An approval checks that no facts changed since the evaluation, then closes. Time of that month written
    between the check and the close waits for the approval's commit (it reads the close row with a lock) and is
    queued as an adjustment; before, it slipped between them: neither billed nor queued."""
    import datetime as dt
    import threading
    import zoneinfo

    from django.db import connection

    from ccmops.billing import approval as close_module  # approval checks for changed facts
    from ccmops.billing.approval import approve_and_close
    from ccmops.billing.evaluation import close_month
    from ccmops.billing.models import PatientMonthDecision
    from ccmops.billing.review import override
    from ccmops.demo import world
    from ccmops.months.models import Adjustment
    from ccmops.organizations.models import Organization, User
    from ccmops.patients.models import Patient
    from ccmops.timetracking.entries import add_manual_entry

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite has one writer at a time, so the entry cannot land between check and close")
    maple = Organization.objects.get(slug=world.MAPLE)
    zone = zoneinfo.ZoneInfo(maple.time_zone)
    last = dt.datetime.now(zone).replace(day=1) - dt.timedelta(days=1)
    month = f"{last:%Y-%m}"
    close_month(practice=maple, month=month)
    for held in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        override(decision=held, action="bill", reason="Note signed on paper", by=None)  # the demo's draft note
    nora = User.objects.get(username="nora.rn")
    patient = Patient.objects.filter(practice=maple, care_manager=nora, enrollments__status="active").first()
    checked, go, outcome = threading.Event(), threading.Event(), {}
    real_check = close_module.changed_since_evaluation

    def check_then_wait(practice, month):
        changed = real_check(practice, month)
        checked.set()
        go.wait(30)  # the close is not yet committed
        return changed

    monkeypatch.setattr(close_module, "changed_since_evaluation", check_then_wait)

    def approver() -> None:
        try:
            outcome["close"] = approve_and_close(practice=maple, month=month, by=None)
        finally:
            checked.set()
            connection.close()

    def recorder() -> None:
        try:
            outcome["entry"] = add_manual_entry(
                patient=patient,
                staff=nora,
                program="ccm",
                activity="care_coordination_call",
                start=last.replace(day=20, hour=10, minute=0, second=0, microsecond=0),
                minutes=7,
                reason="From the paper call log",
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=approver), threading.Thread(target=recorder)]
    threads[0].start()
    assert checked.wait(30)
    threads[1].start()
    assert waiting_on_a_lock(within=20)  # the entry waits for the approval to commit
    assert threads[1].is_alive()
    go.set()
    for t in threads:
        t.join(30)
    assert outcome["close"].status == "closed"
    queued = Adjustment.objects.get(time_entry=outcome["entry"])
    assert queued.month == month and "7 min" in queued.description
