"""The model-fit assessment for a practice: prefilled and calibrated from its own figures, kept, shown as a page
and a PDF, and applied as a new responsibility-matrix version that routes work from its effective date."""

import datetime as dt
import json
import statistics
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone
from django.utils.html import escape
from tests.factories.pages import QUESTIONNAIRE

from ccmops.access.operating_model import Function, Preset
from ccmops.assessment.models import ModelFitAssessment
from ccmops.assessment.services import measured_figures
from ccmops.assessment.services import run as run_assessment
from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.organizations.models import Engagement, Organization, ResponsibilityMatrix, User
from ccmops.organizations.services import record_engagement
from ccmops.patients.scope import scope_for
from ccmops.reporting.metrics import program_health
from ccmops.timetracking.models import TimeEntry
from ccmops.worklist.queries import worklist

FORM = {
    "panel_patients": 1400,
    "medicare_share_pct": 38,
    "eligible_patients": "",
    "expected_enrollment_pct": 45,
    "ramp_months": 6,
    "staff_1_role": "RN",
    "staff_1_hours": 6,
    "staff_1_cost": 44,
    "dedicated_roles": 2,
    "documentation_habits": 3,
    "time_tracking_habits": 2,
    "leadership_focus": 2,
    "desire_for_control": 3,
    "managed_price": 45,
    "hybrid_monthly_price": 32,
    "hybrid_outreach_price": 24,
    "partner_consistency_pct": 85,
    "use_measured": "on",
    "seed": 7,
}


