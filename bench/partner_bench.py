"""Benchmark: a partner serving hundreds of practices — the operations lead's pages at that scale.

    .venv/bin/python bench/partner_bench.py --practices 300 --patients 40 \\
        [--database-url postgresql://postgres@127.0.0.1:5432/ccmops_partner]

Builds a partner that runs the whole program (managed) for `--practices` practices of `--patients` active CCM
patients each, with `--staff` care managers of its own and live-timed calls over the last four months. Then, as
its operations lead, requests each page in this process (Django's test client; best of three, after one warm-up)
and prints the time and the number of SQL queries, beside the time of a bare SQL aggregation of the same minutes
(per staff member and practice over the four months: the least any of these pages must read).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monthly_bench import call, save_calls, valid_npi

PAGES = (
    ("lead home", "/home/partner_ops_lead/"),
    ("workspace", "/workspace/"),
    ("consistency", "/workspace/consistency/"),  # loaded after the workspace: program health per practice
    ("workspace API", "/api/workspace"),
    ("team worklist", "/worklist/?team=1"),
    ("staff", "/staff/"),
)


def build(practices: int, patients: int, staff: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from ccmops.access.operating_model import Preset
    from ccmops.enrollment.models import Enrollment
    from ccmops.organizations.models import Engagement, Membership, Organization, Practitioner, User
    from ccmops.organizations.services import record_matrix_version
    from ccmops.patients.models import Patient

    rng = random.Random(3)
    now = timezone.now()
    hashed = make_password("bench-password-2026")
    partner = Organization.objects.create(slug="bench-partner", kind="partner", name="Bench Partner")
    lead = User.objects.create(username="bench-lead", password=hashed, first_name="Lead", last_name="Bench")
    Membership.objects.create(user=lead, organization=partner, role="partner_ops_lead")
    cms = User.objects.bulk_create(
        User(username=f"pcm{i}", password=hashed, first_name="Care", last_name=f"Manager {i:03d}") for i in range(staff)
    )
    Membership.objects.bulk_create(
        Membership(
            user=u,
            organization=partner,
            role="care_manager",
            credential="RN",
            is_clinical_staff=True,
            committed_hours_per_week=30,
        )
        for u in cms
    )
    start = (now - dt.timedelta(days=130)).date()
    first = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    four_months_ago = (first - dt.timedelta(days=95)).replace(day=1)
    span = (now - four_months_ago).total_seconds()
    for k in range(practices):
        practice = Organization.objects.create(
            slug=f"bench-practice-{k:04d}",
            kind="practice",
            name=f"Bench Practice {k:04d}",
            time_zone="America/Chicago",
        )
        owner = User.objects.create(username=f"owner{k:04d}", password=hashed)
        Membership.objects.create(user=owner, organization=practice, role="program_owner")
        doctor = Practitioner.objects.create(
            practice=practice, npi=valid_npi(k), first_name="Doc", last_name=f"{k:04d}", credential="MD"
        )
        Engagement.objects.create(practice=practice, partner=partner, starts_on=start, created_by=owner)
        record_matrix_version(
            practice=practice, preset=Preset.MANAGED, partner=partner, effective_from=start, reason="bench", by=owner
        )
        ps = Patient.objects.bulk_create(
            Patient(
                practice=practice,
                mrn=f"P{k:04d}-{i:05d}",
                given_name="Pat",
                family_name=f"Bench{k:04d}{i:05d}",
                birth_date=dt.date(1946, 3, 1),
                sex="female",
                medicare_coverage="medicare",
                care_manager=cms[(k * patients + i) % staff],
                billing_practitioner=doctor,
            )
            for i in range(patients)
        )
        Enrollment.objects.bulk_create(
            Enrollment(
                practice=practice, patient=p, program="ccm", status="active", status_since=now - dt.timedelta(days=120)
            )
            for p in ps
        )
        entries = [
            call(practice, p, partner, four_months_ago + dt.timedelta(seconds=rng.uniform(0, span - 7200)))
            for p in ps
            for _ in range(rng.randint(4, 10))  # four months of calls
        ]
        save_calls(entries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practices", type=int, default=300)
    parser.add_argument("--patients", type=int, default=40, help="active CCM patients per practice")
    parser.add_argument("--staff", type=int, default=30, help="the partner's care managers")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    t0 = time.perf_counter()
    build(args.practices, args.patients, args.staff)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("ANALYZE")  # fresh planner statistics, as on a live database
        c.execute("SELECT COUNT(*) FROM timetracking_timeentry")
        (entries,) = c.fetchone()
    print(
        f"database: {url.split('@')[-1]}; built a partner serving {args.practices:,} practices, "
        f"{args.practices * args.patients:,} active patients, {args.staff} care managers, {entries:,} time entries "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ccmops.organizations.models import User
    from ccmops.web.mfa import SESSION_VERIFIED

    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "SELECT staff_id, practice_id, SUM(seconds) FROM timetracking_timeentry "
            "WHERE voided_at IS NULL AND start >= %s GROUP BY staff_id, practice_id",
            [dt.datetime.now(dt.UTC) - dt.timedelta(days=125)],
        )
        rows = c.fetchall()
    bare = time.perf_counter() - t0
    print(f"bare SQL aggregation of the minutes by staff member and practice: {bare * 1000:.1f} ms", end="")
    print(f" ({len(rows):,} rows)")

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench-lead"))
    session = client.session
    session[SESSION_VERIFIED] = True
    session.save()
    for name, path in PAGES:
        client.get(path)  # warm-up
        times = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - t)
            assert response.status_code == 200, (path, response.status_code)
        best = min(times)
        ratio = f"{best / bare:,.0f}x the bare aggregation"
        print(f"{name:<16} {best * 1000:9.1f} ms  {len(queries):6,} queries  ({ratio})")


if __name__ == "__main__":
    main()
