"""Benchmark: look back at a closed month under today's rules (billing.lookback) for many enrolled patients,
against the month close that decided it (the same facts read and the same engine, plus the writes) in the same run.

    .venv/bin/python bench/lookback_bench.py --patients 20000 [--database-url postgresql://…/ccmops_lookback]

Prints patient-months per second for both; two years of a partner's book is 24 × its enrolled patients.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    from monthly_bench import build_last_month

    from ccmops.billing.evaluation import close_month
    from ccmops.billing.lookback import lookback
    from ccmops.billing.models import PatientMonthDecision
    from ccmops.months.models import MonthClose

    practice, month = build_last_month(args.patients)
    t0 = time.perf_counter()
    summary = close_month(practice=practice, month=month)
    close_took = time.perf_counter() - t0
    PatientMonthDecision.objects.filter(practice=practice, month=month, review="needs_review").update(
        review="overridden", override_action="bill", override_reason="bench"
    )
    MonthClose.objects.filter(practice=practice, month=month).update(status="closed")
    t0 = time.perf_counter()
    found = lookback(practice=practice, start=month, end=month)
    took = time.perf_counter() - t0
    per_second = found.patient_months / took
    print(f"database: {url.split('@')[-1]}; {summary.patient_months:,} patient-months in the closed month")
    print(
        f"month close (baseline, same run): {summary.patient_months / close_took:,.0f} patient-months/s "
        f"({close_took:.1f} s)"
    )
    print(
        f"lookback: {per_second:,.0f} patient-months/s ({took:.1f} s, {took / close_took:.2f}x the close); "
        f"{len(found.differences):,} would differ today"
    )
    print(
        f"two years of a book of {args.patients:,} enrolled patients ({24 * args.patients:,} patient-months): "
        f"about {24 * args.patients / per_second:,.0f} s"
    )


if __name__ == "__main__":
    main()
