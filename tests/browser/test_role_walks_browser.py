"""In Chromium, by clicks from the home page only: the care manager's call and note, the biller's month from the
months list to an 837P (its evaluation and approval run as jobs), the compliance reviewer's audit-chain check, the
care manager's inbox and the practitioner's care-plan approval."""

import pytest
from django.db.models import F
from django.utils import timezone
from tests.factories.billing import previous_month
from tests.worlds import demo_world

from ccmops.billing.models import ClaimBatch
from ccmops.careplans.models import CarePlan, CarePlanVersion
from ccmops.careplans.services import with_picture
from ccmops.demo import world
from ccmops.documentation.models import Note
from ccmops.enrollment.models import OutreachAttempt
from ccmops.jobs.models import Job
from ccmops.organizations.models import Organization, User
from ccmops.patients.models import Patient
from ccmops.timetracking.models import TimeEntry, Timer, TimerSegment

pytestmark = pytest.mark.browser


def test_the_care_managers_call_from_the_worklist_to_a_signed_note(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)  # Moen: active CCM with Nora, 12 minutes this month
    moen = Patient.objects.get(family_name="Moen")
    before = set(TimeEntry.objects.filter(patient=moen).values_list("id", flat=True))
    page.set_default_timeout(20_000)
    sign_in("nora.rn")
    page.click("nav >> text=Worklist")
    page.click(f"main a[href='/patients/{moen.id}/']")
    page.click("[data-action=start]")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")
    # The call lasts nine minutes: the running segment is moved back rather than waited for (the heartbeats and
    # the last activity stay current, so nothing is idle).
    nine = timezone.timedelta(minutes=9)
    TimerSegment.objects.filter(timer__staff__username="nora.rn").update(start=F("start") - nine)
    Timer.objects.filter(staff__username="nora.rn").update(created_at=F("created_at") - nine)
    page.select_option("select[name=outcome]", "reached")
    page.fill("input[name=note]", "Reviewed home BP log with her")
    page.click("button:has-text('Log call')")
    page.wait_for_function("() => document.querySelector('#timer').dataset.status === 'running'")  # still timing
    page.mouse.move(200, 200)
    undocumented = page.locator("a[href*='time_entry=']").count()  # this month's 12 minutes may wait for a note
    page.click("[data-action=stop]")
    # the new entry, with its own "Write note", on the page reloaded after the stop
    page.wait_for_function(f"() => document.querySelectorAll(\"a[href*='time_entry=']\").length > {undocumented}")
    (entry,) = TimeEntry.objects.filter(patient=moen).exclude(id__in=before)
    assert entry.source == "timer" and entry.seconds >= 9 * 60
    call = OutreachAttempt.objects.get(patient=moen, note="Reviewed home BP log with her")
    assert call.outcome == "reached" and call.by.username == "nora.rn"
    page.click(f"#entry-{entry.id} a:has-text('Write note')")
    page.fill("#f-reason", "Monthly check-in on blood pressure")
    page.fill("#f-patient_status", "Home readings 128-136 systolic; no dizziness")
    page.fill("#f-actions", "Reviewed the log, reinforced the low-salt plan")
    page.fill("#f-next_steps", "RN calls in four weeks; patient keeps the log")
    page.click("button[name=sign]")
    page.wait_for_selector(f"#entry-{entry.id} a:has-text('Documented')")
    note = Note.objects.get(time_entry=entry)
    assert note.signed_at is not None and note.author.username == "nora.rn"
    assert "Patient_status" not in page.inner_text("main") and "How the patient is doing" in page.inner_text("main")
    # 12 + 9 minutes: the month reaches 99490, and the worklist says so.
    assert "99490" in page.inner_text("main >> text=Would bill now")
    screenshot("walk-care-manager-call-note")
    page.click("nav >> text=Worklist")
    row = page.locator("tr", has=page.locator(f"a[href='/patients/{moen.id}/']"))
    assert "99439" in row.inner_text()  # the next threshold now


