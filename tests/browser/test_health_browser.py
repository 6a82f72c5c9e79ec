"""Program health, the partner workspace and the model-fit assessment in real Chromium, with screenshots."""

import datetime as dt

import pytest
from django.utils import timezone
from tests.worlds import demo_world, restored

from ccmops.assessment.models import ModelFitAssessment
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Engagement, Organization, ResponsibilityMatrix

pytestmark = pytest.mark.browser


@pytest.fixture
def live_history(live_server, transactional_db):
    demo_world(with_activity=True)
    restored("history", lambda: seed_demo(with_activity=True, with_history=True))
    return live_server


def sign_in_as(page, url: str, username: str):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", world.DEMO_PASSWORD)
    with page.expect_navigation():  # the form's answer loaded (not half a second of network quiet after it)
        page.click("button[type=submit]")


def test_dashboard_workspace_and_assessment(page, live_history, screenshot):
    url = live_history.url
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    cedar = Organization.objects.get(slug=world.CEDAR)

    # The hybrid practice's owner: its own and Summit's figures side by side, and the before/after of the change.
    sign_in_as(page, url, "rita.owner")
    page.click("text=Program health")
    page.wait_for_selector("#before-after")
    assert page.locator(f"#party-{world.SUMMIT}").is_visible()
    assert page.locator(f"#party-{world.RIVERBEND}").is_visible()
    assert page.locator("svg.chart").count() >= 4
    assert "No drift" in page.inner_text("#drift")
    screenshot("health-hybrid-riverbend")
    page.click("text=Sign out")

    # The partner's operations lead: both engaged practices, hours behind, staff capacity.
    sign_in_as(page, url, "sam.lead")
    page.click("text=Workspace")
    page.wait_for_selector("#practice-load")
    rows = page.inner_text("#practice-load")
    assert "Riverbend Internal Medicine" in rows and "Lakeside Medical Group" in rows
    assert "Pat Quinn" in page.inner_text("#staff-load")
    page.wait_for_selector("#party-consistency")  # loaded after the page
    assert "Riverbend Internal Medicine" in page.inner_text("#party-consistency")
    assert "Riverbend Internal Medicine" in page.locator("#consistency-chart svg").get_attribute("aria-label") + (
        page.inner_text("#consistency-chart")
    )
    assert page.locator("#party-consistency-slot").count() == 0
    screenshot("partner-workspace")
    page.click("text=Sign out")

    # The drifting practice: flagged with the figures that moved; its owner runs the assessment.
    sign_in_as(page, url, "hank.owner")
    page.goto(f"{url}/practices/{cedar.id}/health/")
    alert = page.inner_text("#drift")
    assert "Drift detected" in alert and "reaching a billable month fell" in alert
    screenshot("health-drifting-cedar-hill")
    page.click("text=Model-fit assessment")
    page.wait_for_selector("#questionnaire")
    page.fill("#id_staff_1_cost", "44")
    page.fill("#id_expected_enrollment_pct", "45")
    screenshot("assessment-questionnaire")
    page.click("button:has-text('Run the assessment')")
    page.wait_for_selector("#recommendation")
    record = ModelFitAssessment.objects.get(practice=cedar)
    assert record.result["recommended_label"] in page.inner_text("#recommendation")
    assert page.locator("#models tbody tr").count() == 4
    assert page.locator("svg.chart").count() == 4  # one distribution per model
    screenshot("assessment-report")
    pdf = page.request.get(f"{url}/assessments/{record.id}/report.pdf")
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    assert riverbend.id != cedar.id

    # Apply the recommended model from next month, engaging Summit in the same step: a new matrix version, history
    # kept, and the engagement from the same date.
    next_month = (timezone.localdate().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    summit = Organization.objects.get(slug=world.SUMMIT)
    before = ResponsibilityMatrix.objects.filter(practice=cedar).count()
    page.select_option("#partner", summit.slug)
    page.click("button:has-text('Apply this model')")
    page.wait_for_url(f"**/practices/{cedar.id}/operating-model/")
    latest = ResponsibilityMatrix.objects.filter(practice=cedar).order_by("-version").first()
    assert ResponsibilityMatrix.objects.filter(practice=cedar).count() == before + 1
    assert latest.preset == record.recommended and latest.effective_from == next_month
    assert f"assessment #{record.id}" in page.inner_text("body")
    assert Engagement.objects.get(practice=cedar, partner=summit).starts_on == next_month
    screenshot("operating-model-after-apply")
