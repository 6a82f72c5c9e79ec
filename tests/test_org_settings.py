"""An organization's leads keep its settings and practitioners (ccmops.administration.org_settings) without the
administrator: each change validated and named when wrong, audited with the value before, refused where it would
rewrite history (the time zone once minutes are counted in it, an NPI once billed), and never reaching another
tenant. A new installation creates a practice and its first lead from the command line."""

import datetime as dt
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from tests.factories.pages import markup_problems
from tests.factories.session import mfa_done

from ccmops.administration import org_settings, practitioners
from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.review import override
from ccmops.compliance.audit import verify_chain
from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.errors import Conflict, InvalidInput
from ccmops.organizations import rule_policies
from ccmops.organizations.models import Organization, Practitioner, ResponsibilityMatrix, User
from ccmops.patients.models import Patient
from ccmops.timetracking.services import start_timer, stop_timer

NEW_NPI, OTHER_NPI = "1234567893", "1987654328"


def maple() -> Organization:
    return Organization.objects.get(slug=world.MAPLE)


def test_a_program_owner_completes_the_claim_identity_and_each_change_is_audited(login):
    owner = login("olivia.owner")
    page = owner.get("/settings/")
    assert page.status_code == 200 and markup_problems(page) == []
    assert 'value="1003000993"' in page.content.decode() and "Practitioners" in page.content.decode()
    saved = owner.post(
        "/settings/",
        {"org": world.MAPLE, "npi": NEW_NPI, "state": "mo", "postal_code": "63101-1234", "tin": "74-1234567"},
    )
    assert saved.status_code == 302 and "notice=Saved" in saved["Location"]
    practice = maple()
    assert (practice.npi, practice.state, practice.postal_code, practice.tin) == (
        NEW_NPI,
        "MO",
        "63101-1234",
        "741234567",
    )
    event = AuditEvent.objects.filter(practice_id=practice.id, object_type="settings").latest("id")
    assert event.username == "olivia.owner"
    assert event.detail["changed"] == {
        "npi": ["1003000993", NEW_NPI],
        "state": ["IL", "MO"],
        "postal_code": ["62704-1248", "63101-1234"],
    }  # the TIN was the same digits: not a change
    assert verify_chain(practice.id).ok


def test_a_bad_value_is_named_and_nothing_is_saved(login):
    owner = login("olivia.owner")
    refused = owner.post("/settings/", {"org": world.MAPLE, "name": "Maple Renamed", "npi": "1234567890"})
    assert refused.status_code == 422 and markup_problems(refused) == []
    body = refused.content.decode()
    assert "npi:" in body and "check digit" in body
    assert 'value="Maple Renamed"' in body  # what was typed is kept on the page
    assert maple().name == "Maple Street Family Medicine"  # atomic: the good field was not saved either
    for changes, named in (
        ({"place_of_service": "office"}, "place_of_service"),
        ({"postal_code": "6270"}, "postal_code"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"state": "ZZ"}, "state"),
        ({"timer_idle_credit_minutes": "45"}, "timer_idle_credit_minutes"),
        ({"timer_idle_drop_minutes": "3"}, "timer_idle_drop_minutes"),  # below the credit of 5
        ({"name": "Maple\x00"}, "name"),
        ({"claims_submitter": world.SUMMIT}, "claims_submitter"),  # Summit is not engaged with Maple
        ({"colour": "green"}, "colour"),
    ):
        with pytest.raises(InvalidInput, match=f"^{named}"):
            org_settings.change_settings(org=maple(), changes=changes, by=None)
    assert maple().name == "Maple Street Family Medicine"


def test_an_engaged_partner_may_be_named_to_send_the_claims(demo):
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    changed = org_settings.change_settings(org=riverbend, changes={"claims_submitter": world.SUMMIT}, by=None)
    assert changed == {"claims_submitter": ["", world.SUMMIT]}
    riverbend.refresh_from_db()
    assert riverbend.claims_submitter.slug == world.SUMMIT
    assert org_settings.change_settings(org=riverbend, changes={"claims_submitter": ""}, by=None)
    riverbend.refresh_from_db()
    assert riverbend.claims_submitter is None