def next_month() -> dt.date:
    return (timezone.localdate().replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def test_measured_figures_come_from_the_practice(history):
    cedar = history[world.CEDAR]
    figures = measured_figures(cedar)
    measured = figures["measured"]
    health = program_health(cedar, months=6)
    done = [m for m in health.months if not m.in_progress and m.enrolled]
    assert measured["months"] == len(done) and measured["enrolled"] == done[-1].enrolled
    assert measured["by_party"] == "practice"
    assert measured["billable_share"] == round(statistics.fmean(m.billable_share for m in done[-3:]), 3)
    assert figures["staff"] == [{"role": "RN", "hours_per_week": 6.0, "cost_per_hour": 38.0}]
    assert measured["hours_per_patient_month"] > 0


def test_owner_runs_views_prints_and_applies_an_assessment(history, login):
    cedar, summit = history[world.CEDAR], history[world.SUMMIT]
    owner = login("hank.owner")
    form_page = owner.get(f"/practices/{cedar.id}/assessments/new/")
    assert form_page.status_code == 200 and "Measured over" in form_page.content.decode()
    bad = owner.post(f"/practices/{cedar.id}/assessments/new/", {**FORM, "medicare_share_pct": 130})
    assert bad.status_code == 200 and ModelFitAssessment.objects.count() == 0
    response = owner.post(f"/practices/{cedar.id}/assessments/new/", FORM)
    assert response.status_code == 302
    record = ModelFitAssessment.objects.get()
    assert record.source == "measured" and record.questionnaire["measured"]["by_party"] == "practice"
    assert record.recommended != Preset.IN_HOUSE.value  # 6 h/week and a drifting program cannot carry it
    page = owner.get(f"/assessments/{record.id}/").content.decode()
    assert record.result["recommended_label"] in page and "Apply this model" in page
    for reason in record.result["reasons"]:
        assert escape(reason) in page
    pdf = owner.get(f"/assessments/{record.id}/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"

    # Apply hybrid from next month: Summit needs an engagement first, then the matrix gets a new version.
    effective = next_month()
    refused = owner.post(
        f"/assessments/{record.id}/apply/",
        {"model": Preset.HYBRID_PARTNER_MONTHLY.value, "effective_from": effective.isoformat()},
    )
    assert refused.status_code == 422 and "engagement" in refused.content.decode()
    record_engagement(practice=cedar, partner=summit, starts_on=effective, by=User.objects.get(username="admin"))
    assert login("gwen.rn").post(f"/assessments/{record.id}/apply/", {"model": "managed"}).status_code == 403
    versions_before = ResponsibilityMatrix.objects.filter(practice=cedar).count()
    # assessed on the evening of November 30 in the practice's zone: December 1 already in UTC
    ModelFitAssessment.objects.filter(pk=record.pk).update(created_at=dt.datetime(2026, 12, 1, 3, 30, tzinfo=dt.UTC))
    applied = owner.post(
        f"/assessments/{record.id}/apply/",
        {"model": Preset.HYBRID_PARTNER_MONTHLY.value, "effective_from": effective.isoformat()},
    )
    assert applied.status_code == 302
    latest = ResponsibilityMatrix.objects.filter(practice=cedar).order_by("-version").first()
    assert ResponsibilityMatrix.objects.filter(practice=cedar).count() == versions_before + 1
    assert (latest.preset, latest.effective_from, latest.partner_id) == ("hybrid_partner_monthly", effective, summit.id)
    assert f"model-fit assessment #{record.id} of 2026-11-30 " in latest.reason  # the practice's day
    record.refresh_from_db()
    assert record.applied_matrix_id == latest.id

    # Work routes to the partner from the effective date, not before; the in-house history stays.
    pat = User.objects.get(username="pat.rn")
    before = scope_for(pat, on=effective - dt.timedelta(days=1))
    after = scope_for(pat, on=effective)
    assert before.decision.grant_for(cedar.id, Function.MONTHLY_OUTREACH) is None
    assert after.decision.grant_for(cedar.id, Function.MONTHLY_OUTREACH) is not None
    assert after.decision.grant_for(cedar.id, Function.BILLING) is None
    rows = worklist(after, pat, on=effective, mine=False)
    assert {r.enrollment.practice_id for r in rows} >= {cedar.id}
    gwen = User.objects.get(username="gwen.rn")
    assert scope_for(gwen, on=effective).decision.grant_for(cedar.id, Function.MONTHLY_OUTREACH) is None
    health = program_health(cedar, months=3, until=effective)
    assert health.months[-1].model.startswith("Hybrid") and health.months[0].model == "In-house"
    assert {p.organization.slug for p in health.parties} == {world.CEDAR, world.SUMMIT}


def test_assessment_cli_and_api(history, login, tmp_path, capsys):
    questionnaire = {
        "panel_patients": 1500,
        "medicare_share": 0.35,
        "expected_enrollment_rate": 0.5,
        "staff": [],
        "discipline": dict.fromkeys(
            ("dedicated_roles", "documentation_habits", "time_tracking_habits", "leadership_focus"), 2
        ),
        "desire_for_control": 2,
        "pricing": {
            "managed_per_patient_month": 45,
            "hybrid_monthly_per_patient_month": 32,
            "hybrid_outreach_per_patient_month": 24,
        },
    }
    path = tmp_path / "q.json"
    path.write_text(json.dumps(questionnaire))
    call_command("assess", str(path))
    cli = json.loads(capsys.readouterr().out)
    assert cli["recommended"] == "managed"
    api = login("hank.owner").post("/api/assessments/evaluate", questionnaire, content_type="application/json")
    assert api.status_code == 200 and api.json() == cli
    bad = login("hank.owner").post(
        "/api/assessments/evaluate", {**questionnaire, "medicare_share": 2}, content_type="application/json"
    )
    assert bad.status_code == 422 and "medicare_share" in bad.json()["detail"]
    # Found by schemathesis: a body that is not UTF-8 was a server error.
    latin = login("hank.owner").post("/api/assessments/evaluate", b'"\x97"', content_type="application/json")
    assert latin.status_code == 422 and "not UTF-8" in latin.json()["detail"]
    cedar = history[world.CEDAR]
    kept = login("hank.owner").post(
        f"/api/practices/{cedar.id}/assessments",
        {"questionnaire": questionnaire, "use_measured": True},
        content_type="application/json",
    )
    assert kept.status_code == 201
    body = kept.json()
    assert ModelFitAssessment.objects.get(id=body["id"]).source == "measured"
    assert login("sam.lead").get(f"/api/assessments/{body['id']}").status_code == 404
    assert login("hank.owner").get(f"/api/assessments/{body['id']}").json()["recommended"] == body["recommended"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"panel_patients": 10,\n "medicare_share": }')
    from ccmops.errors import InvalidInput

    try:
        call_command("assess", str(broken))
    except InvalidInput as exc:
        assert "line 2" in str(exc) and "broken.json" in str(exc)
    else:
        raise AssertionError("a malformed questionnaire must be refused")


def test_partner_workspace_capacity_and_hours_behind(history, login):
    lakeside = history[world.LAKESIDE]
    data = login("sam.lead").get("/api/workspace").json()
    rows = {r["practice"]: r for r in data["practices"]}
    assert set(rows) == {world.RIVERBEND, world.LAKESIDE}
    assert rows[world.RIVERBEND]["owner"] == world.SUMMIT and rows[world.RIVERBEND]["ours"] is True
    # Hours behind is the pro-rated target minus minutes counted, never negative, and adds up over practices.
    for r in rows.values():
        expected = max(0.0, r["prorated_target_minutes"] - r["actual_minutes"]) / 60
        assert abs(r["hours_behind"] - expected) <= 0.06
        assert r["target_minutes"] == 20 * r["patients"]
    assert data["total"]["patients"] == sum(r["patients"] for r in rows.values())
    staff = {s["username"]: s for s in data["staff"]}
    assert set(staff) == {"pat.rn", "lee.lpn"}
    assert staff["pat.rn"]["committed_hours_per_week"] == 30.0
    assert sum(s["patients"] for s in staff.values()) <= data["total"]["patients"]
    page = login("sam.lead").get("/workspace/").content.decode()
    assert "Riverbend Internal Medicine" in page and "Lakeside Medical Group" in page and "Hours behind" in page
    assert "Consistency of Summit Care Partners by practice" in page and "/workspace/consistency/?org=" in page
    lead = login("sam.lead")
    table = lead.get(f"/workspace/consistency/?org={world.SUMMIT}", HTTP_HX_REQUEST="true").content.decode()
    assert table.strip().startswith('<table id="party-consistency">') and "Riverbend Internal Medicine" in table
    alone = lead.get(f"/workspace/consistency/?org={world.SUMMIT}").content.decode()
    assert "<title>Consistency by practice — Summit Care Partners" in alone and 'id="party-consistency"' in alone
    assert login("pat.rn").get("/workspace/consistency/").status_code == 403
    # The ops lead sets a staff member's committed hours; a care manager has no workspace.
    membership = next(m for m in history[world.SUMMIT].memberships.all() if m.user.username == "lee.lpn")
    login("sam.lead").post(f"/workspace/staff/{membership.id}/hours/", {"hours": "18.5"})
    membership.refresh_from_db()
    assert str(membership.committed_hours_per_week) == "18.5"
    audited = AuditEvent.objects.filter(object_type="staff", object_id=str(membership.user_id)).latest("id")
    assert audited.username == "sam.lead" and audited.detail["hours"] == "18.5" and audited.detail["was"] == "24.0"
    assert login("sam.lead").post(f"/workspace/staff/{membership.id}/hours/", {"hours": "99"}).status_code == 422
    assert login("pat.rn").get("/workspace/").status_code == 403
    cedar_member = Organization.objects.get(slug=world.CEDAR).memberships.first()
    assert login("sam.lead").post(f"/workspace/staff/{cedar_member.id}/hours/", {"hours": "5"}).status_code == 404
    # Per-practice worklist from the workspace: only that practice's patients.
    combined = login("pat.rn").get("/worklist/?team=1").content.decode()
    assert "Lakeside Medical Group" in combined and "Riverbend Internal Medicine" in combined
    one = login("pat.rn").get(f"/worklist/?team=1&practice={lakeside.id}").content.decode()
    assert "Lakeside Medical Group" in one and "Riverbend Internal Medicine ·" not in one
    assert login("pat.rn").get(f"/worklist/?practice={history[world.MAPLE].id}").status_code == 404
    # The practice's own staff in the hybrid model see their practice's figures, the partner's among them.
    assert login("rita.owner").get(f"/api/workspace?org={world.RIVERBEND}").json()["practices"][0]["ours"] is False


def test_ops_lead_designates_care_managers_one_by_one_and_by_capacity(history, login):
    from ccmops.compliance.models import AuditEvent
    from ccmops.patients.models import Patient
    from ccmops.reporting.assignment import unassigned

    summit, maple = history[world.SUMMIT], history[world.MAPLE]
    practices = [history[world.RIVERBEND], history[world.LAKESIDE]]
    today = timezone.localdate()
    waiting = list(unassigned(summit, practices, today))
    assert len(waiting) >= 2
    lead = login("sam.lead")
    page = lead.get("/workspace/").content.decode()
    assert 'id="unassigned"' in page and escape(str(waiting[0])) in page
    lee = User.objects.get(username="lee.lpn")
    lead.post("/workspace/assign/", {"org": summit.slug, "patient": waiting[0].id, "staff": lee.id})
    assert Patient.objects.get(pk=waiting[0].pk).care_manager == lee
    assert AuditEvent.objects.filter(patient=waiting[0], detail__care_manager="lee.lpn").exists()
    # Not to someone outside Summit, not for a practice Summit does not serve.
    maya = User.objects.get(username="maya.ma")
    refused = lead.post("/workspace/assign/", {"org": summit.slug, "patient": waiting[1].id, "staff": maya.id})
    assert refused.status_code == 422
    maple_patient = Patient.objects.filter(practice=maple).first()
    assert (
        lead.post("/workspace/assign/", {"org": summit.slug, "patient": maple_patient.id, "staff": lee.id}).status_code
        == 404
    )
    # Balance the rest: every waiting patient gets one of Summit's care managers.
    lead.post("/workspace/balance/", {"org": summit.slug})
    assert list(unassigned(summit, practices, today)) == []
    now_assigned = Patient.objects.filter(pk__in=[p.pk for p in waiting]).select_related("care_manager")
    assert {p.care_manager.username for p in now_assigned} <= {"pat.rn", "lee.lpn"}
    assert login("pat.rn").post("/workspace/balance/", {"org": summit.slug}).status_code == 404


def test_applying_a_partner_model_engages_the_chosen_partner_in_the_same_step(history, login):
    cedar = Organization.objects.get(slug=world.CEDAR)
    summit = Organization.objects.get(slug=world.SUMMIT)
    owner = login("hank.owner")
    record = run_assessment(practice=cedar, questionnaire=QUESTIONNAIRE, by=User.objects.get(username="hank.owner"))
    page = owner.get(f"/assessments/{record.id}/").content.decode()
    assert 'id="partner"' in page and summit.name in page  # no partner engaged: the form offers one
    effective = next_month()
    form = {"model": Preset.HYBRID_PARTNER_MONTHLY.value, "effective_from": effective.isoformat()}
    refused = owner.post(f"/assessments/{record.id}/apply/", form)
    assert refused.status_code == 422 and 'id="apply-error"' in refused.content.decode()  # on the same page
    applied = owner.post(f"/assessments/{record.id}/apply/", {**form, "partner": summit.slug})
    assert applied.status_code == 302
    latest = ResponsibilityMatrix.objects.filter(practice=cedar).order_by("-version").first()
    assert (latest.preset, latest.partner_id, latest.effective_from) == ("hybrid_partner_monthly", summit.id, effective)
    engagement = Engagement.objects.get(practice=cedar, partner=summit)
    assert engagement.starts_on == effective and f"#{record.id}" in engagement.note


def test_measured_figures_replace_assumptions_only_when_the_latest_months_carry_work(history):
    maple = Organization.objects.get(slug=world.MAPLE)
    assert measured_figures(maple)["measured"]["months"] >= 3  # six months of Nora's recorded work
    # Enrolled patients, but no work recorded in the latest two completed months (kept on paper, say): the
    # assessment cannot tell that from a program that stopped, so it uses the answers.
    zone = ZoneInfo(maple.time_zone)
    this_month = timezone.localtime(timezone.now(), zone).date().replace(day=1)
    two_ago = (this_month - dt.timedelta(days=32)).replace(day=1)
    since = dt.datetime.combine(two_ago, dt.time(), tzinfo=zone)
    TimeEntry.objects.filter(practice=maple, start__gte=since).update(voided_at=timezone.now())
    figures = measured_figures(maple)
    assert "measured" not in figures
    assert figures["measured_withheld"].startswith("Measured figures are not used: no work is recorded in")
    assert f"{two_ago:%Y-%m}" in figures["measured_withheld"]
    cedar = Organization.objects.get(slug=world.CEDAR)  # six months of work, drifting
    assert measured_figures(cedar)["measured"]["months"] >= 3 and "measured_withheld" not in measured_figures(cedar)
