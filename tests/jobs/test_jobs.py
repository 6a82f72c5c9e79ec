"""The job system in one process: joining, retries with backoff, refusals, fencing, recovery of lost jobs, the
schedule's once-per-period runs, who may see a job, and the jobs that pages start (export, import, screening)."""

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from tests.factories.billing import previous_month
from tests.factories.session import mfa_done

from ccmops.billing.evaluation import close_month
from ccmops.billing.models import PatientMonthDecision
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.interop.csv_read import TEMPLATE
from ccmops.jobs import kinds
from ccmops.jobs.kinds import Schedule, job_kind
from ccmops.jobs.models import Job
from ccmops.jobs.service import BACKOFF_SECONDS, execute, recover_lost, start
from ccmops.jobs.worker import Worker, remove_expired_files, tick_schedules
from ccmops.organizations.models import Organization, User

CALLS: list[str] = []


@job_kind("test-flaky", max_attempts=3)
def flaky(ctx, *, note: str) -> dict:
    CALLS.append(note)
    raise RuntimeError(f"the EHR timed out ({note})")


@job_kind("test-refused")
def refused(ctx) -> dict:
    raise InvalidInput("month: expected YYYY-MM, got '2026-13'")


@job_kind("test-lost", atomic=True)
def loses_its_lease(ctx) -> dict:
    Organization.objects.create(kind="practice", slug="written-by-a-lost-attempt", name="Lost")
    Job.objects.filter(pk=ctx.job.pk).update(token="another-attempt")  # another worker took it over meanwhile
    return {}


@job_kind("test-noop")
def noop(ctx, **params) -> dict:
    ctx.progress(1, 1, step="nothing to do")
    return {"ok": True}


def claim_and_run() -> str:
    worker = Worker(interval=0, schedules=False)
    job_id = worker.claim()
    assert job_id is not None, "a job is ready"
    return execute(job_id, worker_id=worker.id)


def test_the_same_work_asked_twice_while_it_waits_is_one_job(db):
    first = start("test-noop", label="One", key="same", run_here=False)
    again = start("test-noop", label="Two", key="same", run_here=False)
    assert again.pk == first.pk and Job.objects.count() == 1
    assert claim_and_run() == "succeeded"
    assert start("test-noop", label="Three", key="same", run_here=False).pk != first.pk  # done: new work


def test_a_failing_job_retries_with_backoff_then_fails_with_its_error(db):
    CALLS.clear()
    job = start("test-flaky", label="Flaky", params={"note": "x"}, run_here=False)
    before = timezone.now()
    assert claim_and_run() == "retrying"
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 1 and job.retries == 1
    assert job.error == "Attempt 1 of 3 failed (RuntimeError: the EHR timed out (x)); trying again."
    row = DBTaskResult.objects.get(id=job.task_id)
    assert row.status == TaskResultStatus.READY and row.run_after >= before + dt.timedelta(seconds=BACKOFF_SECONDS)
    assert Worker(interval=0, schedules=False).claim() is None  # not before its time
    DBTaskResult.objects.filter(id=job.task_id).update(run_after=timezone.now())
    assert claim_and_run() == "retrying"
    job.refresh_from_db()
    assert job.next_attempt_at >= timezone.now() + dt.timedelta(seconds=2 * BACKOFF_SECONDS - 2)  # doubled
    DBTaskResult.objects.filter(id=job.task_id).update(run_after=timezone.now())
    assert claim_and_run() == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 3 and job.error_status == 500
    assert job.error == "RuntimeError: the EHR timed out (x)" and CALLS == ["x", "x", "x"]
    assert DBTaskResult.objects.get(id=job.task_id).status == TaskResultStatus.FAILED


def test_a_refusal_fails_at_once_with_its_status(db):
    job = start("test-refused", label="Refused", run_here=False)
    assert claim_and_run() == "failed"
    job.refresh_from_db()
    assert job.attempts == 1 and job.error_status == 422 and "expected YYYY-MM" in job.error


