"""The worklist: engine-counted minutes, routing by the matrix, ordering by urgency, calls and unreachable."""

import datetime as dt
import zoneinfo
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from tests.factories.monthly import activate
from tests.factories.session import mfa_done

from ccmops.enrollment.models import Enrollment
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.patients.scope import scope_for
from ccmops.timetracking.entries import add_manual_entry
from ccmops.worklist.models import FollowUpTask, ScheduledContact
from ccmops.worklist.queries import hold_flag, worklist
from ccmops.worklist.scheduling import Window, suggest_next_contact
from ccmops.worklist.services import log_monthly_attempt, record_transition


def time_earlier_today(patient, staff, minutes: int, *, hours_ago: int = 3, activity="care_coordination_call"):
    """CCM time entered after the fact, for work that ended a few hours ago."""
    return add_manual_entry(
        patient=patient,
        staff=staff,
        program="ccm",
        activity=activity,
        start=timezone.now() - dt.timedelta(hours=hours_ago),
        minutes=minutes,
        reason="Phone call during clinic",
    )


@pytest.fixture
def two_active(demo):
    nora = User.objects.get(username="nora.rn")
    twyla, latanya = Patient.objects.get(family_name="Moen"), Patient.objects.get(family_name="Kohler")
    activate(twyla, nora)
    activate(latanya, nora)
    return nora, twyla, latanya


def test_minutes_are_counted_by_the_engine_and_order_follows_urgency(two_active):
    nora, twyla, latanya = two_active
    time_earlier_today(twyla, nora, 25)
    rows = worklist(scope_for(nora), nora, on=timezone.localdate(), mine=True)
    by_name = {r.enrollment.patient.family_name: r for r in rows}
    assert by_name["Moen"].standing.minutes == 25 and by_name["Moen"].standing.next_code == "99439"
    assert "No touch yet this month" in by_name["Kohler"].reasons
    assert rows[0].enrollment.patient == latanya  # untouched comes first
    record_transition(patient=twyla, kind="discharge", occurred_at=timezone.now() - dt.timedelta(days=4), by=nora)
    rows = worklist(scope_for(nora), nora, on=timezone.localdate(), mine=True)
    assert rows[0].enrollment.patient == twyla and "follow-up task" in rows[0].reasons[0]


def test_non_clinical_minutes_do_not_count(two_active, demo):
    nora, twyla, _ = two_active
    biller = User.objects.get(username="ben.biller")
    time_earlier_today(twyla, biller, 30, hours_ago=5, activity="record_review")
    rows = worklist(scope_for(nora), nora, on=timezone.localdate())
    assert {r.enrollment.patient.family_name: r.standing.minutes for r in rows}["Moen"] == 0


def test_five_failed_calls_make_the_patient_unreachable_and_drop_off(two_active):
    nora, twyla, _ = two_active
    for _ in range(5):
        _attempt, nxt = log_monthly_attempt(patient=twyla, program="ccm", channel="phone", outcome="no_answer", by=nora)
    assert nxt is None and Enrollment.objects.get(patient=twyla).unreachable_since is not None
    assert FollowUpTask.objects.get(patient=twyla, kind="unreachable").status == "open"
    names = [r.enrollment.patient.family_name for r in worklist(scope_for(nora), nora, on=timezone.localdate())]
    assert "Moen" not in names
    log_monthly_attempt(patient=twyla, program="ccm", channel="phone", outcome="reached", by=nora)
    assert Enrollment.objects.get(patient=twyla).unreachable_since is None


def test_missed_scheduled_call_is_rescheduled(two_active):
    nora, twyla, _ = two_active
    ScheduledContact.objects.create(
        practice=twyla.practice,
        patient=twyla,
        due_at=timezone.now() - dt.timedelta(days=1),
        reason="call",
        created_at=timezone.now(),
    )
    worklist(scope_for(nora), nora, on=timezone.localdate())
    missed = ScheduledContact.objects.get(status="missed")
    assert missed.replaced_by.status == "scheduled" and missed.replaced_by.due_at > timezone.now()
    assert "was missed" in missed.replaced_by.reason


def test_partner_worklist_routes_riverbend_monthly_work_to_summit(demo):
    pat, maya = User.objects.get(username="pat.rn"), User.objects.get(username="maya.ma")
    lemke = Patient.objects.get(family_name="Lemke")
    Enrollment.objects.create(
        practice=lemke.practice, patient=lemke, program="ccm", status="active", status_since=timezone.now()
    )
    assert [r.enrollment.patient for r in worklist(scope_for(pat), pat, on=timezone.localdate())] == [lemke]
    assert worklist(scope_for(maya), maya, on=timezone.localdate()) == []  # practice staff: outreach is Summit's


