"""A practice engages a partner and either side ends the engagement (ccmops.organizations.engagements), with no
administrator: the engagement alone shows the partner nothing, the operating model decides its functions, an
ended engagement ends its access after the last day, and nothing is ended in the past."""

import datetime as dt

import pytest
from django.core.management import call_command
from tests.factories.pages import markup_problems

from ccmops.access.operating_model import Preset
from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.organizations import engagements
from ccmops.organizations.models import Engagement, Organization, User
from ccmops.organizations.services import record_matrix_version
from ccmops.patients.scope import decide_for_user


def org(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


def test_a_practice_engages_a_partner_who_sees_its_patients_only_with_functions(login):
    owner = login("olivia.owner")
    maple, summit = org(world.MAPLE), org(world.SUMMIT)
    today = engagements.practice_today(maple)
    page = owner.get(f"/practices/{maple.id}/operating-model/")
    assert page.status_code == 200 and markup_problems(page) == []
    assert 'id="engage-partner"' in page.content.decode()
    engaged = owner.post(
        f"/practices/{maple.id}/engagements/",
        {"partner": world.SUMMIT, "starts_on": today.isoformat(), "note": "Contract 2026-114"},
    )
    assert engaged.status_code == 302
    e = Engagement.objects.get(practice=maple, partner=summit)
    assert (e.starts_on, e.ends_on, e.note, e.created_by.username) == (today, None, "Contract 2026-114", "olivia.owner")
    pat = User.objects.get(username="pat.rn")
    assert not decide_for_user(pat).can_view(maple.id)  # engaged, but the model gives Summit nothing yet
    row = login("sam.lead").get("/settings/").content.decode().split(f'id="engagement-{e.id}"')[1].split("</tr>")[0]
    assert "none yet" in row
    record_matrix_version(
        practice=maple, preset=Preset.MANAGED, partner=summit, effective_from=today, reason="Managed", by=None
    )
    assert decide_for_user(pat).can_view(maple.id)
    # the partner ends it today: today is its last day, tomorrow it sees nothing and the practice is told why
    lead = login("sam.lead")
    settings_page = lead.get("/settings/")
    row = settings_page.content.decode().split(f'id="engagement-{e.id}"')[1].split("</tr>")[0]
    assert "Monthly outreach" in row and markup_problems(settings_page) == []
    ended = lead.post(
        f"/engagements/{e.id}/end/",
        {"org": world.SUMMIT, "ends_on": today.isoformat(), "reason": "Contract not renewed"},
    )
    assert ended.status_code == 302 and "ends+on" in ended["Location"].replace("%20", "+")
    e.refresh_from_db()
    assert (e.ends_on, e.end_reason, e.ended_by.username) == (today, "Contract not renewed", "sam.lead")
    assert decide_for_user(pat, on=today).can_view(maple.id)
    tomorrow = today + dt.timedelta(days=1)
    assert not decide_for_user(pat, on=tomorrow).can_view(maple.id)
    orphaned = engagements.orphaned_functions(maple, tomorrow)
    assert orphaned.partner == summit and "Monthly outreach" in orphaned.functions
    assert engagements.orphaned_functions(maple, today) is None
    event = AuditEvent.objects.filter(practice_id=maple.id, object_type="engagement").latest("id")
    assert event.detail["ended_by_side"] == "partner" and event.detail["reason"] == "Contract not renewed"


def test_engagements_refuse_overlaps_past_ends_and_strangers(login):
    maple = org(world.MAPLE)
    today = engagements.practice_today(maple)
    e = engagements.engage_partner(practice=maple, partner_slug=world.SUMMIT, starts_on=today, by=None)
    with pytest.raises(Conflict, match="already engaged"):
        engagements.engage_partner(
            practice=maple, partner_slug=world.SUMMIT, starts_on=today + dt.timedelta(days=30), by=None
        )
    for slug, named in ((world.RIVERBEND, "no partner organization"), ("nobody", "no partner organization")):
        with pytest.raises(InvalidInput, match=named):
            engagements.engage_partner(practice=maple, partner_slug=slug, starts_on=today, by=None)
    with pytest.raises(InvalidInput, match=r"ends_on: .* is before starts_on"):
        engagements.engage_partner(
            practice=maple, partner_slug=world.SUMMIT, starts_on=today, ends_on=today - dt.timedelta(days=1), by=None
        )
    with pytest.raises(InvalidInput, match="in the past"):
        engagements.end_engagement(
            org=maple, engagement_id=e.id, ends_on=today - dt.timedelta(days=1), reason="Backdated end", by=None
        )
    with pytest.raises(InvalidInput, match="reason"):
        engagements.end_engagement(org=maple, engagement_id=e.id, ends_on=today, reason="", by=None)
    engagements.end_engagement(
        org=maple, engagement_id=e.id, ends_on=today + dt.timedelta(days=10), reason="Notice given", by=None
    )
    with pytest.raises(Conflict, match="already ends"):
        engagements.end_engagement(
            org=maple, engagement_id=e.id, ends_on=today + dt.timedelta(days=20), reason="Later after all", by=None
        )
    # Riverbend's owner does not reach Maple's engagement; a biller does not engage anyone
    with pytest.raises(NotFound):
        engagements.engagement_of(org(world.RIVERBEND), e.id)
    biller = login("ben.biller")
    refused = biller.post(f"/practices/{maple.id}/engagements/", {"partner": world.SUMMIT, "starts_on": "2027-01-01"})
    assert refused.status_code == 403
    owner = login("olivia.owner")
    shown = owner.post(f"/practices/{maple.id}/engagements/", {"partner": "nobody", "starts_on": today.isoformat()})
    assert shown.status_code == 422 and markup_problems(shown) == []
    assert "no partner organization" in shown.content.decode() and 'value="nobody"' in shown.content.decode()


def test_engagements_over_the_api_and_the_command_line(login, capsys):
    owner = login("olivia.owner")
    maple = org(world.MAPLE)
    today = engagements.practice_today(maple)
    made = owner.post(
        "/api/engagements", {"partner": world.SUMMIT, "starts_on": today.isoformat()}, content_type="application/json"
    )
    assert made.status_code == 201 and made.json()["state"] == "active"
    listed = login("sam.lead").get("/api/engagements").json()["engagements"]
    assert any(e["id"] == made.json()["id"] and e["practice"]["slug"] == world.MAPLE for e in listed)
    call_command(
        "org",
        "end-engagement",
        str(made.json()["id"]),
        "--org",
        world.MAPLE,
        "--ends-on",
        today.isoformat(),
        "--reason",
        "Program brought in-house",
    )
    assert f"ends on {today}" in capsys.readouterr().out
    again = owner.post(
        f"/api/engagements/{made.json()['id']}/end",
        {"ends_on": today.isoformat(), "reason": "Twice"},
        content_type="application/json",
    )
    assert again.status_code == 409
