"""An organization's leads manage its people (ccmops.administration.staff): add with a one-time password that
must be changed before anything else works, take off the staff the day someone leaves (access ends, the
open timer is kept, their patients wait for a care manager), bring back, reset a password — each audited, and
never reaching a person of another organization."""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from tests.factories.pages import markup_problems
from tests.factories.session import demo_patient, mfa_done

from ccmops.administration import staff
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.models import Membership, Organization, Practitioner, User
from ccmops.patients.models import Patient
from ccmops.reporting import assignment
from ccmops.timetracking.entries import open_timer
from ccmops.timetracking.models import TimeEntry
from ccmops.timetracking.services import start_timer


def summit() -> Organization:
    return User.objects.get(username="sam.lead").memberships.get().organization


def one_time_password(response) -> str:
    found = re.search(r'<code class="totp-key">([^<]+)</code>', response.content.decode())
    assert found, "no one-time password on the page"
    return found.group(1)


def test_a_lead_adds_a_care_manager_who_must_choose_a_password_first(login):
    lead = login("sam.lead")
    page = lead.get("/staff/")
    assert page.status_code == 200 and "Pat Quinn" in page.content.decode()
    added = lead.post(
        "/staff/",
        {
            "org": summit().slug,
            "username": "Tess.RN",
            "first_name": "Tess",
            "last_name": "Ng",
            "email": "tess@summit.example",
            "role": "care_manager",
            "credential": "RN",
            "clinical": "",
            "hours": "32",
        },
    )
    assert added.status_code == 200 and markup_problems(added) == []
    password = one_time_password(added)
    tess = User.objects.get(username="tess.rn")
    membership = tess.memberships.get()
    assert (membership.organization, membership.role, membership.credential) == (summit(), "care_manager", "RN")
    assert membership.is_clinical_staff and float(membership.committed_hours_per_week) == 32.0
    assert tess.password_change_required and tess.check_password(password)
    event = AuditEvent.objects.get(object_type="staff", object_id=str(membership.id))
    assert event.username == "sam.lead" and event.practice_id == summit().id
    assert event.detail["role"] == "care_manager" and event.detail["new_account"] is True
    assert password not in str(event.detail)
    # She is designatable as a care manager at once.
    assert tess in assignment.staff_of(summit())

    tess_client, other_tab = Client(), Client()  # her browser, and a session of hers elsewhere
    assert tess_client.login(username="tess.rn", password=password)
    assert other_tab.login(username="tess.rn", password=password)
    mfa_done(tess_client)
    mfa_done(other_tab)
    assert tess_client.get("/worklist/")["Location"] == "/account/password/"
    refused = tess_client.get("/api/patients")
    assert refused.status_code == 403 and "one-time password" in refused.json()["detail"]
    weak = tess_client.post(
        "/account/password/", {"old_password": password, "new_password1": "short", "new_password2": "short"}
    )
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    wrong = tess_client.post(
        "/account/password/",
        {"old_password": "not-it-at-all", "new_password1": "Quiet-harbor-1962", "new_password2": "Quiet-harbor-1962"},
    )
    assert "not your current password" in wrong.content.decode()
    done = tess_client.post(
        "/account/password/",
        {"old_password": password, "new_password1": "Quiet-harbor-1962", "new_password2": "Quiet-harbor-1962"},
    )
    assert done.status_code == 302
    tess.refresh_from_db()
    assert not tess.password_change_required and tess.check_password("Quiet-harbor-1962")
    assert tess_client.get("/worklist/").status_code == 200  # the same session goes on
    assert other_tab.get("/worklist/")["Location"].startswith("/login/")  # every other one ended
    assert AuditEvent.objects.filter(object_type="user", object_id=str(tess.id), detail__password="changed").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "x"}, "^username: 3 to 40"),
        ({"username": "nora.rn"}, "^username: 'nora.rn' is taken"),  # another organization's person
        ({"role": "system_admin"}, "^role: System administrator is not a role"),
        ({"role": "billing_practitioner"}, "^role: Billing practitioner is not a role"),  # not at a partner
        ({"role": "wizard"}, "^role: unknown role"),
        ({"credential": "XYZ"}, "^credential: unknown"),
        ({"hours": "61"}, "^hours: expected 0 to 60"),
        ({"first_name": ""}, "^first_name, last_name:"),
        ({"email": "not-an-address"}, "^email:"),
        ({"last_name": "Ng\x00"}, "^last_name: control characters"),
    ],
)
def test_bad_input_names_the_field_and_adds_nobody(demo, change, message):
    lead = User.objects.get(username="sam.lead")
    given = {
        "username": "new.person",
        "role": "care_manager",
        "first_name": "New",
        "last_name": "Person",
        "credential": "MA",
        "hours": 10,
        **change,
    }
    users, memberships = User.objects.count(), Membership.objects.count()
    with pytest.raises(InvalidInput, match=message):
        staff.add_staff(org=summit(), by=lead, **given)
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)