def test_the_time_zone_is_fixed_once_minutes_are_counted_in_it(demo):
    assert org_settings.change_settings(org=maple(), changes={"time_zone": "America/New_York"}, by=None)
    nora = User.objects.get(username="nora.rn")
    start = timezone.now() - dt.timedelta(minutes=10)
    patient = Patient.objects.filter(practice=maple(), care_manager=nora).first()
    timer = start_timer(patient=patient, staff=nora, program="ccm", activity="care_coordination_call", now=start)
    stop_timer(timer=timer, staff=nora, now=start + dt.timedelta(minutes=4))
    assert org_settings.time_zone_fixed(maple()) == "time has been recorded in it"
    with pytest.raises(Conflict, match="R-TIME-10"):
        org_settings.change_settings(org=maple(), changes={"time_zone": "America/Chicago"}, by=None)
    assert maple().time_zone == "America/New_York"
    # the page shows it fixed, with why, and does not send it
    page = Client()
    page.force_login(User.objects.get(username="olivia.owner"))
    body = mfa_done(page).get("/settings/").content.decode()
    assert "fixed: time has been recorded in it" in body
    assert re.search(r'<input id="set_time_zone" value="America/New_York" disabled', body)


def test_practitioners_are_added_corrected_and_taken_off(demo_activity, login):
    owner = login("olivia.owner")
    added = owner.post(
        "/settings/practitioners/",
        {"org": world.MAPLE, "first_name": "Ada", "last_name": "Reyes", "npi": NEW_NPI, "credential": "np"},
    )
    assert added.status_code == 302
    ada = Practitioner.objects.get(npi=NEW_NPI)
    assert (ada.practice, ada.credential, ada.active) == (maple(), "NP", True)
    again = owner.post(
        "/settings/practitioners/",
        {"org": world.MAPLE, "first_name": "Ada", "last_name": "Reyes", "npi": NEW_NPI, "credential": "NP"},
    )
    assert again.status_code == 409 and "at this practice" in again.content.decode()
    riverbend_npi = Practitioner.objects.filter(practice__slug=world.RIVERBEND).first().npi
    with pytest.raises(Conflict, match="another practice") as refused:
        practitioners.add_practitioner(
            org=maple(), first_name="X", last_name="Y", npi=riverbend_npi, credential="MD", by=None
        )
    assert "Riverbend" not in str(refused.value)  # another tenant is not named
    # a typo in the NPI is mended while nothing names it …
    fixed = owner.post(
        f"/settings/practitioners/{ada.id}/",
        {
            "org": world.MAPLE,
            "npi": OTHER_NPI,
            "first_name": "Ada",
            "last_name": "Reyes",
            "credential": "NP",
            "active": "yes",
            "reason": "NPI typo on entry",
        },
    )
    assert fixed.status_code == 302
    ada.refresh_from_db()
    assert ada.npi == OTHER_NPI
    event = AuditEvent.objects.filter(object_type="practitioner", object_id=str(ada.id)).latest("id")
    assert event.detail == {"changed": {"npi": [NEW_NPI, OTHER_NPI]}, "reason": "NPI typo on entry"}
    # … not once a decision names the practitioner
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    close_month(practice=maple(), month=f"{last:%Y-%m}")
    patel = Practitioner.objects.get(user__username="dr.patel")
    assert PatientMonthDecision.objects.filter(billing_practitioner=patel).exists()
    assert practitioners.npi_fixed(patel)
    with pytest.raises(Conflict, match="add a practitioner with the right NPI"):
        practitioners.change_practitioner(
            org=maple(), practitioner_id=patel.id, by=None, npi=NEW_NPI, reason="Typo in the NPI"
        )
    page = owner.get("/settings/").content.decode()
    assert f'id="pr{ada.id}_npi"' in page and f'id="pr{patel.id}_npi"' not in page
    # a name is still corrected
    assert practitioners.change_practitioner(
        org=maple(), practitioner_id=patel.id, by=None, first_name="Anika R.", reason="Name as on the NPPES record"
    ) == {"first_name": [patel.first_name, "Anika R."]}
    # taken off: the record stays, no longer offered for a new billing practitioner
    off = owner.post(
        f"/settings/practitioners/{ada.id}/",
        {"org": world.MAPLE, "active": "no", "reason": "Left the practice"},
    )
    assert off.status_code == 302
    ada.refresh_from_db()
    assert not ada.active
    with pytest.raises(InvalidInput, match=r"^reason"):
        practitioners.change_practitioner(org=maple(), practitioner_id=ada.id, by=None, active=True, reason="")


