"""In Chromium on a 390 px phone screen: the patient page and the model-fit form fit the screen (no sideways
scrolling of the page), the patient page's cards stacked one above the other."""

import pytest

from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser

WIDTH = "document.documentElement.scrollWidth"


def test_the_patient_page_and_the_assessment_form_fit_a_phone(page, sign_in, live_demo, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("nora.rn")
    moen = Patient.objects.get(family_name="Moen")
    page.goto(f"{live_demo.url}/patients/{moen.id}/")
    assert page.evaluate(WIDTH) <= 390
    timer, month = page.locator("#timer").bounding_box(), page.locator(".card", has_text="This month").bounding_box()
    assert month["y"] >= timer["y"] + timer["height"]  # below the timer, not squeezed beside it
    screenshot("patient-phone")

    page.context.clear_cookies()
    sign_in("olivia.owner")
    maple = Organization.objects.get(slug="maple-street-family-medicine")
    page.goto(f"{live_demo.url}/practices/{maple.id}/assessments/new/")
    assert page.evaluate(WIDTH) <= 390
    screenshot("assessment-form-phone")
