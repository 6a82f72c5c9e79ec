"""Two-step sign-in (TOTP): required roles are made to set it up, enrolled users must enter a fresh code, codes
work once, wrong codes count toward the lockout, and an administrator can reset a lost authenticator."""

import re
import time

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.errors import NotFound
from ccmops.organizations.models import User

REQUIRE_COMPLIANCE = override_settings(CCMOPS_MFA_REQUIRED_ROLES=frozenset({"compliance_reviewer"}))


def password_sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": world.DEMO_PASSWORD})
    assert response.status_code == 302, username
    return client


def wrong_codes(secret: str, n: int = 1) -> list[str]:
    """Six-digit codes the authenticator does not show in any step the server accepts now or in the next minute
    (a fixed "000000" is the right code about once in 100,000 runs, and then the test fails)."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + k * totp.interval) for k in range(-2, 4)}
    return [c for c in (f"{d}" * 6 for d in range(10)) if c not in valid][:n]


def key_from_setup_page(html: str) -> str:
    return re.search(r'<code class="totp-key">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


@REQUIRE_COMPLIANCE
def test_a_required_role_must_set_up_an_authenticator_before_anything_else(demo):
    client = password_sign_in("carl.compliance")
    page = client.get("/audit/")
    assert page.status_code == 302 and page["Location"].startswith("/mfa/setup/?next=/audit/")
    assert client.get("/api/patients").status_code == 401  # the API is closed too

    # the password alone does not enrol a device: first the enrollment code the organization's lead issued
    first = client.get("/mfa/setup/").content.decode()
    assert "enrollment code" in first and "<svg" not in first
    assert "not right" in client.post("/mfa/setup/", {"enrollment_code": "AAAA-BBBB"}).content.decode()
    code = lead_issues_enrollment_code("carl.compliance")
    assert client.post("/mfa/setup/", {"enrollment_code": code.lower()}).status_code == 302
    setup = client.get("/mfa/setup/")
    html = setup.content.decode()
    assert "<svg" in html and "Your role requires" in html
    key = key_from_setup_page(html)
    (wrong,) = wrong_codes(key)
    assert client.post("/mfa/setup/", {"code": wrong}).status_code == 200  # wrong code: stays on the page
    assert User.objects.get(username="carl.compliance").totp_enabled_at is None

    done = client.post("/mfa/setup/", {"code": pyotp.TOTP(key).now(), "next": "/audit/"})
    assert done.status_code == 302 and done["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200
    carl = User.objects.get(username="carl.compliance")
    assert carl.totp_secret == key and carl.totp_enabled_at is not None
    assert AuditEvent.objects.filter(username="carl.compliance", detail__mfa="enrolled").exists()
    assert carl.mfa_enrollment_code == ""  # the code is spent: it enrols one device, once


def lead_issues_enrollment_code(username: str) -> str:
    """The organization's lead issues the enrollment code on the Staff page; it is shown once."""
    from ccmops.organizations.models import Membership

    person = User.objects.get(username=username)
    membership = Membership.objects.filter(user=person).select_related("organization").first()
    lead = Membership.objects.filter(
        organization=membership.organization, role__in=("program_owner", "partner_operations_lead")
    ).first()
    client = Client()
    client.force_login(lead.user)
    session = client.session
    session["mfa_verified"] = True
    session.save()
    page = client.post(f"/staff/{person.id}/mfa-code/", {"org": membership.organization.slug}).content.decode()
    assert "It works once, within 72 hours" in page and "they choose their own" not in page
    return re.search(r'<code class="totp-key">([A-Z0-9-]+)</code>', page).group(1)


def test_the_administrators_site_has_no_door_of_its_own(demo):
    """Security review item 1: /admin/login/ sends to the one sign-in, whose lockout holds (30 guesses at the
    admin door did not), and a system administrator always needs the second factor, enrolled with a code the
    operator issues."""
    client = Client()
    door = client.get("/admin/login/?next=/admin/organizations/user/")
    assert door.status_code == 302 and door["Location"] == "/login/?next=/admin/organizations/user/"
    for _ in range(30):
        client.post("/admin/login/", {"username": world.ADMIN_USERNAME, "password": "guess"})
        client.post("/login/", {"username": world.ADMIN_USERNAME, "password": "guess"})
    refused = client.post("/login/", {"username": world.ADMIN_USERNAME, "password": world.DEMO_PASSWORD})
    assert refused.status_code == 200 and "Too many failed sign-ins" in refused.content.decode()
    # from another address the administrator still signs in: the stranger did not lock them out
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    signed = elsewhere.post("/login/", {"username": world.ADMIN_USERNAME, "password": world.DEMO_PASSWORD})
    assert signed.status_code == 302
    assert elsewhere.get("/admin/organizations/user/")["Location"].startswith("/mfa/setup/")  # MFA, always
    assert "<svg" not in elsewhere.get("/mfa/setup/").content.decode()  # not without the enrollment code
    call_command("mfa", "status")
    assert User.objects.get(username=world.ADMIN_USERNAME).is_superuser


