"""Soak: 50 concurrent simulated users of mixed roles against PostgreSQL for several minutes.

    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/ccmops_soak \\
        --patients 5000 --seconds 300

Builds the monthly benchmark's practice (active CCM patients, one care manager per simulated care manager) and
adds billers and a partner (engaged, hybrid: the partner does outreach and enrollment) with operations leads;
serves ccmops with gunicorn on 127.0.0.1 and runs, at once: care managers loading their worklist, opening charts
and running timers; billers evaluating last month, reviewing the month page and downloading the charge CSV;
partner leads viewing their dashboard. Prints throughput, p50/p95 per operation and the error count (target:
zero).
Loopback only; bounded by --seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monthly_bench import PASSWORD, Client, build_world, print_latencies, serve


def add_billers_and_partner(billers: int, leads: int) -> int:
    """Billers at the practice; a partner engaged with it (hybrid) and its operations leads. Returns practice id."""
    from django.contrib.auth.hashers import make_password

    from ccmops.access.operating_model import Preset
    from ccmops.organizations.models import Engagement, Membership, Organization, User
    from ccmops.organizations.services import record_matrix_version

    practice = Organization.objects.get(slug="bench-practice")
    hashed = make_password(PASSWORD)
    partner = Organization.objects.create(slug="bench-partner", kind="partner", name="Bench Partner")
    owner = User.objects.create(username="bench-owner", password=hashed)
    Membership.objects.create(user=owner, organization=practice, role="program_owner")
    Engagement.objects.create(practice=practice, partner=partner, starts_on=dt.date(2026, 1, 1), created_by=owner)
    record_matrix_version(
        practice=practice,
        preset=Preset.HYBRID_PARTNER_OUTREACH,  # the practice keeps the monthly work
        partner=partner,
        effective_from=dt.date(2026, 1, 1),
        reason="soak",
        by=owner,
    )
    for i in range(billers):
        u = User.objects.create(username=f"biller{i}", password=hashed)
        Membership.objects.create(user=u, organization=practice, role="biller")
    for i in range(leads):
        u = User.objects.create(username=f"lead{i}", password=hashed)
        Membership.objects.create(user=u, organization=partner, role="partner_ops_lead")
    return practice.id


def timed(out: dict, name: str, fn):
    t = time.perf_counter()
    result = fn()
    out.setdefault(name, []).append(time.perf_counter() - t)
    return result


def care_manager(c: Client, rng: random.Random, pids: list[int], out: dict, pace: float) -> None:
    timed(out, "cm worklist", lambda: c.get("/worklist/"))
    pid = rng.choice(pids)
    timed(out, "cm chart", lambda: c.get(f"/patients/{pid}/"))
    body = b'{"program":"ccm","activity":"care_coordination_call"}'
    timer = json.loads(timed(out, "cm timer start", lambda: c.post(f"/api/patients/{pid}/timer/start", body)))
    tid = timer["timer"]["id"]
    for _ in range(3):
        time.sleep(pace)
        timed(out, "cm heartbeat", lambda: c.post(f"/api/timer/{tid}/heartbeat", b'{"active":true}'))
    timed(out, "cm timer stop", lambda: c.post(f"/api/timer/{tid}/stop", b'{"note":""}'))


def biller(c: Client, rng: random.Random, practice_id: int, month: str, out: dict, pace: float) -> None:
    timed(out, "biller month page", lambda: c.get(f"/practices/{practice_id}/months/{month}/"))
    if rng.random() < 0.2:
        evaluate_month(c, practice_id, month, out)
    timed(out, "biller charge csv", lambda: c.get(f"/practices/{practice_id}/months/{month}/export/csv/"))
    time.sleep(pace)


def evaluate_month(c: Client, practice_id: int, month: str, out: dict) -> dict | None:
    """Start (or join) the month's evaluation job and follow it as the month page does, a look a second."""
    path = f"/api/practices/{practice_id}/months/{month}/close?wait_seconds=0"
    try:
        state = json.loads(timed(out, "biller start evaluation (job)", lambda: c.post(path)))
    except urllib.error.HTTPError as exc:
        if exc.code != 409:
            raise
        out.setdefault("biller close refused: month closed (409)", []).append(0.0)
        return None
    if "url" not in state:  # done within the request
        return state
    t, url = time.perf_counter(), state["url"]
    while state["status"] in ("queued", "running"):
        time.sleep(1)
        state = json.loads(timed(out, "biller job progress", lambda: c.get(url)))
    out.setdefault("biller evaluation job, start to end", []).append(time.perf_counter() - t)
    if state["status"] != "succeeded":
        raise RuntimeError(f"evaluation job {state['id']} {state['status']}: {state['error']}")
    return state


