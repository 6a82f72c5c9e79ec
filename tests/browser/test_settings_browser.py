"""In Chromium: a program owner mends the practice's claim identity on Settings (a wrong NPI is named and nothing
is saved), registers a practitioner, engages a partner on the operating model, and the partner's lead sees the
practice among those it serves, with no function yet."""

import pytest

from ccmops.demo import world
from ccmops.organizations.models import Engagement, Organization, Practitioner

pytestmark = pytest.mark.browser


def test_settings_practitioner_and_engagement(page, sign_in, live_demo, screenshot):
    sign_in("olivia.owner")
    page.click("nav >> text=Settings")
    page.fill("#set_npi", "1003000990")  # check digit wrong
    page.fill("#set_billing_contact_name", "Maple billing office")
    page.click("#settings-form button[type=submit]")
    assert "check digit" in page.inner_text("#settings-error")
    assert page.input_value("#set_billing_contact_name") == "Maple billing office"  # what was typed is kept
    assert Organization.objects.get(slug=world.MAPLE).billing_contact_name != "Maple billing office"
    page.fill("#set_npi", "1003000993")
    page.click("#settings-form button[type=submit]")
    assert "billing_contact_name" in page.inner_text("#settings-notice")
    page.fill("#pr_first_name", "Ada")
    page.fill("#pr_last_name", "Reyes")
    page.fill("#pr_npi", "1234567893")
    page.select_option("#pr_credential", "NP")
    page.click("#add-practitioner button[type=submit]")
    assert "Ada Reyes" in page.inner_text("#practitioner-list")
    assert Practitioner.objects.filter(npi="1234567893", practice__slug=world.MAPLE).exists()
    screenshot("settings")

    page.click("text=Operating model")
    page.click("#engage-partner summary")
    page.fill("#engage_partner_slug", world.SUMMIT)
    page.click("#engage-partner button[type=submit]")
    assert "It sees your patients once the operating model gives it functions" in page.inner_text("#model-notice")
    assert Engagement.objects.filter(practice__slug=world.MAPLE, partner__slug=world.SUMMIT).exists()
    screenshot("engaged")

    elsewhere = page.context.browser.new_context()  # the partner's lead, in their own browser
    lead = elsewhere.new_page()
    lead.goto(f"{live_demo.url}/login/")
    lead.fill("#id_username", "sam.lead")
    lead.fill("#id_password", world.DEMO_PASSWORD)
    lead.click("button[type=submit]")
    lead.wait_for_url("**/home/**")
    lead.click("nav >> text=Settings")
    row = lead.locator("#engagement-list tr", has_text="Maple Street Family Medicine")
    assert "none yet" in row.inner_text()
    elsewhere.close()
