"""Month close: decisions per patient-month, review with audited overrides, approve and lock, no duplicates."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from tests.factories.billing import previous_month, sign_note_of

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.billing.review import override
from ccmops.careplans.models import CarePlanVersion
from ccmops.demo import world
from ccmops.errors import Conflict
from ccmops.months.models import Adjustment, MonthClose
from ccmops.organizations.models import User
from ccmops.patients.coverage import claim_status, confirm_diagnosis
from ccmops.timetracking.entries import add_manual_entry
from ccmops.timetracking.models import TimeEntry


def test_close_decides_holds_and_lines(month_world):
    twyla, month, ben = month_world
    summary = close_month(practice=twyla.practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert (d.status, d.review) == ("hold", "needs_review")
    assert any(f["code"] == "CCM.CARE_PLAN.NOT_SHARED" for f in d.reasons)
    assert sorted(ClaimLine.objects.filter(patient=twyla).values_list("code", "units")) == [("99439", 1), ("99490", 1)]
    assert summary.needs_review == 1 and summary.lines == 2


def test_rerun_changes_nothing_and_duplicates_are_impossible(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    before = list(ClaimLine.objects.order_by("id").values_list("id", "code", "units", "allowed_amount"))
    close_month(practice=twyla.practice, month=month, by=ben)
    assert list(ClaimLine.objects.order_by("id").values_list("id", "code", "units", "allowed_amount")) == before
    line = ClaimLine.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimLine.objects.create(
            practice=line.practice,
            patient=line.patient,
            month=line.month,
            decision=line.decision,
            billing_practitioner=line.billing_practitioner,
            code=line.code,
            units=1,
            date_of_service=line.date_of_service,
            diagnosis_codes=[],
            allowed_amount=1,
            patient_share=0,
        )


def test_review_override_approve_and_lock(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    with pytest.raises(Conflict, match="need review"):
        approve_and_close(practice=twyla.practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    override(decision=d, action="bill", reason="Plan was handed over at the visit; scan filed late", by=ben)
    close = approve_and_close(practice=twyla.practice, month=month, by=ben)
    assert (close.status, close.closed_by) == ("closed", ben)
    with pytest.raises(Conflict, match="closed"):
        close_month(practice=twyla.practice, month=month, by=ben)
    _month, mid = previous_month()
    nora = User.objects.get(username="nora.rn")
    add_manual_entry(
        patient=twyla,
        staff=nora,
        program="ccm",
        activity="record_review",
        start=mid + dt.timedelta(days=5),
        minutes=15,
        reason="Found another paper log",
    )
    adj = Adjustment.objects.get()
    assert adj.month == month and "after" in adj.description
    assert ClaimLine.objects.filter(patient=twyla).count() == 2  # the closed claim did not change


def test_fixing_the_facts_re_evaluates(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    from ccmops.careplans.services import record_share

    _m, mid = previous_month()
    version = CarePlanVersion.objects.get(care_plan__patient=twyla, status="approved")
    record_share(version=version, method="printed", by=ben, shared_at=mid - dt.timedelta(days=29))
    close_month(practice=twyla.practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert (d.status, d.review) == ("hold", "needs_review")  # the plan is shared; the calls have no signed note
    assert [f["code"] for f in d.reasons if f["severity"] == "hold"] == [
        "CLAIM.DIAGNOSES.FROM_SNOMED",  # her problems are SNOMED CT: nobody confirmed their ICD-10-CM codes yet
        "DOC.UNSIGNED_TIME",
    ]
    for entry in TimeEntry.objects.filter(patient=twyla):
        sign_note_of(entry)  # R-DOC-1: the care manager writes and signs the notes of the month's calls
    for condition in twyla.conditions.filter(system="snomed"):  # R-DX-3: the practitioner confirms the codes
        suggestion = claim_status(condition)
        if suggestion["code"]:
            confirm_diagnosis(condition=condition, code=suggestion["code"], by=ben)
    close_month(practice=twyla.practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert (d.status, d.review) == ("ready", "none")
    approve_and_close(practice=twyla.practice, month=month, by=ben)
    assert MonthClose.objects.get().status == "closed"


def test_an_override_survives_an_unchanged_rerun_and_a_policy_change_re_decides(month_world):
    twyla, month, ben = month_world
    practice = twyla.practice
    close_month(practice=practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    override(decision=d, action="bill", reason="Plan handed over at the visit", by=ben)
    close_month(practice=practice, month=month, by=ben)
    d.refresh_from_db()
    assert (d.override_action, d.review) == ("bill", "overridden")
    year, mon = map(int, month.split("-"))
    last = dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1)
    assert last not in set(ClaimLine.objects.filter(patient=twyla).values_list("date_of_service", flat=True))

    # The practice bills every line on the last day of the month from now on: same facts, new decision.
    practice.rule_policies = {"date_of_service": "last_day_of_month"}
    practice.save()
    close_month(practice=practice, month=month, by=ben)
    d.refresh_from_db()
    assert (d.override_action, d.review) == ("", "needs_review")
    assert set(ClaimLine.objects.filter(patient=twyla).values_list("date_of_service", flat=True)) == {last}


def test_month_page_and_cli(month_world, login, capsys):
    from django.core.management import call_command

    twyla, month, _ben = month_world
    call_command("month", "close", "--practice", twyla.practice.slug, "--month", month)
    assert "1 need review" in capsys.readouterr().out
    call_command("month", "review", "--practice", twyla.practice.slug, "--month", month)
    assert "CCM.CARE_PLAN.NOT_SHARED" in capsys.readouterr().out
    page = login("ben.biller").get(f"/practices/{twyla.practice_id}/months/{month}/").content.decode()
    assert "Review queue" in page and "99490" in page
    assert login("nora.rn").get(f"/practices/{twyla.practice_id}/months/{month}/").status_code == 403


def test_enrolled_elsewhere_holds_the_month(month_world):
    from ccmops.enrollment.models import Enrollment

    twyla, month, ben = month_world
    Enrollment.objects.filter(patient=twyla).update(status="enrolled_elsewhere")
    close_month(practice=twyla.practice, month=month, by=ben)
    d = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert d.review == "needs_review"
    assert any(f["code"] == "CCM.ENROLLED_ELSEWHERE" and f["rules"] == ["R-CONS-2"] for f in d.reasons), d.reasons


def test_the_go_to_month_box_redirects_and_rejects_a_malformed_month(login, orgs):
    client = login("ben.biller")
    maple = orgs[world.MAPLE]
    go = client.get(f"/practices/{maple.id}/months/", {"month": "2026-09"})
    assert go.status_code == 302 and go["Location"] == f"/practices/{maple.id}/months/2026-09/"
    bad = client.get(f"/practices/{maple.id}/months/", {"month": "Sept"})
    assert bad.status_code == 422 and "expected YYYY-MM" in bad.content.decode()
