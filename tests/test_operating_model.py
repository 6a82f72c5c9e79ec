import datetime as dt

import pytest

from ccmops.access.operating_model import Function, Preset, classify, preset_parties
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.organizations.models import ResponsibilityMatrix, User
from ccmops.organizations.services import (
    matrix_version_in_force,
    party_of,
    record_engagement,
    record_matrix_version,
)


def test_demo_riverbend_history_reads_back_for_each_date(orgs):
    riverbend = orgs[world.RIVERBEND]
    june = matrix_version_in_force(riverbend, world.HYBRID_FROM - dt.timedelta(days=1))
    july = matrix_version_in_force(riverbend, world.HYBRID_FROM)
    assert (june.version, june.preset) == (1, Preset.IN_HOUSE)
    assert (july.version, july.preset) == (2, Preset.HYBRID_PARTNER_MONTHLY)
    assert party_of(june, Function.MONTHLY_OUTREACH) == "practice"
    assert party_of(july, Function.MONTHLY_OUTREACH) == "partner"
    assert matrix_version_in_force(riverbend, world.LAUNCHED - dt.timedelta(days=1)) is None


def test_switching_in_house_to_hybrid_in_the_ui_creates_a_new_version_and_keeps_the_old(login, orgs):
    maple, summit = orgs[world.MAPLE], orgs[world.SUMMIT]
    record_engagement(practice=maple, partner=summit, starts_on=dt.date(2026, 11, 1), by=None)
    client = login("olivia.owner")
    response = client.post(
        f"/practices/{maple.id}/operating-model/",
        {
            "preset": Preset.HYBRID_PARTNER_MONTHLY.value,
            "partner": summit.id,
            "effective_from": "2026-12-01",
            "reason": "Our RN goes on leave; Summit takes the monthly calls.",
        },
    )
    assert response.status_code == 302
    versions = list(ResponsibilityMatrix.objects.filter(practice=maple).order_by("version"))
    assert [(v.version, v.preset) for v in versions] == [(1, "in_house"), (2, "hybrid_partner_monthly")]
    assert versions[1].created_by.username == "olivia.owner"
    assert matrix_version_in_force(maple, dt.date(2026, 11, 30)).version == 1
    assert matrix_version_in_force(maple, dt.date(2026, 12, 1)).version == 2
    page = client.get(f"/practices/{maple.id}/operating-model/?on=2026-11-15")
    assert "Version 1: In-house" in page.content.decode()


def test_matrix_versions_are_never_edited(orgs):
    matrix = ResponsibilityMatrix.objects.filter(practice=orgs[world.MAPLE]).first()
    matrix.reason = "rewritten"
    with pytest.raises(ValueError, match="never changed"):
        matrix.save()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": Preset.MANAGED, "reason": "x"}, "partner: this model gives functions to a partner"),
        ({"preset": Preset.IN_HOUSE, "reason": "  "}, "reason: say why"),
        (
            {
                "preset": Preset.CUSTOM,
                "reason": "x",
                "parties": {**preset_parties(Preset.IN_HOUSE), Function.CLINICAL_OVERSIGHT: "partner"},
            },
            "Clinical oversight: always stays with the practice",
        ),
        ({"preset": Preset.CUSTOM, "reason": "x", "parties": {"billingg": "practice"}}, "unknown function"),
    ],
)
def test_bad_matrix_changes_are_refused_with_the_field_named(orgs, kwargs, message):
    before = ResponsibilityMatrix.objects.count()
    with pytest.raises(InvalidInput, match=message):
        record_matrix_version(practice=orgs[world.MAPLE], effective_from=dt.date(2026, 12, 1), by=None, **kwargs)
    assert ResponsibilityMatrix.objects.count() == before


def test_partner_needs_an_engagement_active_on_the_effective_date(orgs):
    with pytest.raises(InvalidInput, match="has no engagement"):
        record_matrix_version(
            practice=orgs[world.RIVERBEND],
            preset=Preset.MANAGED,
            partner=orgs[world.SUMMIT],
            effective_from=dt.date(2026, 5, 1),
            reason="too early",
            by=None,
        )


def test_only_the_program_owner_changes_the_model(login, orgs):
    response = login("nora.rn").post(
        f"/practices/{orgs[world.MAPLE].id}/operating-model/",
        {"preset": "in_house", "effective_from": "2026-12-01", "reason": "x"},
    )
    assert response.status_code == 403
    assert ResponsibilityMatrix.objects.filter(practice=orgs[world.MAPLE]).count() == 1


def test_api_records_and_reads_matrix_versions(login, orgs):
    riverbend = orgs[world.RIVERBEND]
    client = login("rita.owner")
    created = client.post(
        f"/api/practices/{riverbend.id}/matrix",
        {
            "preset": "managed",
            "partner_id": orgs[world.SUMMIT].id,
            "effective_from": "2027-01-01",
            "reason": "Partner takes billing support too.",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["version"] == 3
    old = client.get(f"/api/practices/{riverbend.id}/matrix?on={world.LAUNCHED}").json()
    assert old["version"] == 1 and old["preset"] == "in_house"
    history = client.get(f"/api/practices/{riverbend.id}/matrix/history").json()
    assert [h["version"] for h in history] == [1, 2, 3]
    oversight = next(a for a in history[2]["assignments"] if a["function"] == "clinical_oversight")
    assert oversight["party"] == "practice"


def test_custom_assignment_matching_a_preset_is_named_after_it():
    assert classify(preset_parties(Preset.HYBRID_PARTNER_OUTREACH)) is Preset.HYBRID_PARTNER_OUTREACH


def test_partner_is_refused_for_a_partner_practice(orgs):
    with pytest.raises(InvalidInput, match="is a partner, not a practice"):
        record_matrix_version(
            practice=orgs[world.SUMMIT],
            preset=Preset.IN_HOUSE,
            effective_from=dt.date(2026, 1, 1),
            reason="x",
            by=User.objects.get(username="admin"),
        )
