"""A partner's book evaluated through the job system: P practices × N enrolled patients, each practice's month
one `evaluate` job, run by W `ccmops worker` processes on PostgreSQL.

    .venv/bin/python bench/jobs_bench.py --database-url postgresql://postgres@127.0.0.1:5432/ccmops_jobs \\
        --practices 300 --patients 300 --workers 2

Prints the book's patient-months per second through the jobs, the same months evaluated in one process without
jobs (`close_month`, the pre-jobs path) on a copy of a sample, and the pure engine's rate (`rules_bench`) measured in
the same run, with the ratios. Then approves every month through jobs (the approval check) and reports it too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Only the book's jobs: no nightly screening started by the workers' schedule tick in the middle of the measurement.
WORKER = "from ccmops.cli import main; main(['ccmops', 'worker', '--batch', '--interval', '0.1', '--no-schedules'])"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="postgresql://…/NAME (created, dropped first)")
    parser.add_argument("--practices", type=int, default=300)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    import datetime as dt

    from django.db import connection
    from django.utils import timezone
    from monthly_bench import build_world, valid_npi
    from rules_bench import engine_rate

    from ccmops.billing.jobs import start_approval, start_evaluation
    from ccmops.billing.models import PatientMonthDecision
    from ccmops.jobs.models import Job
    from ccmops.organizations.models import Organization

    this_month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    as_of = this_month - dt.timedelta(seconds=1)
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    t0 = time.perf_counter()
    for k in range(args.practices):
        build_world(args.patients, 3, as_of=as_of, slug=f"book-{k:04d}", prefix=f"p{k}-", npi=valid_npi(k))
    plain_sample = max(1, args.practices // 10)  # the same kind of practices, evaluated without jobs
    for k in range(plain_sample):
        build_world(args.patients, 3, as_of=as_of, slug=f"plain-{k:04d}", prefix=f"q{k}-", npi=valid_npi(50_000 + k))
    with connection.cursor() as c:
        c.execute("ANALYZE")
    total = args.practices * args.patients
    print(f"database: {url.split('@')[-1]}; built {args.practices} practices × {args.patients} patients "
          f"({total:,} patient-months of {month}) in {time.perf_counter() - t0:.0f} s")  # fmt: skip

    engine = engine_rate()
    print(f"pure engine (parse + validate + evaluate), this run: {engine:,.0f} patient-months/s")

    practices = list(Organization.objects.filter(slug__startswith="book-").order_by("slug"))

    def through_jobs(start, what: str) -> float:
        for p in practices:
            start(practice=p, month=month, by=None, run_here=False)
        env = {**os.environ, "CCMOPS_DATABASE_URL": url, "CCMOPS_DEBUG": "true"}
        t = time.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # a line per job at INFO
            )
            for _ in range(args.workers)
        ]
        for w in workers:
            if w.wait() != 0:
                raise SystemExit(f"a worker exited with {w.returncode}")
        took = time.perf_counter() - t
        jobs = Job.objects.filter(kind=what)
        failed = jobs.exclude(status="succeeded").count()
        print(f"{what}: {len(practices)} jobs by {args.workers} workers in {took:.1f} s — {total / took:,.0f} "
              f"patient-months/s; {failed} not succeeded")  # fmt: skip
        return took

    took = through_jobs(start_evaluation, "evaluate")
    decided = PatientMonthDecision.objects.filter(month=month).count()
    rate = total / took
    print(
        f"decisions stored: {decided:,}; through jobs {engine / rate:.2f}× the pure engine's time per patient-month "
        "(the engine alone runs in one process on prepared facts; jobs also read facts and write decisions)"
    )
    PatientMonthDecision.objects.filter(month=month, review="needs_review").update(
        review="overridden", override_action="bill", override_reason="bench"
    )
    through_jobs(start_approval, "approve")

    # The same kind of work without jobs: the pre-jobs path (close_month in this process), on other practices.
    from ccmops.billing.evaluation import close_month

    sample = list(Organization.objects.filter(slug__startswith="plain-"))
    t = time.perf_counter()
    for p in sample:
        close_month(practice=p, month=month)
    plain = len(sample) * args.patients / (time.perf_counter() - t)
    print(
        f"without jobs, one process, {len(sample)} practices: {plain:,.0f} patient-months/s; through jobs with "
        f"{args.workers} workers: {rate / plain:.2f}× that"
    )


if __name__ == "__main__":
    main()
