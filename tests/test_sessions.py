"""Sign-in lockout after repeated failures, and automatic logoff after inactivity."""

import time

from django.test import Client, override_settings

from ccmops.compliance.models import AuditEvent
from ccmops.demo import world


def attempt(client, password):
    return client.post("/login/", {"username": "nora.rn", "password": password})


@override_settings(CCMOPS_LOGIN_MAX_FAILURES=3, CCMOPS_LOGIN_LOCKOUT_MINUTES=15)
def test_repeated_failures_lock_the_username(demo):
    client = Client()
    for _ in range(3):
        assert "did not match" in attempt(client, "wrong").content.decode()
    locked = attempt(client, world.DEMO_PASSWORD)
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(username="nora.rn", outcome="locked").exists()
    assert attempt(Client(), "x").status_code == 200  # still locked for everyone


@override_settings(CCMOPS_LOGIN_MAX_FAILURES=3, CCMOPS_LOGIN_LOCKOUT_MINUTES=15)
def test_an_administrator_lifts_a_lock_and_it_is_audited(demo, capsys):
    import pytest
    from django.core.management import call_command

    from ccmops.errors import InvalidInput

    client = Client()
    for _ in range(3):
        attempt(client, "wrong")
    call_command("lockout", "status")
    assert "nora.rn" in capsys.readouterr().out
    with pytest.raises(InvalidInput):
        call_command("lockout", "unlock", "nora.rn", "--reason", "")
    call_command("lockout", "unlock", "nora.rn", "--reason", "Identity confirmed by phone")
    assert AuditEvent.objects.filter(action="unlock", username="nora.rn").get().detail["reason"] == (
        "Identity confirmed by phone"
    )
    assert attempt(Client(), world.DEMO_PASSWORD).status_code == 302
    with pytest.raises(InvalidInput):
        call_command("lockout", "unlock", "olivia.owner", "--reason", "not locked at all")


def test_other_users_are_not_locked(demo):
    client = Client()
    for _ in range(6):
        attempt(client, "wrong")
    ok = Client().post("/login/", {"username": "olivia.owner", "password": world.DEMO_PASSWORD})
    assert ok.status_code == 302


@override_settings(CCMOPS_SESSION_IDLE_MINUTES=1)
def test_inactivity_signs_out_but_heartbeats_do_not_keep_a_session_alive(login):
    client = login("nora.rn")
    assert client.get("/worklist/").status_code == 200
    session = client.session
    session["last_activity"] = int(time.time()) - 120
    session.save()
    assert client.get("/api/timer").status_code == 401  # a passive poll does not refresh and is refused
    response = client.get("/worklist/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@override_settings(CCMOPS_SESSION_IDLE_MINUTES=1)
def test_activity_is_recorded_to_the_half_minute_and_keeps_the_session_alive(login):
    client = login("nora.rn")
    assert client.get("/worklist/").status_code == 200
    recorded = client.session["last_activity"]
    assert client.get("/worklist/").status_code == 200
    assert client.session["last_activity"] == recorded  # within 30 s: the session is not written again
    session = client.session
    session["last_activity"] = int(time.time()) - 45  # idle 45 s (under the minute), older than the step
    session.save()
    assert client.get("/worklist/").status_code == 200
    assert client.session["last_activity"] >= int(time.time()) - 2  # recorded afresh
    session = client.session
    session["last_activity"] = int(time.time()) - 61
    session.save()
    response = client.get("/worklist/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_response_carries_a_content_security_policy_without_inline_script(login):
    client = login("nora.rn")
    for path in ("/login/", "/worklist/", "/api/docs"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_the_display_time_zone_is_read_with_the_user_and_follows_a_change(login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ccmops.organizations.models import Membership, User
    from ccmops.web.auth import Backend

    nora = User.objects.get(username="nora.rn")
    practice = Membership.objects.get(user=nora).organization
    assert Backend().get_user(nora.id).display_time_zone == practice.time_zone
    practice.time_zone = "America/Denver"
    practice.save(update_fields=["time_zone"])
    assert Backend().get_user(nora.id).display_time_zone == "America/Denver"  # no stale copy anywhere
    sam = User.objects.get(username="sam.lead")  # a partner's lead: no practice of their own
    assert Backend().get_user(sam.id).display_time_zone is None

    client = login("nora.rn")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/timer").status_code == 200
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "organizations_membership".')]


def test_the_compiled_user_read_follows_the_required_roles_and_refuses_what_cannot_sign_in(login):
    """The per-request read is compiled once per setting of CCMOPS_MFA_REQUIRED_ROLES: each setting gets its own
    answer, an inactive user or an id that is no user's gets None, and the user is the one asked for."""
    from django.test import override_settings

    from ccmops.organizations.models import User
    from ccmops.web.auth import Backend

    nora, sam = User.objects.get(username="nora.rn"), User.objects.get(username="sam.lead")
    with override_settings(CCMOPS_MFA_REQUIRED_ROLES=frozenset({"care_manager"})):
        assert Backend().get_user(nora.id).mfa_role is True and Backend().get_user(sam.id).mfa_role is False
    with override_settings(CCMOPS_MFA_REQUIRED_ROLES=frozenset({"partner_ops_lead", "system_admin"})):
        assert Backend().get_user(nora.id).mfa_role is False and Backend().get_user(sam.id).mfa_role is True
        assert Backend().get_user(str(sam.id)).username == "sam.lead"
    with override_settings(CCMOPS_MFA_REQUIRED_ROLES=frozenset()):
        assert not hasattr(Backend().get_user(nora.id), "mfa_role")
    assert Backend().get_user(-918_273_645) is None and Backend().get_user("x") is None
    User.objects.filter(pk=nora.pk).update(is_active=False)
    assert Backend().get_user(nora.id) is None


def test_the_compiled_session_read_finds_only_an_unexpired_session_of_its_key(db):
    """The per-request session read is compiled once (ccmops.web.sessions): it loads what was saved, and an
    expired session, another key or no key loads nothing (and forgets the key, as Django's store does)."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from ccmops.web.sessions import SessionStore

    assert settings.SESSION_ENGINE == "ccmops.web.sessions"
    saved = SessionStore()
    saved["last_activity"] = 1234
    saved.create()
    other = SessionStore()
    other["last_activity"] = 5678
    other.create()
    assert SessionStore(saved.session_key).load() == {"last_activity": 1234}
    assert SessionStore(other.session_key).load() == {"last_activity": 5678}
    missing = SessionStore("a" * 32)
    assert missing.load() == {} and missing.session_key is None
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(saved.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert SessionStore(None).load() == {}