def test_the_billers_month_from_the_list_to_an_837p(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)
    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    sign_in("ben.biller")
    page.click(f"a[href='/practices/{maple.id}/months/']")
    page.click(f"a[href='/practices/{maple.id}/months/{month}/']")
    page.click("button:has-text('Evaluate the month')")
    page.wait_for_selector("#approve-waits")  # Kohler's month is held: a draft note documents a call
    assert Job.objects.get(kind="evaluate").status == "succeeded"
    held = page.locator("form[action*='/override/']").first
    held.locator("input[name=reason]").fill("Reviewed with Dr. Patel: the call is documented in the EHR")
    held.locator("button[type=submit]").click()
    page.click("button:has-text('Approve and close')")
    page.wait_for_selector("text=Closed")
    page.click("button:has-text('Produce 837P')")
    page.wait_for_selector("#batches")
    assert ClaimBatch.objects.filter(practice=maple, month=month).count() == 1
    assert Job.objects.filter(kind="approve", status="succeeded").count() == 1
    screenshot("walk-biller-837p")


def test_the_compliance_reviewer_verifies_the_audit_chain(page, sign_in, live_demo, screenshot, settings):
    settings.CCMOPS_MFA_REQUIRED_ROLES = frozenset()  # his two-step sign-in has its own test (test_login_browser)
    sign_in("carl.compliance")
    page.click("nav >> text=Audit log")
    page.click("button:has-text('Verify the audit chain')")
    page.wait_for_selector("text=Intact")
    assert "events checked" in page.locator("#chain-title").locator("..").inner_text()
    screenshot("walk-compliance-chain")


def test_the_care_managers_inbox_leads_to_the_note_to_sign(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)  # Kohler's last call of last month is a draft note
    sign_in("nora.rn")
    assert page.locator(".badge").count() == 1
    item = page.locator(".inbox-note_to_sign a").first
    assert "Note to sign" in item.inner_text()
    item.click()
    page.wait_for_selector("h1:has-text('Finish the note')")  # the draft itself, to finish and sign
    note = Note.objects.get(id=int(page.url.rstrip("/").split("/")[-2]))
    assert note.signed_at is None and note.author.username == "nora.rn"
    assert page.locator("#f-time-entry").input_value() == str(note.time_entry_id or "")
    for field in page.locator("textarea").all():  # complete what the draft left empty
        if not field.input_value().strip():
            field.fill("Documented from the call log")
    screenshot("walk-care-manager-finish-note")
    page.click("button[name=sign]")
    page.wait_for_selector(f"#note-{note.id} >> text=signed")
    note.refresh_from_db()
    assert note.signed_at is not None
    page.click("nav >> text=Care manager")
    assert page.locator(".inbox-note_to_sign a").count() == 0  # nothing waits any more


def test_the_billing_practitioner_approves_a_care_plan_from_the_inbox(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)  # approved care plans to take a complete plan's content from
    patel = User.objects.get(username="dr.patel")
    patient = Patient.objects.filter(billing_practitioner__user=patel).order_by("family_name").first()
    plan = CarePlan.objects.create(practice=patient.practice, patient=patient, kind="comprehensive", program="pcm")
    CarePlanVersion.objects.create(
        practice=patient.practice, care_plan=plan, number=1, status="reviewed",
        # a complete plan's content, with this patient's medications (R-PLAN-1: the validator checks them)
        content=with_picture(CarePlanVersion.objects.filter(status="approved").first().content, patient),
        created_by=User.objects.get(username="nora.rn"), created_at=timezone.now(),
    )  # fmt: skip
    sign_in("dr.patel")
    page.click(f".inbox-care_plan_approval a[href='/care-plans/{plan.id}/']")
    page.click("button:has-text('Approve and sign')")
    page.wait_for_load_state("networkidle")
    assert CarePlanVersion.objects.get(care_plan=plan).status == "approved"
    page.click("text=Billing practitioner")  # home again: nothing of it waits any more
    assert page.locator(f".inbox-care_plan_approval a[href='/care-plans/{plan.id}/']").count() == 0
    screenshot("walk-practitioner-approval")
