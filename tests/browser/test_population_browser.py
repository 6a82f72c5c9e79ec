import pytest

from ccmops.demo import world
from ccmops.enrollment.models import Enrollment
from ccmops.enrollment.screening import screen_practice
from ccmops.organizations.models import Organization

pytestmark = pytest.mark.browser


def test_candidates_list_and_start_outreach(page, sign_in, live_demo, screenshot):
    maple = Organization.objects.get(slug=world.MAPLE)
    screen_practice(practice=maple)
    sign_in("nora.rn")
    page.click("text=Enrollment candidates")
    assert page.locator("h1").inner_text().startswith("Enrollment candidates")
    rows = page.locator("tbody tr")
    assert rows.count() >= 3
    page.locator("details summary").first.click()
    screenshot("candidates")
    first_button = page.locator("button:has-text('Start outreach')").first
    first_button.click()
    page.wait_for_selector("text=Outreach in progress")
    assert Enrollment.objects.filter(practice=maple, status="outreach").count() == 1
    screenshot("candidates-outreach-started")
