"""Benchmark: audited writes from concurrent sessions, all in one practice versus each in its own practice.

    .venv/bin/python bench/audit_bench.py --database-url postgresql://postgres@127.0.0.1:5432/ccmops_audit

Each of `--sessions` threads (one database connection each) runs transactions that append one audit event and
then keep the transaction open for `--hold-ms` more (the rest of a change that audits early: an import's
remaining chunk, a close step) before committing. Every append locks its chain's head row until commit. Run
once with every session writing to the same practice (one chain: how every append serialized before chains
were per practice) and once with each session in a practice of its own; prints appends per second for both
and their ratio, then verifies every chain. PostgreSQL only (SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def run(practice_ids: list[int], seconds: float, hold_ms: float) -> int:
    """Each session appends to practice_ids[i] until the time is up; returns the appends committed."""
    from django.db import connection, transaction

    from ccmops.compliance.audit import record_audit

    done = [0] * len(practice_ids)
    start = threading.Barrier(len(practice_ids))
    until = [0.0]

    def session(i: int) -> None:
        try:
            start.wait()
            if i == 0:
                until[0] = time.perf_counter() + seconds
            while not until[0]:
                time.sleep(0.001)
            while time.perf_counter() < until[0]:
                with transaction.atomic():
                    record_audit(action="update", practice_id=practice_ids[i], object_type="bench", object_id=str(i))
                    if hold_ms:
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_sleep(%s)", [hold_ms / 1000])
                done[i] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(practice_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hold-ms", type=float, nargs="+", default=[0, 5])
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("--database-url: PostgreSQL only")
    from population_bench import setup

    setup(args.database_url)
    from ccmops.compliance.audit import verify_chain
    from ccmops.organizations.models import Organization

    practices = [
        Organization.objects.create(slug=f"audit-bench-{i}", kind="practice", name=f"Audit Bench {i}").id
        for i in range(args.sessions)
    ]
    print(f"{args.sessions} sessions, {args.seconds:g} s per run")
    for hold in args.hold_ms:
        one = run([practices[0]] * args.sessions, args.seconds, hold) / args.seconds
        own = run(practices, args.seconds, hold) / args.seconds
        print(
            f"transaction open {hold:g} ms after the append: one practice (one chain) {one:8,.0f} appends/s; "
            f"a practice each (own chains) {own:8,.0f} appends/s = {own / one:.1f}x"
        )
    report = verify_chain()
    print(f"chains verified: {report.checked:,} events in {report.chains} chains, {len(report.problems)} problems")


if __name__ == "__main__":
    main()
