"""Starting, running, finishing and recovering jobs — the same path for a worker and for an inline run."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ccmops.errors import CcmopsError, Conflict, InvalidInput, NotFound, PermissionDenied
from ccmops.jobs.kinds import kind as kind_named
from ccmops.jobs.models import ACTIVE, Job
from ccmops.platform import logs

logger = logging.getLogger("ccmops.jobs")
BACKOFF_SECONDS = 10  # first retry after this; doubled for each further one


def lease_seconds() -> float:
    return float(getattr(settings, "CCMOPS_JOB_LEASE_SECONDS", 60))


def inline() -> bool:
    """Jobs run in the process that starts them (the test settings; a site without workers may choose it)."""
    return bool(getattr(settings, "CCMOPS_JOBS_INLINE", False))


class LeaseLost(Exception):
    """Another attempt holds the job now (this one's lease lapsed): its work here is rolled back."""


@task()
def run_job(job_id: str) -> None:
    """The one django-tasks task. A backend that runs tasks itself lands here; the ccmops worker claims the queue
    row and calls `execute` directly."""
    execute(job_id, worker_id="immediate")


def start(
    kind: str,
    *,
    label: str,
    practice=None,
    practice_id: int | None = None,
    by=None,
    params: dict | None = None,
    key: str = "",
    return_url: str = "",
    period_key: str | None = None,
    run_here: bool | None = None,
) -> Job:
    """Queue a job (in the caller's transaction: it exists only if the caller's change commits). The same `key`
    while a job with it waits or runs returns that job instead. With `run_here` (default: the inline setting) the
    job runs now in this process, still through its row, so pages and the API show it like any other."""
    k = kind_named(kind)
    job = Job.objects.filter(key=key, status__in=ACTIVE).first() if key else None
    if job is None:
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=kind,
                    label=label[:200],
                    practice_id=practice.pk if practice is not None else practice_id,
                    requested_by=by if getattr(by, "pk", None) else None,
                    params=params or {},
                    key=key,
                    return_url=return_url,
                    period_key=period_key,
                    max_attempts=k.max_attempts,
                )
                queued = run_job.using(queue_name=k.queue).enqueue(str(job.id))
                Job.objects.filter(pk=job.pk).update(task_id=queued.id)
                job.task_id = queued.id
        except IntegrityError:
            if period_key is not None and Job.objects.filter(period_key=period_key).exists():
                return Job.objects.get(period_key=period_key)
            job = Job.objects.filter(key=key, status__in=ACTIVE).first() if key else None
            if job is None:
                raise
            return job
    if inline() if run_here is None else run_here:
        run_now(job)
        job.refresh_from_db()
    return job


def run_now(job: Job) -> None:
    """Claim the job's queue row here and run it in this process (the CLI's default, the test settings)."""
    with transaction.atomic():
        claimed = DBTaskResult.objects.filter(id=job.task_id, status=TaskResultStatus.READY).update(
            status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=[f"inline-{os.getpid()}"]
        )
    if claimed:
        execute(str(job.id), worker_id=f"inline-{os.getpid()}")


class Context:
    """What a job's `run` receives: its params' job, and progress reporting."""

    def __init__(self, job: Job, token: str) -> None:
        self.job = job
        self.token = token
        self.finished = False

    def done(self, result) -> None:
        """Mark the job done inside the transaction of its last effects (call it there): both commit, or
        neither. Raises LeaseLost when another attempt holds the job now, which rolls that transaction back."""
        _finish(self.job, self.token, result)
        self.finished = True

    def remember(self, **values) -> None:
        """Keep a value with the job's params for a later attempt to read (e.g. which run of the work it began)."""
        self.job.params = {**self.job.params, **values}
        Job.objects.filter(pk=self.job.pk, token=self.token).update(params=self.job.params)

    def progress(self, done: int | None = None, total: int | None = None, step: str | None = None) -> None:
        """Say how far the work is. Written on the job's connection: visible at once between transactions, with
        the effects when inside one (the page then shows the step named before it)."""
        changes = {}
        if done is not None:
            changes["done"] = self.job.done = done
        if total is not None:
            changes["total"] = self.job.total = total
        if step is not None:
            changes["step"] = self.job.step = step[:200]
        if changes:
            Job.objects.filter(pk=self.job.pk, token=self.token).update(**changes)

    def folder(self) -> Path:
        """The job's own folder for the files it produces (under the data directory every process shares)."""
        path = Path(settings.CCMOPS_DATA_DIR) / "exports" / str(self.job.id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def show_when_done(self, url: str) -> None:
        """Where the page that waited for the job goes when it ends (e.g. the record the job created)."""
        self.job.return_url = url
        Job.objects.filter(pk=self.job.pk, token=self.token).update(return_url=url)

    def attach(self, path: str, name: str, *, hours: int = 24) -> None:
        """A file the job produced, offered for download to those who may see the job until it expires."""
        self.job.file_path, self.job.file_name = path, name
        self.job.file_expires_at = timezone.now() + dt.timedelta(hours=hours)
        Job.objects.filter(pk=self.job.pk, token=self.token).update(
            file_path=path, file_name=name, file_expires_at=self.job.file_expires_at
        )


def _finish(job: Job, token: str, result) -> None:
    """Mark the job done — inside the transaction of its last effects, and only if this attempt still holds it."""
    now = timezone.now()
    marked = Job.objects.filter(pk=job.pk, token=token, status="running").update(
        status="succeeded", result=result, finished_at=now, lease_until=None, error=""
    )
    if not marked:
        raise LeaseLost(str(job.pk))
    DBTaskResult.objects.filter(id=job.task_id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now, return_value=None
    )


def execute(job_id: str, *, worker_id: str) -> str:
    """Run a claimed job's attempt to its end: "succeeded", "retrying", "failed" or "lost"."""
    token = secrets.token_hex(8)
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id, status="queued").update(
        status="running",
        token=token,
        worker_id=worker_id[:64],
        attempts=F("attempts") + 1,
        lease_until=now + dt.timedelta(seconds=lease_seconds()),
        started_at=Coalesce(F("started_at"), now),
        next_attempt_at=None,
    )
    if not taken:
        return "lost"
    job = Job.objects.get(pk=job_id)
    k = kind_named(job.kind)
    ctx = Context(job, token)
    marks = [logs.job.set(str(job.pk)), logs.practice.set(str(job.practice_id or ""))]
    try:
        return _attempt(job, k, ctx, token)
    finally:
        for mark in marks:
            mark.var.reset(mark)


