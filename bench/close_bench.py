"""Benchmark: close a month for many enrolled patients; compare with a bare SQL aggregation of the same minutes.

    .venv/bin/python bench/close_bench.py --patients 100000 [--database-url postgresql://…/ccmops_close]

Prints patient-months per second, peak memory of the process, and the time of `SELECT patient, SUM(seconds)
… GROUP BY patient` over the same time entries (the lower bound any close must pay to read the minutes).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    from django.db import connection
    from monthly_bench import build_last_month

    from ccmops.billing.evaluation import close_month

    t0 = time.perf_counter()
    practice, month = build_last_month(args.patients)
    print(
        f"database: {url.split('@')[-1]}; built {args.patients:,} enrolled patients with the month's time in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "SELECT patient_id, SUM(seconds) FROM timetracking_timeentry WHERE practice_id = %s GROUP BY patient_id",
            [practice.id],
        )
        rows = c.fetchall()
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = close_month(practice=practice, month=month)
    took = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bare SQL aggregation of the minutes: {bare:7.2f} s ({len(rows):,} patients with time)")
    print(
        f"month close: {summary.patient_months:,} patient-months in {took:.1f} s = "
        f"{summary.patient_months / took:,.0f} patient-months/s ({took / bare:,.0f}x the bare aggregation); "
        f"{summary.lines:,} lines, ${summary.allowed:,.2f}; peak memory {peak_mb:,.0f} MB"
    )
    t0 = time.perf_counter()
    close_month(practice=practice, month=month)
    print(f"second close (nothing changed): {time.perf_counter() - t0:.1f} s")
    from ccmops.billing.evaluation import changed_since_evaluation

    t0 = time.perf_counter()
    changed = changed_since_evaluation(practice, month)
    print(
        f"approval's check that no facts changed since the evaluation: {time.perf_counter() - t0:.1f} s "
        f"({len(changed)} changed)"
    )

    import os

    from ccmops.billing.models import ClaimLine, PatientMonthDecision
    from ccmops.months.models import MonthClose

    ClaimLine.objects.filter(practice=practice, month=month).delete()
    PatientMonthDecision.objects.filter(practice=practice, month=month).delete()
    MonthClose.objects.filter(practice=practice, month=month).delete()
    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    summary = close_month(practice=practice, month=month, workers=workers)
    took = time.perf_counter() - t0
    print(
        f"month close again from scratch with --workers {workers} (PostgreSQL only; elsewhere one process): "
        f"{summary.patient_months / took:,.0f} patient-months/s ({took:.1f} s, {took / bare:,.0f}x the bare "
        f"aggregation); {summary.lines:,} lines"
    )


if __name__ == "__main__":
    main()
