"""`ccmops worker`: claims queued jobs and runs them; ticks the schedules and recovers lost jobs. Run any number,
on any machine that reaches the database."""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import signal
import socket
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from ccmops.jobs import kinds
from ccmops.jobs.models import ACTIVE, Job
from ccmops.jobs.service import execute, recover_lost, start

logger = logging.getLogger("ccmops.jobs")
HOUSEKEEPING_SECONDS = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


class Worker:
    def __init__(
        self,
        *,
        queues: list[str] | None = None,
        interval: float = 1.0,
        batch: bool = False,
        schedules: bool | None = None,
    ) -> None:
        self.queues = queues or ["default"]
        # The test settings turn the schedules off so a test's worker runs only the test's jobs.
        self.schedules = getattr(settings, "CCMOPS_JOB_SCHEDULES", True) if schedules is None else schedules
        self.interval = interval
        self.batch = batch
        self.id = worker_name()
        self.running = True
        self.busy = False
        self.ran = 0
        self._housekept = 0.0
        self._ticked: set = set()

    def stop(self, signum, _frame) -> None:
        """SIGTERM/SIGINT: finish the job at hand, then stop (a second signal stops at once)."""
        if not self.running or not self.busy:
            raise SystemExit(0)
        logger.warning("worker %s: %s — stopping after the job at hand", self.id, signal.strsignal(signum))
        self.running = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("worker %s started (queues %s)", self.id, ",".join(self.queues))
        time.sleep(random.random() * min(self.interval, 0.5))  # noqa: S311 - spread workers started together
        while self.running:
            if not connection.in_atomic_block:  # (a test runs a worker inside its transaction)
                close_old_connections()  # a connection dropped by the database is replaced here, between jobs
            self.housekeeping()
            queued = self.claim()
            if queued is not None:
                self.busy = True
                try:
                    execute(queued, worker_id=self.id)
                finally:
                    self.busy = False
                    self.ran += 1
                continue
            if self.batch and not Job.objects.filter(status__in=ACTIVE).exists():
                break  # nothing waits or runs anywhere (a lost job counts until its lease lapses and it is redone)
            time.sleep(self.interval)
        return self.ran

    def claim(self) -> str | None:
        """Take the next ready queue row (locked, skipping rows other workers hold) and return its job's id."""
        rows = DBTaskResult.objects.ready().filter(queue_name__in=self.queues)
        try:
            with exclusive_transaction(rows.db):
                row = rows.get_locked()
                if row is None:
                    return None
                row.claim(self.id)
                return row.args_kwargs["args"][0]
        except OperationalError as exc:
            if is_locked_database_exception(exc):  # SQLite busy with another writer: try again next round
                return None
            raise

    def housekeeping(self, *, force: bool = False) -> None:
        """Every few seconds: recover jobs whose worker died, start this period's scheduled jobs, delete
        downloads past their expiry."""
        if not force and time.monotonic() - self._housekept < HOUSEKEEPING_SECONDS:
            return
        self._housekept = time.monotonic()
        try:
            recover_lost()
            if self.schedules:
                tick_schedules(ticked=self._ticked)
            prune()
            remove_expired_files()
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                raise


def tick_schedules(now=None, ticked: set | None = None) -> int:
    """Start each schedule's job for the current period unless one exists: the period key is unique, so however
    many workers tick at once each period runs once. `ticked` (a worker's memory of the periods it has seen
    through) spares the queries until the period turns; a practice added during a period joins at the next."""
    now = now or timezone.now()
    started = 0
    for schedule in kinds.SCHEDULES:
        period = kinds.period_of(schedule, now)
        if period is None or (ticked is not None and (schedule.kind, period) in ticked):
            continue
        prefix, suffix = f"{schedule.kind}:", f":{period}"
        existing = set(
            Job.objects.filter(period_key__startswith=prefix, period_key__endswith=suffix).values_list(
                "period_key", flat=True
            )
        )
        for practice_id, params, label in schedule.targets(now):
            key = f"{prefix}{practice_id or '-'}{suffix}"
            if key in existing:
                continue
            try:
                with transaction.atomic():
                    start(
                        schedule.kind,
                        label=label,
                        params=params,
                        period_key=key,
                        run_here=False,
                        practice_id=practice_id,
                    )
                started += 1
            except IntegrityError:  # another worker started it first
                continue
        if ticked is not None:
            ticked.add((schedule.kind, period))
    return started


KEEP_DAYS = 180  # finished jobs stay this long: their results are pages' content (look backs, chain checks)


def prune(now=None) -> int:
    """Forget finished jobs older than KEEP_DAYS, and their queue rows (a partner's nightly screening alone adds a
    row per practice a day)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=KEEP_DAYS)
    old = Job.objects.filter(status__in=("succeeded", "failed"), finished_at__lt=cutoff).exclude(file_path__gt="")
    task_ids = list(old.values_list("task_id", flat=True)[:5000])
    if not task_ids:
        return 0
    with transaction.atomic():
        DBTaskResult.objects.filter(id__in=task_ids).delete()
        removed, _ = Job.objects.filter(task_id__in=task_ids).delete()
    return removed


def remove_expired_files() -> int:
    removed = 0
    for job in Job.objects.filter(file_expires_at__lt=timezone.now()).exclude(file_path=""):
        Path(job.file_path).unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(file_path="")
        removed += 1
    return removed