def test_many_usernames_from_one_address_lock_the_address(demo):
    """Password spraying: failures over many usernames from one address lock that address, not the accounts."""
    from django.conf import settings

    from ccmops.compliance.lockout import ADDRESS_FACTOR

    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    names = [f"nobody{i}" for i in range(settings.CCMOPS_LOGIN_MAX_FAILURES * ADDRESS_FACTOR)]
    for name in names:
        sprayer.post("/login/", {"username": name, "password": "guess"})
    refused = sprayer.post("/login/", {"username": "nora.rn", "password": world.DEMO_PASSWORD})
    assert "Too many failed sign-ins" in refused.content.decode()
    assert Client().post("/login/", {"username": "nora.rn", "password": world.DEMO_PASSWORD}).status_code == 302


@REQUIRE_COMPLIANCE
def test_roles_not_required_sign_in_with_the_password_alone(demo):
    client = password_sign_in("nora.rn")
    assert client.get("/worklist/").status_code == 200


@REQUIRE_COMPLIANCE
def test_a_required_role_granted_during_a_session_asks_for_the_second_factor_at_the_next_request(demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ccmops.organizations.models import Membership, Organization

    client = password_sign_in("nora.rn")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/timer").status_code == 200
    # whether a role requires the second factor is read with the user, not by a query of its own
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT 1 AS "a" FROM "organizations_m')]
    nora = User.objects.get(username="nora.rn")
    Membership.objects.create(
        user=nora, organization=Organization.objects.get(slug=world.MAPLE), role="compliance_reviewer"
    )
    assert client.get("/api/timer").status_code == 401
    page = client.get("/worklist/")
    assert page.status_code == 302 and page["Location"].startswith("/mfa/setup/")


def enrol(username: str) -> str:
    secret = pyotp.random_base32()
    User.objects.filter(username=username).update(totp_secret=secret, totp_enabled_at="2026-11-01T00:00:00Z")
    return secret


def test_an_enrolled_user_needs_a_fresh_code_at_every_sign_in_and_a_code_works_once(demo):
    secret = enrol("nora.rn")  # nora's role does not require MFA; she turned it on herself
    client = password_sign_in("nora.rn")
    assert client.get("/worklist/")["Location"].startswith("/mfa/verify/")
    code = pyotp.TOTP(secret).now()
    ok = client.post("/mfa/verify/", {"code": code, "next": "/worklist/"})
    assert ok.status_code == 302 and ok["Location"] == "/worklist/"
    assert client.get("/worklist/").status_code == 200
    assert AuditEvent.objects.filter(username="nora.rn", action="login", detail__mfa="verified").exists()

    replay = password_sign_in("nora.rn")  # someone who saw the code and knows the password
    refused = replay.post("/mfa/verify/", {"code": code})
    assert refused.status_code == 200 and "already used" in refused.content.decode()
    assert replay.get("/worklist/").status_code == 302


def test_an_offsite_next_is_not_followed(demo):
    secret = enrol("nora.rn")
    client = password_sign_in("nora.rn")
    ok = client.post("/mfa/verify/", {"code": pyotp.TOTP(secret).now(), "next": "https://evil.example/"})
    assert ok["Location"] == "/"


@override_settings(CCMOPS_LOGIN_MAX_FAILURES=3)
def test_wrong_codes_lock_the_username_and_sign_out(demo):
    secret = enrol("nora.rn")
    client = password_sign_in("nora.rn")
    first, second, third = wrong_codes(secret, 3)
    client.post("/mfa/verify/", {"code": first})
    client.post("/mfa/verify/", {"code": second})
    locked = client.post("/mfa/verify/", {"code": third})
    assert locked.status_code == 302 and locked["Location"].startswith("/login/?locked=")
    assert "_auth_user_id" not in client.session
    again = Client().post("/login/", {"username": "nora.rn", "password": world.DEMO_PASSWORD})
    assert "Too many failed sign-ins" in again.content.decode()
    assert AuditEvent.objects.filter(username="nora.rn", outcome="mfa_failure").count() == 3


def test_an_administrator_resets_a_lost_authenticator(demo, capsys):
    enrol("nora.rn")
    call_command("mfa", "reset", "nora.rn")
    nora = User.objects.get(username="nora.rn")
    assert nora.totp_secret == "" and nora.totp_enabled_at is None
    assert AuditEvent.objects.filter(object_id=str(nora.pk), detail__mfa="reset").exists()
    assert password_sign_in("nora.rn").get("/worklist/").status_code == 200
    call_command("mfa", "status")
    assert re.search(r"nora\.rn\s+off\s+optional", capsys.readouterr().out)
    with pytest.raises(NotFound):
        call_command("mfa", "reset", "nobody")


def test_unknown_roles_in_the_setting_are_a_clear_configuration_error():
    from ccmops.config.env import read_environment
    from ccmops.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"CCMOPS_MFA_REQUIRED_ROLES: unknown role\(s\) nurse"):
        read_environment({"CCMOPS_DEBUG": "true", "CCMOPS_MFA_REQUIRED_ROLES": "nurse,system_admin"})
