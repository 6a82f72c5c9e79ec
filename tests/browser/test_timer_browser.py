"""The timer in real Chromium: it keeps counting across a reload and a second tab without doubling; stopping
creates one entry; minutes and the worklist update; a back-dated entry shows as late with its reason, and voided
from its row stays listed, struck through, with the reason."""

import zoneinfo

import pytest
from django.db.models import F
from django.utils import timezone
from tests.factories.monthly import activate

from ccmops.timetracking.models import TimeEntry, Timer, TimerSegment

pytestmark = pytest.mark.browser


def elapsed(page) -> int:
    m, s = page.inner_text("[data-elapsed]").split(":")
    return int(m) * 60 + int(s)


def test_timer_survives_reload_and_second_tab(page, browser, sign_in, live_demo, screenshot):
    from ccmops.organizations.models import User
    from ccmops.patients.models import Patient

    nora = User.objects.get(username="nora.rn")
    twyla = Patient.objects.get(family_name="Moen")
    activate(twyla, nora)
    sign_in("nora.rn")
    url = f"{live_demo.url}/patients/{twyla.id}/"
    page.goto(url)
    page.click("[data-action=start]")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    # Three seconds pass (the running segment is moved back rather than waited for); a reload shows the server's
    # count, not 0:00, and the display keeps ticking from there.
    three = timezone.timedelta(seconds=3)
    TimerSegment.objects.filter(timer__staff=nora).update(start=F("start") - three)
    page.reload()
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    assert elapsed(page) >= 3  # kept counting across the reload (not back to 0:00)
    page.wait_for_function("() => document.querySelector('[data-elapsed]').textContent >= '0:04'")
    screenshot("timer-running")

    second = page.context.new_page()
    second.goto(url)
    second.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    second.click("[data-action=start]")  # pressing start in the other tab rejoins the same timer
    second.wait_for_load_state("networkidle")
    second.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    assert Timer.objects.count() == 1
    a, b = elapsed(page), elapsed(second)
    assert abs(a - b) <= 2, (a, b)
    second.close()

    # Run past one full minute without waiting for it: the running segment is moved back (the heartbeats and the
    # last activity stay current, so nothing is idle), and the page shows the server's count after a reload.
    shift = timezone.timedelta(seconds=62 - elapsed(page))
    timer = Timer.objects.get()
    TimerSegment.objects.filter(timer=timer).update(start=F("start") - shift)
    Timer.objects.filter(pk=timer.pk).update(created_at=F("created_at") - shift)
    page.reload()
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    page.wait_for_function("() => document.querySelector('[data-elapsed]').textContent.startsWith('1:')")
    page.mouse.move(200, 200)
    page.click("[data-action=stop]")
    page.wait_for_load_state("load")
    page.wait_for_selector("text=live timer")
    entries = list(TimeEntry.objects.all())
    assert len(entries) == 1 and entries[0].source == "timer"
    assert 60 <= entries[0].seconds <= 70
    assert "1 min" in page.inner_text(".stat") or page.inner_text("main").count("1 min") >= 1
    screenshot("timer-stopped")

    # Two days back, or — early in a month, as the page lists this month's entries — from the month's first
    # minute, ending before the timer's entry began.
    zone = zoneinfo.ZoneInfo("America/Chicago")
    timer_start = timezone.localtime(entries[0].start, zone).replace(second=0, microsecond=0)
    month_start = timer_start.replace(day=1, hour=0, minute=0)
    chicago = max(timezone.localtime(timezone.now() - timezone.timedelta(days=2), zone), month_start)
    minutes = max(1, min(25, int((timer_start - chicago).total_seconds() // 60) - 1))
    page.fill("input[name=start]", chicago.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=minutes]", str(minutes))
    page.fill("input[name=reason]", "Call taken on the road")
    page.click("button:has-text('Add late entry')")
    page.wait_for_selector("text=entered late")
    assert "Call taken on the road" in page.inner_text("main")
    screenshot("late-entry")

    # The late entry was a mistake: void it from its row (kept, struck through, with the reason).
    late = TimeEntry.objects.get(source="manual")
    row = page.locator(f"#entry-{late.id}")
    row.locator("summary:has-text('Void')").click()
    row.locator("input[name=reason]").fill("Duplicate of the timer's call")
    row.locator("button:has-text('Void entry')").click()
    page.wait_for_selector(f"#entry-{late.id}.voided")
    assert "Duplicate of the timer's call" in page.inner_text(f"#entry-{late.id}")
    late.refresh_from_db()
    assert late.voided_at is not None and late.voided_by == nora
    screenshot("voided-entry")
    page.click("a:has-text('Worklist')")
    assert "Moen, Twyla" in page.inner_text("main")
    screenshot("worklist-minutes")


def test_a_start_stopped_seconds_later_saves_nothing_and_says_so(page, sign_in, live_demo):
    from ccmops.organizations.models import User
    from ccmops.patients.models import Patient

    twyla = Patient.objects.get(family_name="Moen")
    activate(twyla, User.objects.get(username="nora.rn"))
    sign_in("nora.rn")
    page.goto(f"{live_demo.url}/patients/{twyla.id}/")
    page.click("[data-action=start]")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    page.click("[data-action=stop]")
    page.wait_for_function("() => document.querySelector('[data-notice]').textContent.length > 0")
    assert "Less than a minute was timed" in page.inner_text("[data-notice]")
    assert page.get_attribute("#timer", "data-status") == "none"
    assert not TimeEntry.objects.exists()
