"""Evaluating a month runs as a job in short steps; two billers cannot approve over each other."""

import pytest
from django.core.management import call_command
from tests.factories.billing import previous_month
from tests.factories.session import mfa_done

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import begin_evaluation, close_month, evaluate_step, summarize
from ccmops.billing.models import PatientMonthDecision
from ccmops.demo import world
from ccmops.errors import Conflict
from ccmops.jobs.models import Job
from ccmops.jobs.worker import Worker
from ccmops.months.models import MonthClose
from ccmops.organizations.models import Membership, Organization, User


def biller_client(client, username):
    client.force_login(User.objects.get(username=username))
    return mfa_done(client)


def test_steps_decide_everyone_once_and_equal_a_one_shot_close(demo_activity, db):
    month, _ = previous_month()
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    close = begin_evaluation(practice=riverbend, month=month)
    assert (close.status, close.progress_done, close.version) == ("evaluating", 0, 1)
    total = close.progress_total
    assert total >= 3
    assert begin_evaluation(practice=riverbend, month=month).pk == close.pk  # a second start joins the run
    try:
        approve_and_close(practice=riverbend, month=month, by=None, expected_version=close.version)
    except Conflict as exc:
        assert f"being evaluated (0 of {total} patients)" in str(exc)
    else:
        raise AssertionError("approval during an evaluation must be refused")
    steps = 0
    while close.status == "evaluating":
        close = evaluate_step(practice=riverbend, month=month, limit=1)
        steps += 1
    assert steps == total + 1 and close.progress_done == total and close.status == "reviewing"
    stepped = {d.patient_id: (d.status, d.decision["lines"]) for d in PatientMonthDecision.objects.filter(month=month)}
    one_shot = close_month(practice=riverbend, month=month)
    assert {
        d.patient_id: (d.status, d.decision["lines"]) for d in PatientMonthDecision.objects.filter(month=month)
    } == (stepped)
    assert one_shot == summarize(riverbend, month)
    assert MonthClose.objects.get(practice=riverbend, month=month).version == 2


def test_web_evaluation_runs_as_a_job_with_progress_and_api_reports_202_then_200(demo_activity, db, client, settings):
    settings.CCMOPS_JOBS_INLINE = False  # queued for a worker, as in production
    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    c = biller_client(client, "ben.biller")
    assert c.post(f"/practices/{maple.id}/months/{month}/close/").status_code == 302
    job = Job.objects.get(kind="evaluate", practice=maple)
    page = c.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert f'id="job-{job.id}"' in page and "Waiting for a worker" in page and "Ben Arnaud" in page
    # a second press while it waits joins the same job
    assert c.post(f"/practices/{maple.id}/months/{month}/close/").status_code == 302
    assert Job.objects.filter(kind="evaluate", practice=maple).count() == 1
    # approving while the evaluation waits is refused with its reason
    refused = c.post(f"/practices/{maple.id}/months/{month}/approve/", {"version": "1"})
    assert "is waiting for a worker; approve once the results are in" in c.get(refused["Location"]).content.decode()
    api = c.post(f"/api/practices/{maple.id}/months/{month}/close?wait_seconds=0")
    assert api.status_code == 202 and api.json()["id"] == str(job.id) and api.json()["status"] == "queued"
    assert Worker(interval=0, batch=True).run() == 1
    poll = c.get(f"/jobs/{job.id}/?follow=1", HTTP_HX_REQUEST="true")
    assert poll.status_code == 204 and poll["HX-Redirect"].endswith(f"/months/{month}/")
    assert MonthClose.objects.get(practice=maple, month=month).status == "reviewing"
    shown = c.get(f"/api/jobs/{job.id}").json()
    assert shown["status"] == "succeeded" and shown["result"]["patient_months"] == 3 and shown["done"] == 3
    settings.CCMOPS_JOBS_INLINE = True
    done = c.post(f"/api/practices/{maple.id}/months/{month}/close?wait_seconds=5")
    assert done.status_code == 200 and done.json()["patient_months"] == 3 and done.json()["version"] == 2


def test_two_billers_cannot_approve_over_each_other(demo_activity, db, client):
    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    ben = User.objects.get(username="ben.biller")
    second = User.objects.create_user("bea.biller", password="x" * 16, first_name="Bea", last_name="Biller")
    Membership.objects.create(user=second, organization=maple, role="biller")
    close_month(practice=maple, month=month, by=ben)
    seen_by_ben = MonthClose.objects.get(practice=maple, month=month).version
    for d in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        d.review = "overridden"
        d.override_action = "bill"
        d.save()
    # Bea re-evaluates after Ben opened the page: Ben's approval names a version that no longer exists.
    close_month(practice=maple, month=month, by=second)
    try:
        approve_and_close(practice=maple, month=month, by=ben, expected_version=seen_by_ben)
    except Conflict as exc:
        assert "re-evaluated after you opened it" in str(exc) and "Bea Biller" in str(exc)
    else:
        raise AssertionError("a stale approval must be refused")
    bea = biller_client(client, "bea.biller")
    for d in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        bea.post(f"/decisions/{d.id}/override/", {"action": "bill", "reason": "Reviewed with the practitioner"})
    current = MonthClose.objects.get(practice=maple, month=month).version
    stale = bea.post(f"/practices/{maple.id}/months/{month}/approve/", {"version": str(current - 1)})
    assert "re-evaluated after you opened it" in bea.get(stale["Location"]).content.decode()
    assert bea.post(f"/practices/{maple.id}/months/{month}/approve/", {"version": str(current)}).status_code == 302
    closed = MonthClose.objects.get(practice=maple, month=month)
    assert closed.status == "closed" and closed.closed_by == second
    try:
        approve_and_close(practice=maple, month=month, by=ben, expected_version=current)
    except Conflict as exc:
        assert "already closed by Bea Biller" in str(exc)
    else:
        raise AssertionError("closing twice must be refused")
    # A closed month is not evaluated again: the job fails with the refusal, and the API answers with it.
    api = biller_client(client, "ben.biller")
    refused = api.post(f"/api/practices/{maple.id}/months/{month}/close")
    assert refused.status_code == 409 and "is closed" in refused.json()["detail"]