CHICAGO = "America/Chicago"
UTC = dt.UTC


@pytest.mark.parametrize(
    ("now", "minutes", "outcome", "expect_local", "why"),
    [
        # failed call on Tuesday 10:00 → retry next day, three hours later, inside the window
        (dt.datetime(2026, 11, 10, 16, 0, tzinfo=UTC), 5, "no_answer", dt.datetime(2026, 11, 11, 13, 0), "Retry"),
        # threshold reached: first contact of next month, snapped to the first weekday window
        (dt.datetime(2026, 11, 10, 16, 0, tzinfo=UTC), 25, "reached", dt.datetime(2026, 12, 1, 9, 0), "next month"),
        # week 4 and short: within two hours, inside today's window
        (dt.datetime(2026, 11, 24, 15, 0, tzinfo=UTC), 5, "reached", dt.datetime(2026, 11, 24, 11, 0), "short"),
        # week 1: spread contacts, three days later
        (dt.datetime(2026, 11, 3, 15, 0, tzinfo=UTC), 5, "reached", dt.datetime(2026, 11, 6, 9, 0), "Week 1"),
    ],
)
def test_next_contact_suggestion(now, minutes, outcome, expect_local, why):
    s = suggest_next_contact(now=now, zone_name=CHICAGO, minutes_this_month=minutes, last_outcome=outcome)
    import zoneinfo

    assert s.at.astimezone(zoneinfo.ZoneInfo(CHICAGO)).replace(tzinfo=None) == expect_local
    assert why in s.reason


def test_suggestion_snaps_to_the_patients_windows():
    windows = (Window(3, dt.time(14, 0), dt.time(16, 0)),)  # Thursdays 2–4 pm only
    s = suggest_next_contact(
        now=dt.datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
        zone_name=CHICAGO,
        minutes_this_month=0,
        last_outcome="reached",
        windows=windows,
    )
    import zoneinfo

    local = s.at.astimezone(zoneinfo.ZoneInfo(CHICAGO))
    assert (local.weekday(), local.hour) == (3, 14)


def test_worklist_page_and_api(login, two_active):
    page = login("nora.rn").get("/worklist/").content.decode()
    assert "Moen, Twyla" in page and "min to 99490" in page
    assert page.count('<span class="muted">none</span>') == 2  # no contact yet with either
    data = login("nora.rn").get("/api/worklist").json()
    assert {d["patient"] for d in data} == {"Moen, Twyla", "Kohler, Latanya"}


def test_each_row_shows_its_cells_escaped_and_in_the_practices_time(login, two_active):
    import html
    import re

    nora, twyla, latanya = two_active
    Patient.objects.filter(id=latanya.id).update(family_name="O'Kohler <b>&", phone='555 "0142" <x>')
    Patient.objects.filter(id=twyla.id).update(phone="217-555-0199")
    time_earlier_today(twyla, nora, 25)
    log_monthly_attempt(patient=twyla, program="ccm", channel="phone", outcome="voicemail", by=nora)
    # Sooner than the retry the voicemail just scheduled (a day later at least, snapped to a window), so that this
    # call is the row's next one whatever the hour the suite runs at.
    due = timezone.now() + dt.timedelta(hours=3)
    ScheduledContact.objects.create(
        practice=twyla.practice, patient=twyla, due_at=due, reason="call", created_at=timezone.now()
    )
    page = login("nora.rn").get("/worklist/").content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = {re.search(r'<a href="[^"]+">([^<]+)</a>', r).group(1): r for r in body.split("<tr>")[1:]}
    moen, kohler = rows["Moen, Twyla"], rows[html.escape("O'Kohler <b>&, Latanya")]
    assert "<b>" not in body  # the name is shown, not interpreted
    assert f'href="/patients/{twyla.id}/"' in moen and "Maple Street Family Medicine · CCM" in moen
    assert "<strong>25</strong>" in moen and "99439 at 40" in moen and "(15 to go)" in moen
    local = due.astimezone(zoneinfo.ZoneInfo(CHICAGO))
    assert f"{local:%a %b} {local.day} {local:%H:%M}" in moen  # the call, in the practice's time
    assert '<span class="muted">left voicemail</span>' in moen and "Nora Lindqvist" in moen
    assert '<span class="tag bad">No touch yet this month</span>' in kohler and "<strong>0</strong>" in kohler
    assert '<a href="tel:217-555-0199">217-555-0199</a>' in moen  # called from the worklist
    assert "555 &quot;0142&quot; &lt;x&gt;" in kohler