def test_a_second_role_for_one_of_the_staff_and_the_same_role_twice(demo):
    lead = User.objects.get(username="sam.lead")
    added = staff.add_staff(org=summit(), username="lee.lpn", role="biller", by=lead)
    assert added.password == "" and added.membership.role == "biller" and not added.membership.is_clinical_staff
    with pytest.raises(Conflict, match="already holds the role Biller"):
        staff.add_staff(org=summit(), username="lee.lpn", role="biller", by=lead)


def test_a_new_billing_practitioner_is_linked_to_the_practices_practitioner_record(demo):
    owner = User.objects.get(username="olivia.owner")
    maple = owner.memberships.get().organization
    record = Practitioner.objects.create(
        practice=maple, npi="1710089977", first_name="Ruth", last_name="Osei", credential="NP"
    )
    with pytest.raises(InvalidInput, match=r"^practitioner: choose the practitioner record"):
        staff.add_staff(
            org=maple, username="ruth.np", role="billing_practitioner", by=owner, first_name="R", last_name="O"
        )
    assert staff.unlinked_practitioners(maple) == [record]
    added = staff.add_staff(
        org=maple,
        username="ruth.np",
        role="billing_practitioner",
        by=owner,
        first_name="Ruth",
        last_name="Osei",
        credential="NP",
        practitioner_id=record.id,
    )
    record.refresh_from_db()
    assert record.user == added.user and added.membership.is_clinical_staff
    assert staff.unlinked_practitioners(maple) == []


def test_taking_someone_off_the_staff_ends_access_keeps_the_timer_and_frees_their_patients(login):
    lead_client = login("sam.lead")
    pat = User.objects.get(username="pat.rn")
    pat_client = login("pat.rn")
    lemke = demo_patient("Lemke")
    assert lemke.care_manager == pat
    start_timer(
        patient=lemke,
        staff=pat,
        program="ccm",
        activity="care_coordination_call",
        now=timezone.now() - dt.timedelta(minutes=6),
    )
    entries = TimeEntry.objects.filter(staff=pat).count()

    refused = lead_client.post(f"/staff/{pat.id}/leave/", {"org": summit().slug, "reason": ""})
    assert refused.status_code == 422 and "reason: say why" in refused.content.decode()
    assert Membership.objects.get(user=pat).active

    left = lead_client.post(f"/staff/{pat.id}/leave/", {"org": summit().slug, "reason": "Left on Dec 4"})
    assert left.status_code == 302
    notice = lead_client.get(left["Location"]).content.decode()
    assert (
        "account is disabled" in notice and "open timer was stopped" in notice and "wait for a care manager" in notice
    )
    pat.refresh_from_db()
    assert not pat.is_active and not Membership.objects.get(user=pat).active
    assert open_timer(pat) is None and TimeEntry.objects.filter(staff=pat).count() == entries + 1
    # Her session ends on the next request; she can no longer sign in.
    assert pat_client.get("/worklist/").status_code == 302
    assert not Client().login(username="pat.rn", password="ccmops-demo-2026")
    # Her patients wait for a care manager on the workspace: she is no longer one to designate.
    assert pat not in assignment.staff_of(summit())
    assert f"{Patient.objects.filter(care_manager=pat).count()} patients of theirs wait" in notice
    event = AuditEvent.objects.filter(object_type="staff", object_id=str(pat.id)).latest("id")
    assert event.detail["reason"] == "Left on Dec 4" and event.detail["account_disabled"] is True

    back = lead_client.post(f"/staff/{pat.id}/return/", {"org": summit().slug, "reason": "Rehired Dec 20"})
    assert back.status_code == 302
    pat.refresh_from_db()
    assert pat.is_active and Membership.objects.get(user=pat).active
    assert Client().login(username="pat.rn", password="ccmops-demo-2026")


