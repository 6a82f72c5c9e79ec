"""Benchmark: import and screen a generated population; compare with a bare baseline measured in the same run.

    .venv/bin/python bench/population_bench.py --patients 100000                       # SQLite (temp file)
    .venv/bin/python bench/population_bench.py --patients 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/ccmops_bench                # PostgreSQL (created)

Prints resources per second for ccmops's Bulk FHIR import (validated with fhir.resources, atomic or
checkpointed, idempotent upserts) and for a baseline of json parsing plus a plain bulk insert of the same
rows into scratch tables, then the screening rate (eligibility for three programs plus HCC risk): from
scratch in one process, again with nothing changed (no result rewritten), and from scratch in one process
per core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def setup(database_url: str | None) -> str:
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp(prefix='ccmops-bench-')}/bench.sqlite3"
    elif database_url.startswith("postgres"):
        import psycopg

        base, name = database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["CCMOPS_DATABASE_URL"] = database_url
    os.environ.setdefault("CCMOPS_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database_url


def baseline(folder: Path) -> tuple[int, float]:
    """json.loads of every line plus a plain executemany insert of the same rows (no validation, no upsert)."""
    from django.db import connection, transaction

    tables = {
        "Patient.ndjson": ("bench_patient", ("id", "mrn", "family", "given", "birth", "sex")),
        "Condition.ndjson": ("bench_condition", ("id", "patient", "code", "onset")),
        "Encounter.ndjson": ("bench_encounter", ("id", "patient", "klass", "start")),
        "Coverage.ndjson": ("bench_coverage", ("id", "patient", "payer")),
    }
    with connection.cursor() as c:
        for table, cols in tables.values():
            c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute(f"CREATE TABLE {table} ({', '.join(f'{col} TEXT' for col in cols)})")
    t0 = time.perf_counter()
    n = 0
    for name, (table, cols) in tables.items():
        rows = []
        with (folder / name).open() as fh:
            for line in fh:
                r = json.loads(line)
                n += 1
                if table == "bench_patient":
                    rows.append(
                        (
                            r["id"],
                            r["identifier"][0]["value"],
                            r["name"][0]["family"],
                            r["name"][0]["given"][0],
                            r["birthDate"],
                            r["gender"],
                        )
                    )
                elif table == "bench_condition":
                    rows.append(
                        (r["id"], r["subject"]["reference"], r["code"]["coding"][0]["code"], r.get("onsetDateTime"))
                    )
                elif table == "bench_encounter":
                    rows.append((r["id"], r["subject"]["reference"], r["class"]["code"], r["period"]["start"]))
                else:
                    rows.append((r["id"], r["beneficiary"]["reference"], r["type"]["text"]))
        placeholders = ", ".join(["%s"] * len(cols))
        with transaction.atomic(), connection.cursor() as c:
            for i in range(0, len(rows), 5000):
                c.executemany(f"INSERT INTO {table} VALUES ({placeholders})", rows[i : i + 5000])
    return n, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = setup(args.database_url)

    from ccmops.enrollment.screening import screen_practice
    from ccmops.interop.generator import generate_population
    from ccmops.interop.services import Source, import_source
    from ccmops.organizations.models import Organization

    folder = Path(tempfile.mkdtemp(prefix="ccmops-pop-"))
    t0 = time.perf_counter()
    counts = generate_population(folder, patients=args.patients, seed=args.seed)
    gen = time.perf_counter() - t0
    print(f"database: {url.split('@')[-1]}")
    print(f"generated {counts.resources:,} resources for {counts.patients:,} patients in {gen:.1f} s")

    n, base = baseline(folder)
    practice = Organization.objects.create(slug="bench", kind="practice", name="Bench Practice")
    t0 = time.perf_counter()
    run = import_source(practice=practice, source=Source("bulk", folder, "bench"))
    ours = time.perf_counter() - t0
    assert run.status == "succeeded"
    print(f"baseline (json + plain bulk insert): {n / base:10,.0f} resources/s  ({base:6.1f} s)")
    print(
        f"ccmops import (validated, upserted): {n / ours:10,.0f} resources/s  ({ours:6.1f} s)  "
        f"= {ours / base:.1f}x the baseline"
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        # Planner statistics as autovacuum keeps them on a live registry (and, straight after this import, the
        # analyze autovacuum would start is not left to compete with the screening for the two cores).
        with connection.cursor() as c:
            c.execute("ANALYZE")
    t0 = time.perf_counter()
    summary = screen_practice(practice=practice)
    screen = time.perf_counter() - t0
    print(f"screening: {summary.patients / screen:10,.0f} patients/s  ({screen:6.1f} s)  ccm: {summary.counts['ccm']}")
    t0 = time.perf_counter()
    summary = screen_practice(practice=practice)
    screen = time.perf_counter() - t0
    print(
        f"rescreen, nothing changed ({summary.changed} results rewritten): "
        f"{summary.patients / screen:10,.0f} patients/s  ({screen:6.1f} s)"
    )
    from ccmops.patients.models import ScreeningResult

    ScreeningResult.objects.filter(practice=practice).delete()  # the next one screens from scratch again
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("VACUUM ANALYZE patients_screeningresult")  # as a registry never screened: no dead rows
    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    summary = screen_practice(practice=practice, workers=workers)
    screen = time.perf_counter() - t0
    print(
        f"screening from scratch by {summary.processes} process(es) (--workers {workers}): "
        f"{summary.patients / screen:10,.0f} patients/s  ({screen:6.1f} s)"
    )
    t0 = time.perf_counter()
    import_source(practice=practice, source=Source("bulk", folder, "bench-again"))
    print(f"re-import of the same export (idempotent upsert): {time.perf_counter() - t0:6.1f} s")


if __name__ == "__main__":
    main()