def _attempt(job: Job, k, ctx: Context, token: str) -> str:
    with _heartbeat(job.pk, token):
        try:
            if k.atomic:
                with transaction.atomic():
                    result = k.run(ctx, **job.params)
                    if not ctx.finished:
                        _finish(job, token, result)
            else:
                result = k.run(ctx, **job.params)
                if not ctx.finished:
                    with transaction.atomic():
                        _finish(job, token, result)
        except LeaseLost:
            logger.warning("job %s: lease lost to another attempt; this attempt's work was not kept", job.pk)
            return "lost"
        except Exception as exc:  # noqa: BLE001 - the job boundary: every failure is recorded on the job
            return _failed(job, token, exc)
    logger.info("job %s (%s) done", job.pk, job.kind)
    return "succeeded"


def _failed(job: Job, token: str, exc: Exception) -> str:
    """Retry with backoff, or fail for good: at once for an error ccmops raised on purpose (bad input, a refused
    change — running again gives the same answer), after `max_attempts` for anything else."""
    now = timezone.now()
    permanent = isinstance(exc, CcmopsError)
    said = str(exc) if permanent else f"{type(exc).__name__}: {exc}"
    if not permanent:
        logger.error("job %s (%s) attempt %s failed\n%s", job.pk, job.kind, job.attempts, traceback.format_exc())
    with transaction.atomic():
        if permanent or job.attempts >= job.max_attempts:
            Job.objects.filter(pk=job.pk, token=token).update(
                status="failed",
                error=said,
                error_status=exc.http_status if permanent else 500,
                finished_at=now,
                lease_until=None,
            )
            DBTaskResult.objects.filter(id=job.task_id).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
                traceback="".join(traceback.format_exception(exc)),
            )
            return "failed"
        delay = BACKOFF_SECONDS * 2 ** (job.attempts - 1)
        again = now + dt.timedelta(seconds=delay)
        Job.objects.filter(pk=job.pk, token=token).update(
            status="queued",
            token="",
            lease_until=None,
            retries=F("retries") + 1,
            next_attempt_at=again,
            error=f"Attempt {job.attempts} of {job.max_attempts} failed ({said}); trying again.",
        )
        DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.READY, run_after=again)
    return "retrying"


def recover_lost() -> int:
    """Put back in the queue every job whose worker stopped renewing its lease (killed, machine gone); a job lost
    `max_attempts` times fails with that said. Returns how many were recovered."""
    now = timezone.now()
    recovered = 0
    for job in Job.objects.filter(status="running", lease_until__lt=now):
        with transaction.atomic():
            if job.attempts >= job.max_attempts:
                if Job.objects.filter(pk=job.pk, token=job.token, status="running").update(
                    status="failed",
                    finished_at=now,
                    lease_until=None,
                    error_status=500,
                    error=f"Its worker stopped {job.attempts} times before it finished; not tried again.",
                ):
                    DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.FAILED, finished_at=now)
                continue
            if Job.objects.filter(pk=job.pk, token=job.token, status="running", lease_until__lt=now).update(
                status="queued",
                token="",
                lease_until=None,
                retries=F("retries") + 1,
                error=f"Its worker ({job.worker_id}) stopped during attempt {job.attempts}; picked up again.",
            ):
                DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.READY, run_after=now)
                recovered += 1
                logger.warning("job %s: worker %s stopped renewing its lease; queued again", job.pk, job.worker_id)
    return recovered


@contextmanager
def _heartbeat(job_pk, token: str):
    """Renew the lease while the work runs, on a connection of its own. Not in the test settings' inline runs
    (an in-memory database is not shared between threads; their lease is never checked)."""
    if inline():
        yield
        return
    stop = threading.Event()
    period = max(0.2, lease_seconds() / 3)

    def beat() -> None:
        try:
            while not stop.wait(period):
                try:
                    Job.objects.filter(pk=job_pk, token=token, status="running").update(
                        lease_until=timezone.now() + dt.timedelta(seconds=lease_seconds())
                    )
                except Exception:
                    logger.warning("job %s: could not renew its lease this time", job_pk, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{job_pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def raise_failure(job: Job) -> None:
    """For a caller that ran a job and must answer as if it had done the work itself: the job's refusal raised
    as the error it was (a conflict, bad input…)."""
    if job.status != "failed":
        return
    for error in (InvalidInput, Conflict, NotFound, PermissionDenied):
        if error.http_status == job.error_status:
            raise error(job.error)
    raise CcmopsError(job.error)