def test_urgency_is_decided_over_the_whole_panel_and_pages_follow_it(two_active, login):
    nora, twyla, latanya = two_active
    today = timezone.localdate()
    # Alphabetically Kohler comes first; a discharge follow-up due makes Moen the most urgent.
    record_transition(patient=twyla, kind="discharge", occurred_at=timezone.now() - dt.timedelta(days=4), by=nora)
    first = worklist(scope_for(nora), nora, on=today, mine=True, limit=1)
    second = worklist(scope_for(nora), nora, on=today, mine=True, limit=1, offset=1)
    assert [r.enrollment.patient for r in first + second] == [twyla, latanya]
    assert first[0].score >= 1000 > second[0].score >= 100  # task due; untouched
    assert worklist(scope_for(nora), nora, on=today, mine=True, limit=1, offset=2) == []
    assert first[0].panel_size == second[0].panel_size == 2  # each page knows the size of the whole panel

    client = login("nora.rn")
    page = client.get("/worklist/").content.decode()
    assert "1–2 of 2 patients" in page and page.index("Moen, Twyla") < page.index("Kohler, Latanya")
    past_the_end = client.get("/worklist/?page=2").content.decode()
    assert "No active patients" in past_the_end and "2 patients" in past_the_end
    bad = client.get("/worklist/?page=0")
    assert bad.status_code in (400, 422) and "page" in bad.content.decode()
    api = client.get("/api/worklist?limit=1&offset=1").json()
    assert [d["patient"] for d in api] == ["Kohler, Latanya"]
    assert client.get("/api/worklist?limit=0").status_code == 422


def test_a_call_this_evening_is_today_in_the_practices_time_zone(two_active):
    import zoneinfo

    nora, twyla, _ = two_active
    chicago = zoneinfo.ZoneInfo(CHICAGO)
    with timezone.override(chicago):
        day = timezone.localdate() + dt.timedelta(days=1)
        # 7 pm in Chicago is already the next day in UTC; it is still a call for `day`.
        evening = dt.datetime.combine(day, dt.time(19, 0), tzinfo=chicago)
        ScheduledContact.objects.create(
            practice=twyla.practice, patient=twyla, due_at=evening, reason="call", created_at=timezone.now()
        )
        rows = {r.enrollment.patient: r for r in worklist(scope_for(nora), nora, on=day)}
        assert "Scheduled call today" in rows[twyla].reasons and rows[twyla].score >= 500
        before = {r.enrollment.patient: r for r in worklist(scope_for(nora), nora, on=day - dt.timedelta(days=1))}
        assert "Scheduled call today" not in before[twyla].reasons and before[twyla].score < 500


