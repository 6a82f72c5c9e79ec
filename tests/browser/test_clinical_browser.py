"""In Chromium, by clicks: the care manager opens a patient from the worklist, reads the clinical picture the
import brought (medications, results with flags, trend charts with their values), and reconciles the medications
with the patient; the page then says when and by whom, and the draft note waits to be signed (issue 33)."""

import pytest
from tests.worlds import demo_world

from ccmops.clinical.models import Medication, Observation, Reconciliation
from ccmops.documentation.models import Note
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser


def test_the_clinical_picture_and_a_reconciliation(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)  # the demo's Synthea patients, imported with their medications and results
    moen = Patient.objects.get(family_name="Moen", practice__slug="maple-street-family-medicine")
    assert Medication.objects.filter(patient=moen).exists() and Observation.objects.filter(patient=moen).exists()
    sign_in("nora.rn")
    page.click("nav >> text=Worklist")
    page.click(f"main a[href='/patients/{moen.id}/']")
    clinical = page.locator("#clinical")
    clinical.scroll_into_view_if_needed()
    assert page.locator("#readings tbody tr").count() >= 5
    assert page.locator("figure.chart-card svg.chart").count() >= 1  # a trend, with its values as text
    page.locator("figure.chart-card summary").first.click()
    assert page.locator("figure.chart-card details[open] p").first.inner_text().count("-") >= 2
    screenshot("clinical-picture")
    page.click("text=Reconcile with the patient")
    page.fill("#f-source", "the patient's bottles, on the phone")
    page.locator("select[name^=answer-]").first.select_option("differently")
    page.locator("input[name^=detail-]").first.fill("half a tablet: dizzy in the mornings")
    page.fill("input[name=new-0]", "Aspirin 81 MG daily")
    page.fill("input[name=new-detail-0]", "over the counter, since the summer")
    page.fill("#f-adherence", "Weekly pill box; no missed doses")
    screenshot("reconciliation-form")
    page.click("button:has-text('Save the reconciled list')")
    page.wait_for_selector("text=last reconciled")
    version = Reconciliation.objects.get(patient=moen)
    assert version.number == 1 and version.items.filter(answer="new").count() == 1
    note = Note.objects.get(reconciliations=version)
    assert note.signed_at is None and "Aspirin 81 MG daily" in note.fields["discrepancies"]
    assert "(version 1, 2 discrepancies)" in page.inner_text("main")
    assert "Medication discrepancy" in page.inner_text("main")  # the tasks, on the patient's page
    screenshot("reconciliation-saved")


def test_a_phq9_and_a_reconciliation_on_the_timer_reach_the_note_and_the_audit_packet(
    page, sign_in, live_demo, screenshot
):
    """Issue 33's walk: with the timer running, the care manager reconciles the medications and gives a PHQ-9
    whose item 9 is above 0; the urgent task is on the page at once; the timer's entry is the care-management time,
    the drafts are finished and signed as documenting it, and the month's audit packet holds the time and both
    notes."""
    from django.db.models import F
    from django.utils import timezone

    from ccmops.billing.jobs import start_evaluation
    from ccmops.clinical.models import AssessmentResponse
    from ccmops.months.month import Month
    from ccmops.organizations.models import User
    from ccmops.timetracking.models import TimeEntry, Timer, TimerSegment
    from ccmops.worklist.models import FollowUpTask

    demo_world(with_activity=True)
    moen = Patient.objects.get(family_name="Moen", practice__slug="maple-street-family-medicine")
    before = set(TimeEntry.objects.filter(patient=moen).values_list("id", flat=True))
    page.set_default_timeout(20_000)
    sign_in("nora.rn")
    page.goto(f"{live_demo.url}/patients/{moen.id}/")
    page.click("[data-action=start]")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    # the reconciliation: every medication as prescribed
    page.click("text=Reconcile with the patient")
    page.fill("#f-source", "the patient's bottles, on the phone")
    for select in page.locator("select[name^=answer-]").all():
        select.select_option("taking")
    page.fill("#f-adherence", "Pill box; no missed doses")
    page.click("button:has-text('Save the reconciled list')")
    page.wait_for_selector("text=last reconciled")
    # the PHQ-9, item 9 "Several days"
    page.click("#assessments a:has-text('PHQ-9')")
    for n, value in enumerate((2, 2, 1, 2, 1, 1, 1, 0, 1)):
        page.locator("fieldset.assessment-item").nth(n).locator(f"input[value='{value}']").check()
    screenshot("phq9-form")
    page.click("button:has-text('Score and save')")
    page.wait_for_selector("#assessments >> text=positive screen")
    assert "Urgent: PHQ-9 item 9 (thoughts of self-harm)" in page.inner_text("main")  # on the page at once
    assert FollowUpTask.objects.get(patient=moen, kind="urgent").status == "open"
    # fourteen minutes of work: the running segment is moved back rather than waited for
    fourteen = timezone.timedelta(minutes=14)
    TimerSegment.objects.filter(timer__staff__username="nora.rn").update(start=F("start") - fourteen)
    Timer.objects.filter(staff__username="nora.rn").update(created_at=F("created_at") - fourteen)
    page.mouse.move(200, 200)
    page.click("[data-action=stop]")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status !== 'running'")
    page.wait_for_load_state("networkidle")
    (entry,) = TimeEntry.objects.filter(patient=moen).exclude(id__in=before)
    assert entry.source == "timer" and entry.seconds >= 14 * 60
    # both drafts, finished and signed as documenting the timer's entry (offered first)
    phq9 = AssessmentResponse.objects.get(patient=moen, instrument="phq9")
    reconciled = Note.objects.get(reconciliations__patient=moen)
    for note in (phq9.note, reconciled):
        page.goto(f"{live_demo.url}/patients/{moen.id}/")
        page.click(f"#note-{note.id} a:has-text('Finish and sign')")
        page.wait_for_selector("h1:has-text('Finish the note')")
        assert page.locator("#f-time-entry").input_value() == str(entry.id)
        for field in page.locator("textarea").all():
            if not field.input_value().strip():
                field.fill("Dr. Patel called her the same hour; safety plan in place")
        page.click("button[name=sign]")
        page.wait_for_selector(f"#note-{note.id} >> text=signed")
        note.refresh_from_db()
        assert note.signed_at is not None and note.time_entry_id == entry.id
    assert "Documented" in page.locator(f"#entry-{entry.id}").inner_text()
    screenshot("phq9-and-reconciliation-signed")
    # the month, evaluated as the nightly preview does, and its audit packet as the biller reads it
    month = str(Month.current(moen.practice.time_zone))
    start_evaluation(practice=moen.practice, month=month, by=User.objects.get(username="ben.biller"), run_here=True)
    page.context.clear_cookies()
    sign_in("ben.biller")
    page.goto(f"{live_demo.url}/patients/{moen.id}/packets/{month}/")
    packet = page.inner_text("body")
    assert "PHQ-9 (depression): 11 (moderate)" in packet and "Urgent task raised for a clinician today" in packet
    assert "the patient's bottles, on the phone" in packet  # the reconciliation's note
    assert packet.count(f"documenting the {entry.minutes}-minute entry") == 2  # the time, documented by both
    screenshot("phq9-audit-packet")
