import pytest

from ccmops.demo import world
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser


def test_login_page_then_care_manager_home(page, live_demo, sign_in, screenshot):
    page.goto(f"{live_demo.url}/")
    assert page.url.endswith("/login/?next=/")
    assert page.locator("h1").inner_text() == "Sign in to ccmops"
    screenshot("login")
    sign_in("nora.rn")
    assert page.url.endswith("/home/care_manager/")
    assert "patients assigned to you" in page.inner_text("main")
    assert page.locator("table", has_text="MRN").locator("tbody tr").count() == 4
    assert page.locator("#my-days tbody tr").count() == 3  # minutes, live share, patients over the last 7 days
    screenshot("home-care-manager")


def test_wrong_password_says_so(page, live_demo):
    page.goto(f"{live_demo.url}/login/")
    page.fill("#id_username", "nora.rn")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert "did not match" in page.inner_text(".alert")


def test_partner_care_manager_gets_not_found_for_unserved_practice(page, sign_in, live_demo, screenshot):
    maple_patient = Patient.objects.get(family_name="Moen")
    sign_in("pat.rn")
    response = page.goto(f"{live_demo.url}/patients/{maple_patient.id}/")
    assert response.status == 404
    assert "Not found" in page.inner_text("h1")
    screenshot("partner-404")


def test_hybrid_operating_model_page_shows_partner_functions_and_history(page, sign_in, live_demo, screenshot):
    sign_in("rita.owner")
    page.click("text=view or change")
    assert "Version 2: Hybrid" in page.inner_text("main")
    assert page.locator("td.owner .tag.partner").count() == 4
    screenshot("operating-model-hybrid")
    page.fill("input[name=on]", world.LAUNCHED.isoformat())
    page.click("text=Show")
    assert "Version 1: In-house" in page.inner_text("main")


def test_compliance_reviewer_sets_up_two_step_sign_in_with_the_qr_page(page, sign_in, live_demo, screenshot):
    import pyotp

    from ccmops.organizations.mfa_enrollment import issue_enrollment_code
    from ccmops.organizations.models import User

    code = issue_enrollment_code(user=User.objects.get(username="carl.compliance"))  # what his lead gives him
    sign_in("carl.compliance")  # the role requires it by default
    assert "/mfa/setup/" in page.url
    assert page.locator(".qr svg").count() == 0  # not before the enrollment code
    screenshot("mfa-enrollment-code")
    page.fill("#id_enrollment_code", code)
    page.click("main button.primary")
    page.wait_for_load_state("networkidle")
    assert page.locator(".qr svg").count() == 1
    screenshot("mfa-setup")
    key = page.inner_text("code.totp-key").replace(" ", "")
    page.fill("#id_code", pyotp.TOTP(key).now())
    page.click("main button.primary")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/home/compliance_reviewer/"), page.inner_text("main")
    assert "Two-step sign-in: on" in page.inner_text("header")
