"""Benchmark: timer operations and worklist page loads from concurrent clients against a running server.

    .venv/bin/python bench/monthly_bench.py --database-url postgresql://postgres@127.0.0.1:5432/ccmops_monthly \\
        --patients 20000 --clients 50 --seconds 60

Builds a practice with many active CCM patients (consent, approved plan, time this month) and one care
manager per client, serves ccmops with gunicorn on 127.0.0.1, and has each client load its worklist and run
timers (start, heartbeats, stop) for the given time. Every client signs in before the clock starts (password
hashing is not what is measured), clients start at staggered moments within their first two paces, and they
run as threads in several processes. Prints p50/p95 latency per operation. Loopback only; bounded in time and
requests.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PASSWORD = "bench-password-2026"


def build_last_month(patients: int, clients: int = 50):
    """Last month built whole, as a biller closes it (the current month holds only the days gone so far), with
    fresh planner statistics as autovacuum keeps them on a live database (closing right after the build,
    PostgreSQL planned the fact reads from an empty database's statistics: 533 against 865 patient-months/s at
    100,000 patients). Returns the bench practice and the month "YYYY-MM"."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from ccmops.organizations.models import Organization

    this_month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    as_of = this_month - dt.timedelta(seconds=1)
    build_world(patients, clients, as_of=as_of)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return Organization.objects.get(slug="bench-practice"), f"{as_of.year:04d}-{as_of.month:02d}"