def test_a_partner_keeps_its_own_claim_contact_not_a_practices_identity(login):
    lead = login("sam.lead")
    page = lead.get("/settings/")
    body = page.content.decode()
    assert page.status_code == 200 and markup_problems(page) == []
    assert 'name="edi_submitter_id"' in body and 'name="npi"' not in body and "Practitioners" not in body
    api = lead.patch(
        "/api/settings",
        {"edi_submitter_id": "SUMMIT01", "billing_contact_phone": "(303) 555-0100"},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert api.json()["changed"] == {"edi_submitter_id": ["", "SUMMIT01"], "billing_contact_phone": ["", "3035550100"]}
    refused = lead.patch("/api/settings", {"npi": NEW_NPI}, content_type="application/json")
    assert refused.status_code == 422 and "npi" in refused.content.decode()
    misspelled = lead.patch("/api/settings", {"edi_submiter_id": "X"}, content_type="application/json")
    assert misspelled.status_code == 422  # an unknown field is refused, not ignored
    # a care manager keeps no settings; a lead reaches only the organizations they lead
    assert login("pat.rn").get("/api/settings").status_code == 403
    assert lead.get(f"/api/settings?org={world.MAPLE}").status_code == 404


def test_the_api_reads_and_changes_a_practices_settings_and_practitioners(login):
    owner = login("olivia.owner")
    got = owner.get("/api/settings").json()
    assert got["settings"]["npi"] == "1003000993" and got["time_zone_fixed"] is None
    assert {s["step"]: s["done"] for s in got["getting_started"]}["claims"] is True
    assert {p["npi"] for p in got["practitioners"]} == set(
        Practitioner.objects.filter(practice=maple()).values_list("npi", flat=True)
    )
    added = owner.post(
        "/api/settings/practitioners",
        {"first_name": "Ada", "last_name": "Reyes", "npi": NEW_NPI, "credential": "NP"},
        content_type="application/json",
    )
    assert added.status_code == 201 and added.json()["npi_fixed"] is False
    off = owner.patch(
        f"/api/settings/practitioners/{added.json()['id']}",
        {"active": False, "reason": "Moved to another state"},
        content_type="application/json",
    )
    assert off.status_code == 200 and off.json()["changed"] == {"active": [True, False]}
    bad = owner.patch("/api/settings", {"timer_idle_drop_minutes": 2}, content_type="application/json")
    assert bad.status_code == 422 and "timer_idle_drop_minutes" in bad.json()["detail"]


def test_a_new_installation_creates_a_practice_and_its_program_owner(db, capsys):
    call_command(
        "org",
        "create",
        "--kind",
        "practice",
        "--slug",
        "oak-family",
        "--name",
        "Oak Family Practice",
        "--time-zone",
        "America/Chicago",
        "--lead-username",
        "ola.owner",
        "--lead-first-name",
        "Ola",
        "--lead-last-name",
        "Berg",
    )
    out = capsys.readouterr().out
    password = re.search(r"one-time password (\S+)", out).group(1)
    oak = Organization.objects.get(slug="oak-family")
    assert (oak.kind, oak.time_zone) == ("practice", "America/Chicago")
    matrix = ResponsibilityMatrix.objects.get(practice=oak)
    assert matrix.preset == "in_house"
    ola = User.objects.get(username="ola.owner")
    assert ola.check_password(password) and ola.password_change_required
    assert ola.memberships.get().role == "program_owner"
    call_command("org", "set", "--org", "oak-family", "npi=1003000993", "postal_code=60601-1234")
    call_command(
        "org",
        "practitioner-add",
        "--org",
        "oak-family",
        "--first-name",
        "Ida",
        "--last-name",
        "Holm",
        "--npi",
        NEW_NPI,
        "--credential",
        "MD",
    )
    capsys.readouterr()
    call_command("org", "show", "--org", "oak-family", "--json")
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["npi"] == "1003000993" and shown["settings"]["postal_code"] == "60601-1234"
    assert [p["npi"] for p in shown["practitioners"]] == [NEW_NPI]
    events = AuditEvent.objects.filter(practice_id=oak.id).values_list("object_type", "username")
    assert {
        ("settings", "cli:" + __import__("getpass").getuser()),
        ("practitioner", "cli:" + __import__("getpass").getuser()),
    } <= set(events)
    with pytest.raises(Conflict, match="taken"):
        call_command(
            "org",
            "create",
            "--kind",
            "partner",
            "--slug",
            "oak-family",
            "--name",
            "X",
            "--time-zone",
            "UTC",
            "--lead-username",
            "x.lead",
            "--lead-first-name",
            "X",
            "--lead-last-name",
            "Y",
        )
    assert not User.objects.filter(username="x.lead").exists()


def test_changes_made_in_the_administrators_site_are_audited_too(demo):
    admin = Client()
    admin.force_login(User.objects.get(username=world.ADMIN_USERNAME))
    mfa_done(admin)
    patel = Practitioner.objects.get(user__username="dr.patel")
    changed = admin.post(
        f"/admin/organizations/practitioner/{patel.id}/change/",
        {
            "practice": patel.practice_id,
            "user": patel.user_id,
            "npi": patel.npi,
            "first_name": patel.first_name,
            "last_name": "Patel-Rao",
            "credential": patel.credential,
            "active": "on",
        },
    )
    assert changed.status_code == 302
    event = AuditEvent.objects.filter(object_type="admin:practitioner").latest("id")
    assert (event.practice_id, event.username) == (patel.practice_id, world.ADMIN_USERNAME)
    assert event.detail == {"via": "admin", "last_name": "Patel-Rao"}


def test_a_practice_sets_its_rule_policies_and_an_evaluated_month_must_be_decided_again(demo_activity, login):
    owner = login("olivia.owner")
    page = owner.get("/settings/").content.decode()
    assert 'id="policy-cap_99439"' in page and "R-CCM-2" in page
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = f"{last:%Y-%m}"
    close_month(practice=maple(), month=month)
    for held in PatientMonthDecision.objects.filter(practice=maple(), month=month, review="needs_review"):
        override(decision=held, action="bill", reason="Note signed on paper, scanned", by=None)
    saved = owner.post(
        "/settings/policies/",
        {
            "org": world.MAPLE,
            "cap_99439": "1",
            "date_of_service": "last_day_of_month",
            "require_signed_notes": "true",  # the default: not a change
            "reason": "Our MAC's guidance of 2026-11-02",
        },
    )
    assert saved.status_code == 302 and "next+evaluation" in saved["Location"].replace("%20", "+")
    assert maple().rule_policies == {"cap_99439": 1, "date_of_service": "last_day_of_month"}
    event = AuditEvent.objects.filter(practice_id=maple().id, object_type="rule_policies").latest("id")
    assert event.detail == {
        "changed": {"cap_99439": [2, 1], "date_of_service": ["threshold_reached", "last_day_of_month"]},
        "reason": "Our MAC's guidance of 2026-11-02",
    }
    # the month evaluated under the old policies is not approved until it is decided under the new ones
    with pytest.raises(Conflict, match="changed after"):
        approve_and_close(practice=maple(), month=month, by=None)
    close_month(practice=maple(), month=month)
    dates = {
        line["date_of_service"]
        for d in PatientMonthDecision.objects.filter(practice=maple(), month=month)
        for line in d.decision.get("lines", [])
    }
    assert dates == {last.isoformat()}
    # back to the default: the override is removed, not stored as the default value
    rule_policies.change_policies(org=maple(), values={"cap_99439": 2}, reason="Back to CMS's limit", by=None)
    assert maple().rule_policies == {"date_of_service": "last_day_of_month"}
    for values, named in (
        ({"cap_99439": "two"}, "cap_99439: expected a whole number"),
        ({"date_of_service": "whenever"}, "date_of_service: expected one of"),
        ({"g0511_last_payable_date": "2025-13-01"}, "g0511_last_payable_date: expected a date"),
        ({"no_such_policy": True}, "no_such_policy: not a rule policy"),
        ({"cap_99439": 3}, "cap_99439: at most 2"),  # R-CCM-2: Medicare's limit is lowered, never raised
    ):
        with pytest.raises(InvalidInput, match=named):
            rule_policies.change_policies(org=maple(), values=values, reason="Trying a value", by=None)
    with pytest.raises(InvalidInput, match="reason"):
        rule_policies.change_policies(org=maple(), values={"cap_99439": 1}, reason="", by=None)
    api = owner.patch(
        "/api/settings/policies",
        {"values": {"facility_stay_whole_days": False}, "reason": "Stays known by the hour here"},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["changed"] == {"facility_stay_whole_days": [True, False]}


def test_the_compliance_reviewer_lists_configuration_changes(login):
    owner = login("olivia.owner")
    owner.post("/settings/", {"org": world.MAPLE, "billing_contact_name": "Maple billing office"})
    owner.get(f"/patients/{Patient.objects.filter(practice=maple()).first().id}/")  # a chart read: not configuration
    reviewer = login("carl.compliance")
    page = reviewer.get("/audit/?what=configuration")
    assert page.status_code == 200 and markup_problems(page) == []
    body = page.content.decode()
    objects = set(re.findall(r'<td class="muted">([\w.:]+) \d+</td>', body))
    assert "settings" in objects and "organizations.ResponsibilityMatrix" in objects
    assert not objects & {"patients.Patient", "chart"}
    assert "billing_contact_name" in body and "Maple billing office" in body  # what changed, before and after
    assert "patients.Patient" in reviewer.get("/audit/").content.decode()  # unfiltered, the read is there
    assert reviewer.get("/audit/?what=everything").status_code == 422