def test_a_closed_months_revenue_is_kept_and_equals_a_fresh_computation(demo_activity, db):
    from django.core.cache import cache

    from ccmops.billing import revenue

    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    ben = User.objects.get(username="ben.biller")
    close_month(practice=maple, month=month, by=ben)
    for d in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        d.review, d.override_action = "overridden", "bill"
        d.save()
    open_month = revenue.month_revenue(maple, month)  # in review: computed, not kept
    assert revenue.cache_key(maple, month) is None
    approve_and_close(practice=maple, month=month, by=ben)
    assert revenue.cache_key(maple, month) is not None  # kept once closed
    key = revenue.cache_key(maple, month)
    cache.delete(key)
    first = revenue.month_revenue(maple, month)
    assert cache.get(key) == first == revenue._month_revenue(maple, month) == open_month
    assert first.captured > 0


@pytest.mark.django_db(transaction=True)
def test_a_close_decided_by_several_processes_equals_one_process(demo_activity, capsys):
    """On PostgreSQL `ccmops month close --workers 2` decides chunks in forked processes while this one writes
    them in order with the cursor; the decisions and lines equal a one-process close."""
    from django.db import connection

    from ccmops.billing.evaluation import evaluate_in_processes
    from ccmops.billing.models import ClaimLine

    month, _ = previous_month()
    riverbend = Organization.objects.get(slug=world.RIVERBEND)

    def snapshot():
        decisions = sorted(
            PatientMonthDecision.objects.filter(month=month).values_list("patient_id", "status", "review", "decision")
        )
        lines = sorted(
            ClaimLine.objects.filter(month=month).values_list("patient_id", "code", "units", "allowed_amount")
        )
        return decisions, lines

    one = close_month(practice=riverbend, month=month)
    expected = snapshot()
    ClaimLine.objects.filter(month=month).delete()
    PatientMonthDecision.objects.filter(month=month).delete()
    close = begin_evaluation(practice=riverbend, month=month)
    used = evaluate_in_processes(practice=riverbend, month=month, workers=2, chunk=1)
    assert used == (2 if connection.vendor == "postgresql" else 0)
    close = MonthClose.objects.get(pk=close.pk)
    if used:
        assert close.status == "evaluating" and close.progress_done == close.progress_total
    while close.status == "evaluating":
        close = evaluate_step(practice=riverbend, month=month)
    assert close.status == "reviewing" and close.progress_done == close.progress_total
    assert snapshot() == expected and summarize(riverbend, month) == one
    with pytest.raises(SystemExit):
        call_command("month", "close", "--practice", world.RIVERBEND, "--month", month, "--workers", "0")
    assert "--workers: expected 1 or more" in capsys.readouterr().err


def test_a_month_in_progress_is_previewed_but_cannot_be_closed(demo_activity, db, client, monkeypatch):
    """Its service period is the whole calendar month (R-TIME-1): it may be evaluated to see where it stands, but
    approving it is refused until it has ended in the practice's time zone — by the service, the web and the API."""
    import datetime as dt
    import zoneinfo

    from django.utils import timezone

    from ccmops.billing import evaluation as close_module

    maple = Organization.objects.get(slug=world.MAPLE)
    ben = User.objects.get(username="ben.biller")
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(maple.time_zone))
    month = f"{local.year:04d}-{local.month:02d}"
    first_next = (local.replace(day=28) + dt.timedelta(days=4)).replace(day=1).date()
    c = biller_client(client, "ben.biller")
    assert 'id="closable-from"' in c.get(f"/practices/{maple.id}/months/{month}/").content.decode()  # before any run
    close_month(practice=maple, month=month, by=ben)
    for d in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        d.review, d.override_action = "overridden", "bill"
        d.save()
    with pytest.raises(Conflict, match=f"{month} has not ended in {maple.time_zone}.*from {first_next:%Y-%m-%d}"):
        approve_and_close(practice=maple, month=month, by=ben)
    page = c.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert 'id="closable-from"' in page and f"closed from {first_next:%Y-%m-%d}" in page
    assert f"Approve and close {month}" not in page
    version = MonthClose.objects.get(practice=maple, month=month).version
    refused = c.post(f"/api/practices/{maple.id}/months/{month}/approve?version={version}")
    assert refused.status_code == 409 and "has not ended" in refused.json()["detail"]
    assert MonthClose.objects.get(practice=maple, month=month).status == "reviewing"
    # One second before the month ends in the practice's zone it is still refused; at its end it closes.
    end = dt.datetime.combine(first_next, dt.time(), tzinfo=zoneinfo.ZoneInfo(maple.time_zone))
    monkeypatch.setattr(close_module.timezone, "now", lambda: end - dt.timedelta(seconds=1))
    assert close_module.closable_from(maple, month) == first_next
    monkeypatch.setattr(close_module.timezone, "now", lambda: end.astimezone(dt.UTC))
    assert close_module.closable_from(maple, month) is None
    assert approve_and_close(practice=maple, month=month, by=ben).status == "closed"
