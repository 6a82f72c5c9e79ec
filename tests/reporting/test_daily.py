"""Per-staff daily totals: minutes per day in the viewer's time zone (an entry at 23:30 in Chicago is that
day's, not the next UTC day's), voided entries left out, the share a live timer captured — on the care
manager's home, the lead's workspace and its API."""

import datetime as dt
import zoneinfo

from django.test import Client
from django.utils import timezone
from tests.factories.session import demo_patient, mfa_done

from ccmops.administration.staff import add_staff
from ccmops.organizations.models import User
from ccmops.reporting.daily import daily_totals, days_ending
from ccmops.timetracking.entries import add_manual_entry, void_entry
from ccmops.timetracking.services import heartbeat, start_timer, stop_timer

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")  # Maple Street's time zone, its staff's display zone


def timed(patient, staff, start: dt.datetime, minutes: int):
    """A live timer of `minutes`, its tab beating every minute."""
    timer = start_timer(patient=patient, staff=staff, program="ccm", activity="care_coordination_call", now=start)
    for i in range(1, minutes + 1):
        heartbeat(timer=timer, staff=staff, active=True, now=start + dt.timedelta(minutes=i))
    return stop_timer(timer=timer, staff=staff, now=start + dt.timedelta(minutes=minutes))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHICAGO)


def test_daily_totals_by_local_day_live_share_and_pages(login):
    owner = User.objects.get(username="olivia.owner")
    maple = owner.memberships.get().organization
    tess = add_staff(  # a newcomer at Maple Street: nothing logged yet
        org=maple, username="tess.rn", role="care_manager", by=owner, first_name="Tess", last_name="Ng", hours=20
    ).user
    User.objects.filter(pk=tess.pk).update(password_change_required=False)
    twyla, adalberto = demo_patient("Moen"), demo_patient("Hartmann")
    today = timezone.localdate(timezone=CHICAGO)
    d1, d2 = today - dt.timedelta(days=1), today - dt.timedelta(days=2)

    timed(twyla, tess, local(d2, 23, 30), 10)  # 05:30 UTC the next day: still d2 in Chicago
    timed(twyla, tess, local(d1, 10), 12)
    add_manual_entry(
        patient=adalberto,
        staff=tess,
        program="ccm",
        activity="record_review",
        start=local(d1, 14),
        minutes=5,
        reason="Reviewed the discharge summary on paper",
    )
    wrong = add_manual_entry(
        patient=adalberto,
        staff=tess,
        program="ccm",
        activity="record_review",
        start=local(d1, 15),
        minutes=30,
        reason="Typed the wrong patient",
    )
    void_entry(entry=wrong, by=tess, reason="Wrong patient")

    days = days_ending(today, 7)
    totals = daily_totals(staff_ids=[tess.id], practice_ids=[twyla.practice_id], days=days, zone=CHICAGO)[tess.id]
    assert (totals[d2].minutes, totals[d2].entries, totals[d2].patients) == (10, 1, 1)
    day = totals[d1]
    assert (day.minutes, day.live_seconds // 60, day.entries, day.patients) == (17, 12, 2, 2)
    assert today not in totals  # nothing logged today
    # In UTC the late entry belongs to the next day.
    in_utc = daily_totals(staff_ids=[tess.id], practice_ids=[twyla.practice_id], days=days, zone=dt.UTC)[tess.id]
    assert in_utc[d1].minutes == 27

    client = Client()
    client.force_login(tess)
    home = mfa_done(client).get("/home/care_manager/").content.decode()
    week = home[home.index('id="my-days"') : home.index("</table>", home.index('id="my-days"'))]
    assert "<td>17</td>" in week and "<td>10</td>" in week and "<strong>27</strong>" in week
    assert "71 %" in week  # 12 of 17 minutes live on d1

    workspace = login("olivia.owner").get("/workspace/").content.decode()
    table = workspace[workspace.index('id="staff-daily"') :]
    row = table[table.index("Tess Ng") : table.index("</tr>", table.index("Tess Ng"))]
    assert ">17</td>" in row and "<strong>27</strong>" in row and "2 entries, 2 patients, 71 % live" in row

    api = login("olivia.owner").get("/api/workspace").json()["daily"]
    assert api["days"][-1] == today.isoformat()
    (mine,) = [s for s in api["staff"] if s["username"] == "tess.rn"]
    assert mine["days"][-2] == {"minutes": 17, "live_minutes": 12, "live_share": 0.706, "entries": 2, "patients": 2}
