"""Scale-out: two app processes on two ports and two job workers on one fresh PostgreSQL database, the soak's
mixed users spread over both, a month closed and a population imported through jobs — and one worker killed
with SIGKILL in the middle of a job.

    .venv/bin/python bench/scale_out.py --database-url postgresql://postgres@127.0.0.1:5432/ccmops_scale \\
        [--patients 3000] [--import-patients 3000] [--seconds 90]

Prints requests, errors (target 0), jobs done, jobs retried, and duplicates (target 0: rows the constraints
exist to keep single, counted with GROUP BY … HAVING COUNT(*) > 1). The app processes stand for machines behind
any HTTP load balancer: they share nothing but the database (sessions, jobs and files are there or in the
shared data directory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
import zipfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monthly_bench import Client, build_world, print_latencies, serve
from soak import add_billers_and_partner, care_manager, evaluate_month, lead, run_user, timed

WORKER = "from ccmops.cli import main; main(['ccmops', 'worker', '--interval', '0.5'])"


def start_workers(url: str, data_dir: str, n: int) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "CCMOPS_DATABASE_URL": url,
        "CCMOPS_DEBUG": "false",
        "CCMOPS_SECRET_KEY": "bench-" + "x" * 50,
        "CCMOPS_REQUIRE_HTTPS": "false",
        "CCMOPS_DATA_DIR": data_dir,
        "CCMOPS_JOB_LEASE_SECONDS": "6",
        "CCMOPS_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "ccmops.config.settings",
    }
    logs = Path(data_dir) / "worker-logs"
    logs.mkdir(exist_ok=True)
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER], env=env, stdout=subprocess.DEVNULL, stderr=(logs / f"{i}.log").open("w")
        )
        for i in range(n)
    ]


def upload(c: Client, path: str, name: str, content: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        f"{c.base}{path}",
        data=body,
        method="POST",
        headers={
            "X-CSRFToken": c.csrf,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Referer": c.base,
        },
    )
    return json.loads(c.opener.open(req, timeout=60).read())


def follow(c: Client, url: str, out: dict, name: str) -> dict:
    while True:
        state = json.loads(timed(out, name, lambda: c.get(url)))
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(1)


def duplicates() -> dict[str, int]:
    """Rows that must be single, counted the hard way."""
    from django.db import connection

    checks = {
        "claim lines per patient, month and code": (
            "SELECT patient_id, month, code FROM billing_claimline GROUP BY patient_id, month, code HAVING COUNT(*) > 1"
        ),
        "decisions per patient-month": (
            "SELECT patient_id, month FROM billing_patientmonthdecision GROUP BY patient_id, month HAVING COUNT(*) > 1"
        ),
        "patients per practice and MRN": (
            "SELECT practice_id, mrn FROM patients_patient GROUP BY practice_id, mrn HAVING COUNT(*) > 1"
        ),
        "conditions per patient and key": (
            "SELECT patient_id, key FROM patients_patientcondition GROUP BY patient_id, key HAVING COUNT(*) > 1"
        ),
        "import runs per job": (
            "SELECT params->>'run_id' FROM jobs_job WHERE kind = 'import' GROUP BY 1 HAVING COUNT(*) > 1"
        ),
        "succeeded imports per file": (
            "SELECT practice_id, sha256 FROM interop_importrun WHERE status = 'succeeded' "
            "GROUP BY practice_id, sha256 HAVING COUNT(*) > 1"
        ),
    }
    found = {}
    with connection.cursor() as cursor:
        for name, sql in checks.items():
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS d")
            found[name] = cursor.fetchone()[0]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="postgresql://…/NAME (created, dropped first)")
    parser.add_argument("--patients", type=int, default=3000)
    parser.add_argument("--import-patients", type=int, default=3000)
    parser.add_argument("--care-managers", type=int, default=16)
    parser.add_argument("--billers", type=int, default=4)
    parser.add_argument("--leads", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--ports", type=int, nargs=2, default=[8771, 8772])
    parser.add_argument("--pace", type=float, default=2.0)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("scale-out runs on PostgreSQL (the system of record when there is more than one machine)")
    from population_bench import setup

    folder = Path(tempfile.mkdtemp(prefix="ccmops-scale-"))
    data_dir = str(folder / "data")  # the shared data directory (uploads, exports, audit keys) of every process
    os.makedirs(data_dir)
    os.environ["CCMOPS_DATA_DIR"] = data_dir
    url = setup(args.database_url)
    from django.utils import timezone

    from ccmops.interop.generator import generate_population
    from ccmops.jobs.models import Job
    from ccmops.patients.models import Patient

    this_month = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    as_of = this_month - dt.timedelta(seconds=1)
    month = f"{as_of.year:04d}-{as_of.month:02d}"
    t0 = time.perf_counter()
    build_world(args.patients, args.care_managers, as_of=as_of)
    practice_id = add_billers_and_partner(args.billers, args.leads)
    generate_population(folder / "population", patients=args.import_patients, seed=11)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted((folder / "population").iterdir()):
            z.write(f, f.name)
    print(f"database: {url.split('@')[-1]}; world built in {time.perf_counter() - t0:.1f} s")
    pids_by_cm: dict[str, list[int]] = {}
    for pid, cm in Patient.objects.filter(practice_id=practice_id).values_list("id", "care_manager__username"):
        pids_by_cm.setdefault(cm, []).append(pid)

    out: dict[str, list[float]] = {}
    errors: list[str] = []
    killed: dict[str, str] = {}
    with ExitStack() as stack:
        bases = [stack.enter_context(serve(url, port, workers=2, data_dir=data_dir)) for port in args.ports]
        workers = start_workers(url, data_dir, 2)
        stack.callback(lambda: [w.terminate() for w in workers if w.poll() is None])
        until = time.time() + args.seconds
        users = [
            ("care manager", cm, lambda c, rng, p=pids: care_manager(c, rng, p, out, args.pace))
            for cm, pids in sorted(pids_by_cm.items())[: args.care_managers]
        ]
        users += [
            ("biller", f"biller{i}", lambda c, rng: biller(c, rng, practice_id, out, args.pace))
            for i in range(args.billers)
        ]
        users += [
            ("lead", f"lead{i}", lambda c, rng: lead(c, rng, practice_id, out, args.pace)) for i in range(args.leads)
        ]
        threads = [
            threading.Thread(target=run_user, args=(kind, bases[k % 2], name, until, out, errors, work))
            for k, (kind, name, work) in enumerate(users)
        ]

        def operations() -> None:
            """The program owner's import on one app and the biller's close on the other, both as jobs."""
            try:
                owner = Client(bases[0], "bench-owner")
                job = upload(
                    owner,
                    f"/api/practices/{practice_id}/imports?kind=bulk&wait_seconds=0",
                    "population.zip",
                    archive.getvalue(),
                )
                closer = Client(bases[1], "biller0")
                evaluated = evaluate_month(closer, practice_id, month, out)
                imported = follow(owner, job["job"]["url"], out, "owner import job progress")
                if imported["status"] != "succeeded" or (evaluated and evaluated["status"] != "succeeded"):
                    errors.append(f"operations: import {imported['status']} {imported['error']}")
            except Exception as exc:  # noqa: BLE001 - bench harness: record it
                errors.append(f"operations: {exc}")

        def killer() -> None:
            """SIGKILL the worker running the first job seen running, mid-way."""
            deadline = time.time() + args.seconds
            while time.time() < deadline:
                running = Job.objects.filter(status="running", kind__in=("import", "evaluate")).first()
                if running is not None and running.done > 0:
                    pid = int(running.worker_id.rsplit("-", 1)[1])
                    victim = next((w for w in workers if w.pid == pid), None)
                    if victim is not None:
                        os.kill(pid, signal.SIGKILL)
                        killed.update(
                            job=running.label, worker=running.worker_id, at=f"{running.done} of {running.total}"
                        )
                        return
                time.sleep(0.2)

        extra = [threading.Thread(target=operations), threading.Thread(target=killer)]
        for th in [*threads, *extra]:
            th.start()
        for th in [*threads, *extra]:
            th.join()
        deadline = time.time() + 180
        while Job.objects.filter(status__in=("queued", "running")).exists() and time.time() < deadline:
            time.sleep(1)
        health = [json.loads(urllib.request.urlopen(f"{b}/readyz", timeout=10).read())["status"] for b in bases]

    total = sum(len(v) for k, v in out.items() if "refused" not in k)
    jobs = list(Job.objects.all())
    print(
        f"{len(users)} users over 2 app processes for {args.seconds} s: {total:,} requests "
        f"({total / args.seconds:,.1f} req/s), {len(errors)} errors; readiness {', '.join(health)}"
    )
    print_latencies(out)
    print(f"killed: {killed or 'no job was running to kill'}")
    done = sum(j.status == "succeeded" for j in jobs)
    print(
        f"jobs: {len(jobs)} — {done} done, {sum(j.status == 'failed' for j in jobs)} failed, "
        f"{sum(j.status in ('queued', 'running') for j in jobs)} unfinished; retried {sum(j.retries for j in jobs)} "
        f"time(s): " + "; ".join(f"{j.label} (attempts {j.attempts})" for j in jobs if j.retries)
    )
    dups = duplicates()
    print(f"duplicates: {sum(dups.values())} ({', '.join(f'{k}: {v}' for k, v in dups.items())})")
    for e in errors[:20]:
        print(f"  error: {e}")
    sys.exit(1 if errors or sum(dups.values()) or not killed else 0)


def biller(c: Client, rng: random.Random, practice_id: int, out: dict, pace: float) -> None:
    today = dt.date.today()
    this_month = today.strftime("%Y-%m")
    timed(out, "biller month page", lambda: c.get(f"/practices/{practice_id}/months/{this_month}/"))
    if rng.random() < 0.1:
        evaluate_month(c, practice_id, this_month, out)
    time.sleep(pace)


if __name__ == "__main__":
    main()
