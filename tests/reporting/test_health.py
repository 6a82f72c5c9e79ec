"""Program health on the demo's six months of history: the drifting practice is flagged with the figures that
moved, the hybrid practice shows its own and its partner's figures separately, and the model change shows a
before and an after."""

import json

from django.core.management import call_command

from ccmops.demo import world
from ccmops.reporting.metrics import program_health, program_health_many


def completed(health):
    return [m for m in health.months if not m.in_progress]


def test_drifting_practice_is_flagged_with_the_figures_that_moved(history):
    health = program_health(history[world.CEDAR], months=6)
    moved = {d.figure: d for d in health.drift}
    assert {"touched_share", "billable_share", "live_share", "completeness", "reach_rate"} <= set(moved)
    billable = moved["billable_share"]
    # The three latest completed months, each lower than the one before, as the month table shows them.
    last3 = completed(health)[-3:]
    assert billable.months == tuple(m.month for m in last3)
    assert list(billable.values) == [m.billable_share for m in last3]
    assert billable.values[0] > billable.values[1] > billable.values[2]
    assert billable.drop_points >= 20
    # The practice owns every function, so the drift is its own as a party too.
    (party,) = health.parties
    assert party.organization.slug == world.CEDAR
    assert {d.figure for d in party.drift} >= {"billable_share", "touched_share"}


def test_steady_practices_are_not_flagged(history):
    for slug in (world.LAKESIDE, world.RIVERBEND):
        health = program_health(history[slug], months=6)
        assert health.drift == [], slug
        assert all(p.drift == [] for p in health.parties), slug


def test_hybrid_practice_shows_its_own_and_its_partners_figures_separately(history):
    riverbend = history[world.RIVERBEND]
    health = program_health(riverbend, months=6)
    parties = {p.organization.slug: p for p in health.parties}
    assert set(parties) == {world.RIVERBEND, world.SUMMIT}
    practice, partner = parties[world.RIVERBEND], parties[world.SUMMIT]
    hybrid_months = [m.month for m in completed(health) if m.month >= f"{world.HYBRID_FROM:%Y-%m}"]
    assert hybrid_months, "the window must include months under the hybrid model"
    for month, value in partner.series["billable_share"]:
        if month in hybrid_months:
            assert value == next(m.billable_share for m in health.months if m.month == month)
            assert "monthly_outreach" in partner.functions_by_month[month]
            assert "monthly_outreach" not in practice.functions_by_month[month]
        else:
            assert value is None  # before the switch the monthly work was the practice's, not Summit's
    for month, value in practice.series["billable_share"]:
        assert (value is None) == (month in hybrid_months)
    # Enrollment and billing stay the practice's under this hybrid: its series has them every month.
    assert all("billing" in practice.functions_by_month[m] for m in hybrid_months)
    assert all(v is not None for _, v in practice.series["new_enrollments"])
    assert all(v is None for _, v in partner.series["new_enrollments"])
    # The work each party's staff did: Summit logs minutes only in its months.
    assert all(partner.work[m]["minutes"] > 0 for m in hybrid_months)
    assert all(
        partner.work[m.month]["minutes"] == 0 for m in completed(health) if m.month < f"{world.HYBRID_FROM:%Y-%m}"
    )


def test_model_change_shows_before_and_after(history):
    health = program_health(history[world.RIVERBEND], months=6)
    change = health.change
    assert change is not None and change.effective_from == world.HYBRID_FROM
    assert change.before == "In-house" and change.after.startswith("Hybrid")
    assert change.after_figures["billable_share"] > change.before_figures["billable_share"]
    assert completed(health)[0].model == "In-house"


def test_minutes_distribution_counts_every_enrolled_patient(history):
    for m in program_health(history[world.CEDAR], months=6).months:
        assert sum(m.buckets.values()) == m.enrolled
        assert m.billable <= m.enrolled
        billable_buckets = m.buckets["20–39"] + m.buckets["40–59"] + m.buckets["60+"]
        if not m.in_progress:
            assert billable_buckets >= m.billable


def test_health_page_for_the_practice_and_its_partner(history, login):
    riverbend, cedar = history[world.RIVERBEND], history[world.CEDAR]
    page = login("rita.owner").get(f"/practices/{riverbend.id}/health/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Summit Care Partners" in text and "Riverbend Internal Medicine" in text
    assert 'id="before-after"' in text and "<svg" in text
    assert login("sam.lead").get(f"/practices/{riverbend.id}/health/").status_code == 200
    assert login("sam.lead").get(f"/practices/{cedar.id}/health/").status_code == 404
    flagged = login("hank.owner").get(f"/practices/{cedar.id}/health/?months=6").content.decode()
    assert "Drift detected" in flagged and "reaching a billable month fell" in flagged
    assert login("hank.owner").get(f"/practices/{cedar.id}/health/?months=x").status_code == 422


def test_health_api_and_cli_agree(history, login, capsys):
    cedar = history[world.CEDAR]
    api = login("hank.owner").get(f"/api/practices/{cedar.id}/health?months=6").json()
    call_command("health", "--practice", world.CEDAR, "--months", "6", "--json")
    cli = json.loads(capsys.readouterr().out)
    assert api == cli
    assert api["drifting"] is True
    assert {d["figure"] for d in api["drift"]} >= {"billable_share"}
    assert login("sam.lead").get(f"/api/practices/{cedar.id}/health").status_code == 404


def test_many_practices_read_together_give_each_practices_own_figures(history):
    """A partner's workspace reads every practice's rows at once (time zones differ: each keeps its own
    months); the figures are those of one practice read alone."""
    practices = sorted((o for o in history.values() if o.kind == "practice"), key=lambda o: o.slug)
    practices[0].time_zone = "Pacific/Honolulu"  # a practice far from the others: the widest window is shared
    practices[0].save(update_fields=["time_zone"])
    together = program_health_many(practices, months=6)
    for practice in practices:
        alone = program_health(practice, months=6)
        assert together[practice.id].as_dict() == alone.as_dict(), practice.slug
    # Without revenue (the workspace's consistency table): the same series and drift, only the capture rate
    # (captured over potential revenue) is left out.
    without_revenue = program_health_many(practices, months=4, revenue=False)
    for practice in practices:
        alone, quick = program_health(practice, months=4), without_revenue[practice.id]
        assert [p.series["billable_share"] for p in quick.parties] == [
            p.series["billable_share"] for p in alone.parties
        ]
        assert [p.drift for p in quick.parties] == [p.drift for p in alone.parties]
        assert all(m.revenue_captured is None and m.capture_rate is None for m in quick.months)
