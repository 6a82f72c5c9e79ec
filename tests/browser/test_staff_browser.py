"""In Chromium: a partner's operations lead adds a care manager, who signs in with the one-time password and
must choose their own before anything opens; the lead then takes them off the staff and their session ends."""

import pytest

from ccmops.organizations.models import User

pytestmark = pytest.mark.browser


def test_add_sign_in_with_the_one_time_password_then_take_off_the_staff(page, sign_in, live_demo, screenshot):
    sign_in("sam.lead")
    page.click("nav >> text=Staff")
    page.fill("#staff_username", "tess.rn")
    page.fill("#staff_first_name", "Tess")
    page.fill("#staff_last_name", "Ng")
    page.select_option("#staff_credential", "RN")
    page.fill("#staff_hours", "32")
    page.click("#add-staff button[type=submit]")
    password = page.inner_text("#one-time-password code")
    screenshot("staff-added")

    elsewhere = page.context.browser.new_context()  # the newcomer's own browser
    newcomer = elsewhere.new_page()
    newcomer.goto(f"{live_demo.url}/login/")
    newcomer.fill("#id_username", "tess.rn")
    newcomer.fill("#id_password", password)
    newcomer.click("button[type=submit]")
    newcomer.wait_for_url("**/account/password/")
    newcomer.goto(f"{live_demo.url}/worklist/")
    assert newcomer.url.endswith("/account/password/")  # nothing opens first
    newcomer.fill("#id_old_password", password)
    newcomer.fill("#id_new_password1", "Quiet-harbor-1962")
    newcomer.fill("#id_new_password2", "Quiet-harbor-1962")
    newcomer.click("form.stack button[type=submit]")
    newcomer.wait_for_url("**/home/care_manager/")
    assert not User.objects.get(username="tess.rn").password_change_required

    page.reload()
    row = page.locator("#staff-active tr", has_text="tess.rn")
    row.locator("button", has_text="MFA enrollment code").click()
    page.wait_for_selector("#one-time-password")
    assert "within 72 hours" in page.inner_text("#one-time-password")
    screenshot("staff-mfa-code")
    row = page.locator("#staff-active tr", has_text="tess.rn")
    row.locator("input[name=reason]").fill("Left on Dec 5")
    row.locator("button", has_text="Take off the staff").click()
    page.wait_for_selector("#staff-notice")
    assert "account is disabled" in page.inner_text("#staff-notice")
    assert page.locator("#staff-former", has_text="tess.rn").count() == 1
    screenshot("staff-taken-off")
    newcomer.goto(f"{live_demo.url}/worklist/")
    assert "/login/" in newcomer.url
    elsewhere.close()  # its open connections end before the live server stops