def valid_npi(k: int) -> str:
    """A valid NPI (Luhn check digit over the 80840 prefix) for practitioner k."""
    body = f"1{k:08d}"
    digits = [int(d) for d in "80840" + body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def build_world(
    patients: int,
    clients: int,
    *,
    as_of=None,
    slug: str = "bench-practice",
    prefix: str = "",
    npi: str = "1003000019",
) -> None:
    """A practice of `patients` enrolled CCM patients with consent, an approved care plan, an initiating visit
    and 0–3 twelve-minute calls each in the month of `as_of` (default now), none later than an hour before it.
    `as_of` at the end of a month builds that whole month, as a biller closes it. `slug` and `prefix` (for the
    usernames) let one database hold many such practices."""
    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from ccmops.careplans.models import CarePlan, CarePlanVersion
    from ccmops.enrollment.models import Consent, ConsentTextVersion, Enrollment
    from ccmops.organizations.models import Membership, Organization, Practitioner, User
    from ccmops.patients.models import Encounter, Patient, PatientCondition, condition_key

    practice = Organization.objects.create(
        slug=slug, kind="practice", name=slug.replace("-", " ").title(), time_zone="America/Chicago", npi="1003000993"
    )
    doctor_user = User.objects.create(username=f"{prefix}bench-md", password=make_password(PASSWORD))
    doctor = Practitioner.objects.create(
        practice=practice, user=doctor_user, npi=npi, first_name="Bench", last_name="Doctor", credential="MD"
    )
    Membership.objects.create(user=doctor_user, organization=practice, role="billing_practitioner")
    hashed = make_password(PASSWORD)
    cms = User.objects.bulk_create(
        User(username=f"{prefix}cm{i}", password=hashed, first_name="CM", last_name=str(i)) for i in range(clients)
    )
    Membership.objects.bulk_create(
        Membership(user=u, organization=practice, role="care_manager", credential="RN", is_clinical_staff=True)
        for u in cms
    )
    rng = random.Random(1)
    now = as_of or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    text = ConsentTextVersion.objects.get(program="ccm", version="2025.1")
    batch = 2000
    for start in range(0, patients, batch):
        n = min(batch, patients - start)
        ps = Patient.objects.bulk_create(
            Patient(
                practice=practice,
                mrn=f"B{start + i:07d}",
                given_name="Pat",
                family_name=f"Bench{start + i:07d}",
                birth_date=dt.date(1945, 1, 1),
                sex="female",
                medicare_coverage="medicare",
                care_manager=cms[(start + i) % clients],
                billing_practitioner=doctor,
            )
            for i in range(n)
        )
        conds = []
        for p in ps:
            for code in ("I10", "E11.9", "I50.32"):
                conds.append(
                    PatientCondition(
                        practice=practice,
                        patient=p,
                        system="icd10cm",
                        code=code,
                        key=condition_key("icd10cm", code, None),
                    )
                )
        PatientCondition.objects.bulk_create(conds)
        Enrollment.objects.bulk_create(
            Enrollment(practice=practice, patient=p, program="ccm", status="active", status_since=now) for p in ps
        )
        Encounter.objects.bulk_create(
            Encounter(
                practice=practice,
                patient=p,
                source_id=f"bench-{p.id}",
                start=now - dt.timedelta(days=95),
                setting="ambulatory",
                visit_kind="em",
                code="99214",
                practitioner_npi=doctor.npi,
                care_management_discussed=True,
            )
            for p in ps
        )
        Consent.objects.bulk_create(
            Consent(
                practice=practice,
                patient=p,
                program="ccm",
                practitioner=doctor,
                method="verbal",
                documented_at=now - dt.timedelta(days=90),
                obtained_by=cms[0],
                elements=["cost_sharing", "one_practitioner_per_month", "right_to_stop"],
                text_version=text,
            )
            for p in ps
        )
        plans = CarePlan.objects.bulk_create(
            CarePlan(practice=practice, patient=p, kind="comprehensive", program="ccm") for p in ps
        )
        CarePlanVersion.objects.bulk_create(
            CarePlanVersion(
                practice=practice,
                care_plan=plan,
                number=1,
                content={},
                status="approved",
                created_by=cms[0],
                created_at=now - dt.timedelta(days=80),
                approved_by=doctor,
                approved_at=now - dt.timedelta(days=80),
                next_review_due=(now + dt.timedelta(days=90)).date(),
            )
            for plan in plans
        )
        entries = []
        for p in ps:
            for _ in range(rng.randint(0, 3)):
                s = month_start + dt.timedelta(hours=rng.randint(8, 24 * 20))
                if s > now - dt.timedelta(hours=1):
                    continue
                entries.append(call(practice, p, practice, s))
        save_calls(entries)


def call(practice, patient, employer, start):
    """A twelve-minute live-timed call by the patient's care manager (not saved)."""
    import datetime as dt

    from ccmops.timetracking.models import TimeEntry

    return TimeEntry(
        practice=practice,
        patient=patient,
        staff=patient.care_manager,
        staff_role="clinical_staff",
        credential="RN",
        employer=employer,
        program="ccm",
        activity="care_coordination_call",
        start=start,
        end=start + dt.timedelta(minutes=12),
        seconds=720,
        source="timer",
        entered_at=start + dt.timedelta(minutes=12),
    )


def save_calls(entries: list) -> None:
    """Insert the calls and their segments in bulk."""
    from ccmops.timetracking.models import TimeEntry, TimeEntrySegment

    TimeEntry.objects.bulk_create(entries)
    TimeEntrySegment.objects.bulk_create(
        TimeEntrySegment(
            practice_id=e.practice_id, entry=e, staff_id=e.staff_id, patient_id=e.patient_id, start=e.start, end=e.end
        )
        for e in entries
    )


@contextlib.contextmanager
def serve(
    database_url: str, port: int, workers: int = 0, threads: int = 1, access_log: str = "", data_dir: str = ""
) -> Iterator[str]:
    """ccmops under gunicorn on 127.0.0.1:`port` (production settings, HTTP on loopback; by default the shape
    docs/settings.md recommends: two workers per core plus one, one thread each); yields the base URL. With
    `access_log`, gunicorn writes each request's method, path, status and its own time for it there."""
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    env = {
        **os.environ,
        "CCMOPS_DATABASE_URL": database_url,
        "CCMOPS_DEBUG": "false",
        "CCMOPS_ALLOWED_HOSTS": "127.0.0.1",
        "CCMOPS_SECRET_KEY": "bench-" + "x" * 50,
        "CCMOPS_REQUIRE_HTTPS": "false",
        "CCMOPS_MFA_REQUIRED_ROLES": "",
        "DJANGO_SETTINGS_MODULE": "ccmops.config.settings",
        "CCMOPS_DATA_DIR": data_dir or tempfile.mkdtemp(),  # shared by app processes that stand for machines
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "ccmops.config.wsgi:application",
            *("-b", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
            *("--timeout", "300", "--log-level", "warning"),
            *(("--access-logfile", access_log, "--access-logformat", "%(m)s %(U)s %(s)s %(M)s") if access_log else ()),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def print_latencies(out: dict[str, list[float]]) -> None:
    for name, values in sorted(out.items()):
        values.sort()
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(
            f"  {name:22s} n={len(values):6,d}  p50 {statistics.median(values) * 1000:8.1f} ms  "
            f"p95 {p95 * 1000:8.1f} ms"
        )


OPERATIONS = (  # (operation, how its path looks), as the clients name them
    ("worklist page", re.compile(r"/worklist/$")),
    ("timer start", re.compile(r"/api/patients/\d+/timer/start$")),
    ("timer heartbeat", re.compile(r"/api/timer/\d+/heartbeat$")),
    ("timer stop", re.compile(r"/api/timer/\d+/stop$")),
)


def server_times(access_log: str) -> dict[str, list[float]]:
    """Gunicorn's own time for each measured request (from reading the request to writing the response, in
    seconds), by operation: what the clients measured less the loopback and their own scheduling."""
    out: dict[str, list[float]] = {}
    for line in Path(access_log).read_text().splitlines():
        method, path, _status, millis = line.split()
        for name, pattern in OPERATIONS:
            if pattern.search(path) and method == ("GET" if name == "worklist page" else "POST"):
                out.setdefault(name, []).append(int(millis) / 1000)
    return out


class Client:
    def __init__(self, base: str, username: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base}/login/", timeout=30).read()
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        self.opener.open(
            urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"}), timeout=30
        ).read()
        self.csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        self.username = username

    def get(self, path: str) -> bytes:
        return self.opener.open(f"{self.base}{path}", timeout=30).read()

    def post(self, path: str, body: bytes = b"{}") -> bytes:
        req = urllib.request.Request(
            f"{self.base}{path}",
            data=body,
            method="POST",
            headers={"X-CSRFToken": self.csrf, "Content-Type": "application/json", "Referer": self.base},
        )
        return self.opener.open(req, timeout=30).read()


def client_loop(
    c: Client, rng: random.Random, patient_ids: list[int], until: float, out: dict, errors: list, pace: float
):
    import json

    while time.time() < until:
        try:
            t = time.perf_counter()
            c.get("/worklist/")
            out.setdefault("worklist page", []).append(time.perf_counter() - t)
            pid = rng.choice(patient_ids)
            t = time.perf_counter()
            timer = json.loads(
                c.post(f"/api/patients/{pid}/timer/start", b'{"program":"ccm","activity":"care_coordination_call"}')
            )["timer"]
            out.setdefault("timer start", []).append(time.perf_counter() - t)
            for _ in range(5):
                time.sleep(pace)  # the page heartbeats every 15 s; the benchmark compresses that to `pace`
                t = time.perf_counter()
                c.post(f"/api/timer/{timer['id']}/heartbeat", b'{"active":true}')
                out.setdefault("timer heartbeat", []).append(time.perf_counter() - t)
            t = time.perf_counter()
            c.post(f"/api/timer/{timer['id']}/stop", b'{"note":""}')
            out.setdefault("timer stop", []).append(time.perf_counter() - t)
        except Exception as exc:  # bench harness: record, pause, go on  # noqa: BLE001
            errors.append(f"{c.username}: {exc}")
            time.sleep(0.2)


def client_process(base: str, work: list[tuple[str, list[int]]], seconds: int, pace: float, barrier, results) -> None:
    """One process of clients (threads): all sign in first, then — once every process has — each starts at a
    random moment within its first two paces (care managers do not click in step) and runs until the end."""
    out: dict[str, list[float]] = {}
    errors: list[str] = []
    clients = []
    for username, pids in work:
        try:
            clients.append((Client(base, username), pids))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{username} login: {exc}")
    barrier.wait()
    began = time.time()
    until = began + seconds

    def run(c: Client, pids: list[int]) -> None:
        rng = random.Random(c.username)
        time.sleep(rng.uniform(0, 2 * pace))
        client_loop(c, rng, pids, until, out, errors, pace)

    threads = [threading.Thread(target=run, args=pair) for pair in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    results.put((out, errors, time.time() - began))  # a cycle under way at the end finishes: may pass `seconds`


def drive(base: str, patients_by_cm: dict[str, list[int]], args) -> tuple[dict[str, list[float]], list[str], float]:
    """The clients in `args.client_processes` processes, so that the clients' own interpreter lock does not add
    to the latencies they measure (50 threads in one process wait for each other to read their responses)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the children inherit no database connection
    ctx = multiprocessing.get_context("fork")
    work = sorted(patients_by_cm.items())[: args.clients]
    groups = [work[i :: args.client_processes] for i in range(args.client_processes)]
    groups = [g for g in groups if g]
    barrier = ctx.Barrier(len(groups))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=client_process, args=(base, g, args.seconds, args.pace, barrier, results)) for g in groups
    ]
    for p in procs:
        p.start()
    out: dict[str, list[float]] = {}
    errors: list[str] = []
    took = 0.0
    for _ in procs:
        o, e, t = results.get()
        took = max(took, t)
        for k, v in o.items():
            out.setdefault(k, []).extend(v)
        errors += e
    for p in procs:
        p.join()
    return out, errors, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between a client's heartbeats")
    parser.add_argument("--server-workers", type=int, default=0, help="gunicorn workers (0: two per core plus one)")
    parser.add_argument("--server-threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--client-processes", type=int, default=5, help="processes the clients' threads run in")
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    t0 = time.perf_counter()
    build_world(args.patients, args.clients)
    print(
        f"database: {url.split('@')[-1]}; built {args.patients:,} active patients for {args.clients} care "
        f"managers in {time.perf_counter() - t0:.1f} s"
    )
    from django.utils import timezone

    from ccmops.months.standings import store
    from ccmops.patients.models import Patient

    t0 = time.perf_counter()
    everyone = list(
        Patient.objects.filter(practice__slug="bench-practice").select_related("practice", "billing_practitioner")
    )
    for i in range(0, len(everyone), 1000):
        store(everyone[i : i + 1000], {}, timezone.localdate())
    took = time.perf_counter() - t0
    from django.db import connection

    with connection.cursor() as c:
        # Fresh planner statistics (month standings included), as autovacuum keeps them on a live database;
        # without them PostgreSQL takes this month's standings for a few dozen rows and plans accordingly.
        c.execute("ANALYZE")
    print(
        f"decided and stored {len(everyone):,} month standings in {took:.1f} s ({len(everyone) / took:,.0f} "
        "patient-months/s; afterwards kept current as facts change)"
    )

    patients_by_cm: dict[str, list[int]] = {}
    for pid, cm in Patient.objects.filter(practice__slug="bench-practice").values_list("id", "care_manager__username"):
        patients_by_cm.setdefault(cm, []).append(pid)
    access_log = os.path.join(tempfile.mkdtemp(), "access.log")
    with serve(url, args.port, args.server_workers, args.server_threads, access_log) as base:
        out, errors, took = drive(base, patients_by_cm, args)
    total = sum(len(v) for v in out.values())
    print(
        f"{args.clients} concurrent clients for {took:.0f} s (pace {args.pace:g} s): {total:,} requests, "
        f"{len(errors)} errors ({total / took:,.1f} req/s)"
    )
    print_latencies(out)
    print("the same requests, as the server timed them (gunicorn's request time):")
    print_latencies(server_times(access_log))
    for e in errors[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
