"""In Chromium: a care manager records a service billed elsewhere from the patient page, and the biller's month
close holds the patient whose second CCM payee is on record."""

import datetime as dt

import pytest
from tests.factories.billing import previous_month
from tests.worlds import demo_world

from ccmops.billing.models import KnownService
from ccmops.demo import world
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser


def test_record_a_service_then_the_close_holds_the_second_payee(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)  # Lemke: another practice's CCM on record (what she told her care manager)
    month, _mid = previous_month()
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    ferry = Patient.objects.get(family_name="Ferry")

    sign_in("pat.rn")
    page.goto(f"{live_demo.url}/patients/{ferry.id}/#known-services")
    form = page.locator("form[action$='/known-services/']")
    form.locator("select[name=code]").select_option("99495")
    form.locator("input[name=date_of_service]").fill(f"{month}-09")
    form.locator("input[name=source]").fill("Discharge summary from St. Mary's")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=Transitional care management (TCM)")
    (tcm,) = KnownService.objects.filter(patient=ferry)
    assert (tcm.code, tcm.date_of_service, tcm.recorded_by.username) == (
        "99495",
        dt.date.fromisoformat(f"{month}-09"),
        "pat.rn",
    )
    screenshot("known-service-recorded")

    page.context.clear_cookies()
    sign_in("rick.biller")
    page.goto(f"{live_demo.url}/practices/{riverbend.id}/months/{month}/")
    page.click("button:has-text('Evaluate the month')")
    page.wait_for_selector("#approve-waits", timeout=60_000)
    queue = page.locator(".card", has_text="Lemke")
    assert "is known to bill CCM (99490)" in queue.first.inner_text()
    assert page.locator("button:has-text('Approve and close')").count() == 0
    screenshot("known-service-holds-the-month")