def test_in_a_year_this_release_has_no_rules_for_time_is_kept_and_counted_provisionally(two_active, login, monkeypatch):
    """On the 1st of January, before a release adds the new year's Medicare rules, a timer stop must not fail
    (it would lose the call's minutes): the month's standing is counted under the latest rules, provisionally,
    the worklist says so, and closing that month for billing is refused with the reason."""
    from ccmops.billing.evaluation import close_month
    from ccmops.errors import Conflict
    from ccmops.months.models import MonthStanding
    from ccmops.rules.years import RULE_SETS, operational_rule_set_for
    from ccmops.timetracking.models import TimeEntry
    from ccmops.timetracking.services import heartbeat, start_timer, stop_timer
    from ccmops.worklist import views

    nora, twyla, _ = two_active

    after = max(RULE_SETS) + 1
    assert operational_rule_set_for(after) == (RULE_SETS[after - 1], True)
    assert operational_rule_set_for(after - 1) == (RULE_SETS[after - 1], False)
    assert operational_rule_set_for(min(RULE_SETS) - 1) == (None, False)
    t0 = dt.datetime(after, 1, 4, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago
    timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call", now=t0)
    for m in range(1, 25):
        heartbeat(timer=timer, staff=nora, active=True, now=t0 + dt.timedelta(minutes=m))
    entry = stop_timer(timer=timer, staff=nora, now=t0 + dt.timedelta(minutes=25))
    assert entry.seconds == 1500 and TimeEntry.objects.filter(pk=entry.pk).exists()
    standing = MonthStanding.objects.get(patient=twyla, month=f"{after}-01")
    assert (standing.minutes, standing.next_code, standing.next_threshold) == (25, "99439", 40)
    from ccmops.billing.month import standings
    from ccmops.months.standings import cached

    day = dt.date(after, 1, 4)
    assert standings([twyla], {}, day)[twyla.id].provisional_rules == after - 1
    assert cached([twyla], {}, day)[twyla.id].provisional_rules == after - 1
    assert standings([twyla], {}, dt.date(after - 1, 12, 4))[twyla.id].provisional_rules is None
    with pytest.raises(Conflict, match=f"no Medicare rule set for {after}"):
        close_month(practice=twyla.practice, month=f"{after}-01")
    monkeypatch.setattr(views, "operational_rule_set_for", lambda year: (RULE_SETS[after - 1], True))
    page = login("nora.rn").get("/worklist/").content.decode()
    assert 'id="provisional-rules"' in page and f"counted under the {after - 1} rules, provisionally" in page
    from ccmops.billing import month as month_module

    monkeypatch.setattr(month_module, "operational_rule_set_for", lambda year: (RULE_SETS[after - 1], True))
    chart = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert 'id="provisional-rules"' in chart and f"Counted under the {after - 1} Medicare rules" in chart
    monkeypatch.undo()
    assert 'id="provisional-rules"' not in login("nora.rn").get("/worklist/").content.decode()
    assert 'id="provisional-rules"' not in login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()


def test_the_worklist_counts_patients_and_days_left_in_plain_words(demo):
    """An empty worklist still says how many days the month has left (not "—"), in words that agree with their
    number ("0 patients", "1 day left")."""
    import calendar

    from ccmops.organizations.models import Membership, Organization

    maple = Organization.objects.get(slug="maple-street-family-medicine")
    nobody = User.objects.create_user("new.rn", password="x" * 16)
    Membership.objects.create(user=nobody, organization=maple, role="care_manager", is_clinical_staff=True)
    client = Client()
    client.force_login(nobody)
    text = mfa_done(client).get("/worklist/").content.decode()
    today = timezone.localdate(timezone=ZoneInfo(maple.time_zone))  # the practice's day, as the worklist counts it
    left = calendar.monthrange(today.year, today.month)[1] - today.day
    assert "0 patients" in text and f"{today:%B} has {left} day{'' if left == 1 else 's'} left." in text


def test_a_post_discharge_call_shows_before_its_due_day_with_the_day(two_active):
    """Discharged on a Friday: the call is due Tuesday, and the care manager sees it at the top from Friday on (two
    business days ahead), saying which day; a task further out does not show yet."""
    nora, twyla, _latanya = two_active
    friday = dt.date(2026, 11, 20)
    record_transition(
        patient=twyla,
        kind="discharge",
        occurred_at=timezone.make_aware(dt.datetime(2026, 11, 20, 15, 0)),
        facility="General",
        by=nora,
    )
    rows = worklist(scope_for(nora, on=friday), nora, on=friday)
    assert rows[0].enrollment.patient == twyla
    assert "Post-discharge follow-up call (within 2 business days), due Tue Nov 24" in rows[0].reasons
    FollowUpTask.objects.filter(patient=twyla).update(due_on=dt.date(2026, 11, 27))  # three business days out
    rows = worklist(scope_for(nora, on=friday), nora, on=friday)
    assert not any("Post-discharge" in r for row in rows if row.enrollment.patient == twyla for r in row.reasons)


def test_a_held_month_is_flagged_on_the_worklist(two_active):
    """A month the engine holds says why beside the patient (here: the care plan was never given to her), in words
    a care manager acts on; a patient whose month is not held has no such flag."""
    nora, twyla, latanya = two_active
    time_earlier_today(twyla, nora, 12)
    time_earlier_today(latanya, nora, 5, hours_ago=5)
    today = timezone.localdate()
    rows = {r.enrollment.patient: r.reasons for r in worklist(scope_for(nora, on=today), nora, on=today)}
    flags = [r for r in rows[twyla] if "the month is held" in r or "signed note" in r]
    from ccmops.months.models import MonthStanding

    holds = MonthStanding.objects.get(patient=twyla).holds
    assert holds and flags, (holds, rows[twyla])
    assert flags[0] == hold_flag(holds) and "." not in flags[0].split(":")[0]  # words, not a finding code
    assert hold_flag(["CCM.DUPLICATE.OTHER_PRACTITIONER"]).startswith("Another practitioner bills CCM")
    assert hold_flag(["COVERAGE.UNKNOWN"]) == "Coverage to check: the month is held"


def test_the_last_contact_reads_in_words_with_a_bar_toward_the_next_threshold(two_active):
    from ccmops.worklist.rows import rows_html

    nora, twyla, _ = two_active
    log_monthly_attempt(patient=twyla, program="ccm", channel="phone", outcome="no_answer", by=nora)
    html = str(rows_html(worklist(scope_for(nora), nora, on=timezone.localdate())))
    assert "no answer" in html and "no_answer" not in html
    assert '<progress class="mini" max="20"' in html and "minutes toward 99490" in html