def lead(c: Client, rng: random.Random, practice_id: int, out: dict, pace: float) -> None:
    timed(out, "lead dashboard", lambda: c.get("/home/partner_ops_lead/"))
    if rng.random() < 0.5:
        timed(out, "lead workspace", lambda: c.get("/workspace/"))
    else:
        timed(out, "lead program health", lambda: c.get(f"/practices/{practice_id}/health/"))
    time.sleep(pace)


def run_user(kind, base, username, until, out, errors, work) -> None:
    try:
        c = Client(base, username)
    except Exception as exc:  # bench harness: record and stop this user  # noqa: BLE001
        errors.append(f"{username} login: {exc}")
        return
    rng = random.Random(username)
    while time.time() < until:
        try:
            work(c, rng)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{kind} {username}: {exc}")
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--care-managers", type=int, default=40)
    parser.add_argument("--billers", type=int, default=5)
    parser.add_argument("--leads", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--pace", type=float, default=2.0, help="think time between a user's steps, seconds")
    args = parser.parse_args()
    from population_bench import setup

    url = setup(args.database_url)
    t0 = time.perf_counter()
    build_world(args.patients, args.care_managers)
    practice_id = add_billers_and_partner(args.billers, args.leads)
    print(f"database: {url.split('@')[-1]}; world built in {time.perf_counter() - t0:.1f} s")

    from django.utils import timezone

    from ccmops.patients.models import Patient

    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    from ccmops.billing.evaluation import close_month
    from ccmops.organizations.models import Organization

    t0 = time.perf_counter()
    close_month(practice=Organization.objects.get(pk=practice_id), month=last_month)
    print(f"evaluated {last_month} once before the soak in {time.perf_counter() - t0:.1f} s")
    pids_by_cm: dict[str, list[int]] = {}
    for pid, cm in Patient.objects.filter(practice_id=practice_id).values_list("id", "care_manager__username"):
        pids_by_cm.setdefault(cm, []).append(pid)

    out: dict[str, list[float]] = {}
    errors: list[str] = []
    with serve(url, args.port) as base:
        until = time.time() + args.seconds
        users = [
            ("care manager", cm, lambda c, rng, p=pids: care_manager(c, rng, p, out, args.pace))
            for cm, pids in sorted(pids_by_cm.items())[: args.care_managers]
        ]
        users += [
            ("biller", f"biller{i}", lambda c, rng: biller(c, rng, practice_id, last_month, out, args.pace))
            for i in range(args.billers)
        ]
        users += [
            ("lead", f"lead{i}", lambda c, rng: lead(c, rng, practice_id, out, args.pace)) for i in range(args.leads)
        ]
        threads = [
            threading.Thread(target=run_user, args=(kind, base, name, until, out, errors, work))
            for kind, name, work in users
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    total = sum(len(v) for v in out.values())
    print(
        f"{len(users)} concurrent users ({args.care_managers} care managers, {args.billers} billers, {args.leads} "
        f"partner leads) for {args.seconds} s: {total:,} requests ({total / args.seconds:,.1f} req/s), "
        f"{len(errors)} errors"
    )
    print_latencies(out)
    kinds: dict[str, int] = {}
    for e in errors:  # "biller biller3: timed out" -> "biller: timed out"
        kind, _, message = e.partition(": ")
        key = f"{kind.split()[0]}: {message}"
        kinds[key] = kinds.get(key, 0) + 1
    for key, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  error x{n}: {key}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