def test_a_reset_gives_a_one_time_password_and_ends_the_old_sessions(login):
    lead_client = login("sam.lead")
    lee = User.objects.get(username="lee.lpn")
    lee_client = login("lee.lpn")
    reset = lead_client.post(f"/staff/{lee.id}/password/", {"org": summit().slug})
    password = one_time_password(reset)
    assert lee_client.get("/worklist/").status_code == 302  # the old session ended with the old password
    lee.refresh_from_db()
    assert lee.password_change_required and lee.check_password(password)
    assert not lee.check_password("ccmops-demo-2026")


def test_a_lead_never_reaches_another_organizations_people(demo):
    lead = User.objects.get(username="sam.lead")
    owner = User.objects.get(username="olivia.owner")
    maple = owner.memberships.get().organization
    nora = User.objects.get(username="nora.rn")
    with pytest.raises(NotFound):
        staff.deactivate(org=summit(), user_id=nora.id, reason="not ours at all", by=lead)
    with pytest.raises(NotFound):
        staff.reset_password(org=summit(), user_id=nora.id, by=lead)
    with pytest.raises(NotFound, match="org: no organization"):
        staff.led_organization(lead, maple.slug)
    with pytest.raises(PermissionDenied):
        staff.led_organization(nora)  # a care manager leads nothing
    with pytest.raises(PermissionDenied, match="cannot take yourself off"):
        staff.deactivate(org=summit(), user_id=lead.id, reason="leaving myself", by=lead)
    lee = User.objects.get(username="lee.lpn")
    with pytest.raises(InvalidInput, match=r"^reason: control characters"):
        staff.deactivate(org=summit(), user_id=lee.id, reason="left\x00 on Dec 4", by=lead)
    assert Membership.objects.get(user=lee).active


def test_someone_working_for_two_organizations_keeps_the_other(demo):
    lead = User.objects.get(username="sam.lead")
    owner = User.objects.get(username="olivia.owner")
    maple = owner.memberships.get().organization
    both = staff.add_staff(
        org=summit(), username="dual.rn", role="care_manager", by=lead, first_name="D", last_name="R"
    )
    Membership.objects.create(user=both.user, organization=maple, role="care_manager", is_clinical_staff=True)
    with pytest.raises(PermissionDenied, match="also works for another organization"):
        staff.reset_password(org=summit(), user_id=both.user.id, by=lead)
    done = staff.deactivate(org=summit(), user_id=both.user.id, reason="Moved to Maple full time", by=lead)
    both.user.refresh_from_db()
    assert done["account_disabled"] is False and both.user.is_active
    assert Membership.objects.get(user=both.user, organization=maple).active
    with pytest.raises(Conflict, match="not on the active staff"):
        staff.deactivate(org=summit(), user_id=both.user.id, reason="again", by=lead)
    gone = User.objects.get(username="lee.lpn")
    staff.deactivate(org=summit(), user_id=gone.id, reason="Left on Dec 4", by=lead)
    with pytest.raises(Conflict, match="account is disabled; bring them back"):
        staff.add_staff(org=summit(), username="lee.lpn", role="biller", by=lead)


def test_the_cli_and_the_api(login, capsys):
    call_command("staff", "list", "--org", summit().slug)
    listed = capsys.readouterr().out
    assert "pat.rn" in listed and "Care manager" in listed
    call_command(
        "staff",
        "add",
        "--org",
        summit().slug,
        "--username",
        "cli.ma",
        "--role",
        "care_manager",
        "--first-name",
        "Cli",
        "--last-name",
        "Ma",
        "--credential",
        "MA",
        "--by",
        "sam.lead",
    )
    out = capsys.readouterr().out
    assert "one-time password" in out and User.objects.get(username="cli.ma").password_change_required

    api = login("sam.lead")
    rows = api.get("/api/staff").json()
    assert {r["username"] for r in rows["staff"]} >= {"pat.rn", "lee.lpn", "cli.ma"}
    made = api.post(
        "/api/staff",
        {"username": "api.rn", "role": "care_manager", "first_name": "Api", "last_name": "Rn", "credential": "RN"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["one_time_password"]
    user_id = made.json()["user_id"]
    gone = api.post(f"/api/staff/{user_id}/deactivate", {"reason": "Never started"}, content_type="application/json")
    assert gone.status_code == 200 and gone.json()["account_disabled"] is True
    refused = login("nora.rn").get("/api/staff")
    assert refused.status_code == 403
    assert Patient.objects.exists()