def test_an_attempt_that_lost_its_lease_keeps_nothing(db):
    job = start("test-lost", label="Lost", run_here=False)
    assert claim_and_run() == "lost"
    assert not Organization.objects.filter(slug="written-by-a-lost-attempt").exists()  # rolled back
    job.refresh_from_db()
    assert job.status == "running" and job.result is None  # not marked done by the attempt that lost it


def test_a_job_whose_worker_stopped_is_queued_again_and_fails_after_its_attempts(db):
    job = start("test-noop", label="Orphan", run_here=False)
    Job.objects.filter(pk=job.pk).update(
        status="running",
        token="dead",
        attempts=1,
        worker_id="host-1",
        lease_until=timezone.now() - dt.timedelta(seconds=1),
    )
    DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.RUNNING)
    assert recover_lost() == 1
    job.refresh_from_db()
    assert job.status == "queued" and job.retries == 1 and "(host-1) stopped during attempt 1" in job.error
    assert claim_and_run() == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and job.result == {"ok": True}
    again = start("test-noop", label="Killed three times", run_here=False)
    Job.objects.filter(pk=again.pk).update(
        status="running", token="t", attempts=3, lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert recover_lost() == 0
    again.refresh_from_db()
    assert again.status == "failed" and "stopped 3 times" in again.error


def test_a_schedule_runs_once_per_period_however_many_workers_tick(db, monkeypatch):
    monkeypatch.setattr(
        kinds, "SCHEDULES", [Schedule("test-noop", "day", lambda now: [(None, {}, "Nightly nothing")], at_hour=2)]
    )
    night = dt.datetime(2026, 12, 6, 1, 30, tzinfo=dt.UTC)
    assert tick_schedules(night) == 0  # before its hour
    morning = night.replace(hour=3)
    assert tick_schedules(morning) == 1 and tick_schedules(morning.replace(hour=9)) == 0  # a second worker's tick
    assert tick_schedules(morning + dt.timedelta(days=1)) == 1
    assert sorted(Job.objects.values_list("period_key", flat=True)) == [
        "test-noop:-:2026-12-06",
        "test-noop:-:2026-12-07",
    ]


def test_the_nightly_screening_covers_each_practice_with_patients(demo, db):
    tick_schedules(dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC))
    scheduled = Job.objects.filter(kind="screen", period_key__isnull=False)
    with_patients = set(Organization.objects.filter(patients__isnull=False).values_list("id", flat=True))
    assert {j.practice_id for j in scheduled} == with_patients and len(with_patients) >= 2
    assert all(j.label.startswith("Nightly screening of ") for j in scheduled)


def signed_in(client, username):
    client.force_login(User.objects.get(username=username))
    return mfa_done(client)


def test_a_job_is_seen_by_whoever_asked_and_the_practices_staff_only(demo, db, client):
    maple = Organization.objects.get(slug=world.MAPLE)
    job = start("test-noop", label="Maple's", practice=maple, by=User.objects.get(username="olivia.owner"))
    c = signed_in(client, "nora.rn")  # Maple's care manager
    assert c.get(f"/jobs/{job.id}/").status_code == 200 and c.get(f"/api/jobs/{job.id}").json()["status"] == "succeeded"
    outsider = signed_in(client, "rita.owner")  # Riverbend's owner
    assert outsider.get(f"/jobs/{job.id}/").status_code == 404
    assert outsider.get(f"/api/jobs/{job.id}").status_code == 404
    assert outsider.get(f"/practices/{maple.id}/jobs/").status_code == 404


