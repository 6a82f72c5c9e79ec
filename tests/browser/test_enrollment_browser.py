"""A care manager takes an eligible patient from candidate to active; the billing practitioner approves the
care plan; the patient appears on the monthly worklist (real Chromium, screenshots)."""

import pytest

from ccmops.demo import world
from ccmops.enrollment.models import Consent, Enrollment
from ccmops.enrollment.screening import screen_practice
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser


def sign_out(page):
    page.click("text=Sign out")
    page.wait_for_url("**/login/")


def test_candidate_to_active(page, sign_in, live_demo, screenshot):
    maple = Organization.objects.get(slug=world.MAPLE)
    screen_practice(practice=maple)
    twyla = Patient.objects.get(family_name="Moen")
    sign_in("nora.rn")
    page.goto(f"{live_demo.url}/practices/{maple.id}/candidates/?q=Moen")
    page.click("button:has-text('Start outreach')")
    page.wait_for_selector("text=Outreach in progress")

    page.goto(f"{live_demo.url}/patients/{twyla.id}/")
    page.select_option("select[name=channel]", "phone")
    page.select_option("select[name=outcome]", "reached")
    page.fill("textarea[name=note]", "Spoke with Twyla; she wants to join.")
    page.click("button:has-text('Log attempt')")
    page.wait_for_selector("text=Spoke with Twyla")

    page.click("text=Record consent")
    page.select_option("select[name=method]", "verbal")
    for box in page.locator("input[name=elements]").all():
        box.check()
    screenshot("consent-form")
    page.click("button:has-text('Record consent')")
    page.wait_for_selector("text=Consent record")
    assert Consent.objects.filter(patient=twyla, method="verbal").count() == 1
    screenshot("consent-record")

    page.goto(f"{live_demo.url}/patients/{twyla.id}/")
    assert "Initiating visit needed" in page.inner_text("main")
    page.click("text=Record visit")
    page.select_option("select[name=kind]", "awv")
    page.fill("input[name=code]", "G0439")
    page.check("input[name=care_management_discussed]")
    page.click("button:has-text('Record visit')")
    page.wait_for_selector("text=Draft care plan from templates")
    page.click("button:has-text('Draft care plan from templates')")
    page.wait_for_selector("text=Edit care plan")
    page.fill("textarea[name=expected_outcomes]", "Blood pressure and glucose at target; no ED visits.")
    page.fill("textarea[name=prognosis]", "Good with adherence and monthly follow-up.")
    page.fill("textarea[name=community_services]", "Senior center exercise class; Meals on Wheels.")
    page.fill("textarea[name=coordination]", "Endocrinology receives the plan; pharmacist reconciles quarterly.")
    page.fill("input[name=change_summary]", "Completed outcomes, services and coordination")
    page.click("button:has-text('Save new version')")
    page.wait_for_selector("text=Showing version 2")
    assert "Not yet approvable" not in page.inner_text("main")
    screenshot("care-plan-draft")
    sign_out(page)

    sign_in("dr.patel")
    page.goto(f"{live_demo.url}/care-plans/{twyla.care_plans.get().id}/")
    page.click("button:has-text('Approve and sign')")
    page.wait_for_selector("text=In force for billing: version 2")
    screenshot("care-plan-approved")
    assert Enrollment.objects.get(patient=twyla, program="ccm").status == "active"
    sign_out(page)

    sign_in("nora.rn")
    page.click("a:has-text('Worklist')")
    assert "Moen, Twyla" in page.inner_text("main")
    assert "No touch yet this month" in page.inner_text("main")
    screenshot("worklist")