def test_the_practice_export_is_a_job_whose_download_is_the_requesters_until_it_expires(
    demo, db, client, settings, tmp_path
):
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    maple = Organization.objects.get(slug=world.MAPLE)
    assert signed_in(client, "nora.rn").post(f"/practices/{maple.id}/export/fhir/").status_code == 403  # a nurse
    owner = signed_in(client, "olivia.owner")
    started = owner.post(f"/practices/{maple.id}/export/fhir/")
    job = Job.objects.get(kind="fhir-export")
    assert started["Location"] == f"/jobs/{job.id}/" and job.status == "succeeded"
    page = owner.get(started["Location"]).content.decode()
    assert f"Download {maple.slug}-fhir-export.zip" in page and "Patient:" in page
    got = owner.get(f"/jobs/{job.id}/download/")
    names = zipfile.ZipFile(io.BytesIO(b"".join(got.streaming_content))).namelist()
    assert "Patient.ndjson" in names and "Condition.ndjson" in names
    assert signed_in(client, "nora.rn").get(f"/jobs/{job.id}/download/").status_code == 404  # not hers
    Job.objects.filter(pk=job.pk).update(file_expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert remove_expired_files() == 1 and not Path(job.file_path).exists()
    assert signed_in(client, "olivia.owner").get(f"/jobs/{job.id}/download/").status_code == 404


def test_an_upload_waits_for_a_worker_then_imports(demo, db, client, settings, tmp_path):
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    settings.CCMOPS_JOBS_INLINE = False
    maple = Organization.objects.get(slug=world.MAPLE)
    owner = signed_in(client, "olivia.owner")
    header = TEMPLATE.splitlines()[0]
    csv = (
        header
        + "\n"
        + "patient,JOB-1,Queue,Ada,1948-02-03,female,,555-651-0000,medicare"
        + "," * (header.count(",") - 8)
        + "\n"
    )
    upload = io.BytesIO(csv.encode())
    upload.name = "one.csv"
    answer = owner.post(f"/practices/{maple.id}/imports/", {"kind": "csv", "file": upload})
    report = owner.get(answer["Location"]).content.decode()
    assert "Waiting for a worker" in report
    assert Worker(interval=0, batch=True, schedules=False).run() == 1
    assert "Succeeded" in owner.get(answer["Location"]).content.decode()
    assert maple.patients.filter(mrn="JOB-1").exists()


@pytest.mark.parametrize("via", ["web", "api"])
def test_screening_runs_as_a_job(demo, db, client, via):
    maple = Organization.objects.get(slug=world.MAPLE)
    c = signed_in(client, "olivia.owner")
    if via == "web":
        assert c.post(f"/practices/{maple.id}/screen/").status_code == 302
    else:
        body = c.post(f"/api/practices/{maple.id}/screen").json()
        assert body["patients"] > 0 and body["job"]
    job = Job.objects.get(kind="screen")
    assert job.status == "succeeded" and job.total == job.done == job.result["patients"]


def test_the_compliance_reviewer_verifies_the_audit_chain_from_the_audit_page(demo, db, client):
    maple = Organization.objects.get(slug=world.MAPLE)
    carl = signed_in(client, "carl.compliance")
    assert carl.post("/audit/verify/", {"practice": str(maple.id)}).status_code == 302
    job = Job.objects.get(kind="audit-verify")
    assert job.status == "succeeded" and job.result["intact"] and job.result["events_checked"] > 0
    page = carl.get("/audit/").content.decode()
    assert f'id="chain-{maple.id}"' in page and "Intact" in page and "Carl Mendes" in page
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    assert carl.post("/audit/verify/", {"practice": str(riverbend.id)}).status_code == 404  # not his practice
    assert signed_in(client, "nora.rn").post("/audit/verify/", {"practice": str(maple.id)}).status_code == 404


def test_the_export_and_a_months_audit_packets_start_from_the_api_with_a_download(
    demo_activity, db, client, settings, tmp_path
):
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    maple = Organization.objects.get(slug=world.MAPLE)
    export = signed_in(client, "olivia.owner").post(f"/api/practices/{maple.id}/exports/fhir").json()
    assert export["status"] == "succeeded" and export["download"] == f"/jobs/{export['id']}/download/"
    assert signed_in(client, "ben.biller").post(f"/api/practices/{maple.id}/exports/fhir").status_code == 403
    month, _ = previous_month()
    close_month(practice=maple, month=month)
    ben = signed_in(client, "ben.biller")
    packets = ben.post(f"/api/practices/{maple.id}/months/{month}/packets").json()
    decided = PatientMonthDecision.objects.filter(practice=maple, month=month).count()
    assert packets["result"]["packets"] == decided > 0 and packets["done"] == decided
    got = ben.get(packets["download"])
    names = zipfile.ZipFile(io.BytesIO(b"".join(got.streaming_content))).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == decided


def test_the_command_line_queues_the_export_for_the_workers(demo, db, settings, tmp_path, capsys):
    from django.core.management import call_command

    settings.CCMOPS_DATA_DIR = str(tmp_path)
    call_command("export", "fhir", "--practice", world.MAPLE, "--out", str(tmp_path / "out"), "--queue")
    job = Job.objects.get(kind="fhir-export")
    assert f"queued job {job.id}" in capsys.readouterr().out and job.status == "queued"
    assert Worker(interval=0, batch=True, schedules=False).run() == 1
    job.refresh_from_db()
    assert job.status == "succeeded" and Path(job.file_path).is_file() and job.result["resources"]["Patient"] > 0


def test_the_command_line_queues_packets_and_the_look_back(demo_activity, db, settings, tmp_path, capsys):
    from django.core.management import call_command

    settings.CCMOPS_DATA_DIR = str(tmp_path)
    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    close_month(practice=maple, month=month)
    call_command("month", "packets", "--practice", world.MAPLE, "--month", month, "--queue")
    call_command("month", "lookback", "--practice", world.MAPLE, "--from", month, "--to", month, "--queue")
    call_command("screen", "--practice", world.MAPLE, "--queue")
    assert capsys.readouterr().out.count("queued job") == 3
    assert Worker(interval=0, batch=True, schedules=False).run() == 3
    assert Job.objects.get(kind="screen").status == "succeeded"
    packets, look = Job.objects.get(kind="packets"), Job.objects.get(kind="lookback")
    assert packets.status == look.status == "succeeded"
    assert packets.result["packets"] == PatientMonthDecision.objects.filter(practice=maple, month=month).count()
    assert look.result["start"] == look.result["end"] == month


def test_a_worker_ticks_a_period_once_and_old_finished_jobs_are_forgotten(db, monkeypatch):
    from ccmops.jobs.worker import KEEP_DAYS, prune

    calls = []

    def targets(now):
        calls.append(now)
        return [(None, {}, "Nightly nothing")]

    monkeypatch.setattr(kinds, "SCHEDULES", [Schedule("test-noop", "day", targets, at_hour=2)])
    ticked: set = set()
    morning = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)
    assert tick_schedules(morning, ticked) == 1 and tick_schedules(morning, ticked) == 0
    assert len(calls) == 1  # the second tick of the period asks nothing of the database
    assert claim_and_run() == "succeeded"
    Job.objects.update(finished_at=timezone.now() - dt.timedelta(days=KEEP_DAYS + 1))
    assert prune() == 1 and not Job.objects.exists() and not DBTaskResult.objects.exists()


def test_the_nightly_preview_evaluates_the_month_in_progress_of_each_practice_with_enrollments(demo_activity, db):
    from ccmops.enrollment.models import Enrollment
    from ccmops.months.models import MonthClose
    from ccmops.months.month import Month

    tick_schedules(timezone.now().replace(hour=9))
    previews = Job.objects.filter(kind="evaluate", period_key__isnull=False)
    enrolled = set(Enrollment.objects.values_list("practice_id", flat=True))
    assert {j.practice_id for j in previews} == enrolled and all(
        j.label.startswith("Nightly preview") for j in previews
    )
    maple = Organization.objects.get(slug=world.MAPLE)
    job = previews.get(practice=maple)
    assert job.params["month"] == str(Month.current(maple.time_zone))
    Worker(interval=0, batch=True, schedules=False).run()
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert MonthClose.objects.get(practice=maple, month=job.params["month"]).status == "reviewing"
