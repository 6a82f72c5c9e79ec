"""Security review item 11: an import killed while validating leaves no orphaned worker processes (they die with
their parent) and its run does not stay "validating" forever (it is marked failed, nothing written)."""

import os
import subprocess
import sys
import time

from ccmops.interop.models import ImportRun
from ccmops.interop.services import fail_abandoned, part_written
from ccmops.organizations.models import Organization

CHILDREN = """
import os, signal, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from ccmops.platform.forked import die_with_parent
pool = ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=die_with_parent)
pids = set(pool.submit(os.getpid).result() for _ in range(6))
print(" ".join(map(str, pids)), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # killed mid-import, as by the OOM killer or kill -9
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for a reaper is gone for our purpose
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_pool_workers_die_with_a_killed_parent():
    out = subprocess.run([sys.executable, "-c", CHILDREN], capture_output=True, text=True, timeout=120, check=False)
    pids = [int(p) for p in out.stdout.split()]
    assert pids, out.stderr
    deadline = time.time() + 10
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if alive(p)]


def test_a_run_left_by_a_dead_process_is_failed_or_resumable(demo):
    import socket

    practice = Organization.objects.get(slug="maple-street-family-medicine")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run = ImportRun.objects.create(
        practice=practice,
        kind="fhir",
        file_name="big.json",
        sha256="x" * 64,
        worker=f"{socket.gethostname()}:{dead.stdout.strip()}",
    )
    live = ImportRun.objects.create(
        practice=practice,
        kind="fhir",
        file_name="now.json",
        sha256="y" * 64,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    small = ImportRun.objects.create(  # writing in one transaction when it died: nothing of it was committed
        practice=practice, kind="csv", file_name="small.csv", sha256="z" * 64, status="writing", total=40,
        done=0, worker=run.worker,
    )  # fmt: skip
    big = ImportRun.objects.create(  # writing in chunks when it died: part of it is in the registry
        practice=practice, kind="bulk", file_name="huge", sha256="w" * 64, status="writing",
        total=300_005, done=5_000, worker=run.worker, chunked=True,
    )  # fmt: skip
    assert fail_abandoned(practice) == 3
    for each in (run, live, small, big):
        each.refresh_from_db()
    assert run.status == "failed" and "nothing was written" in run.problems[0] and run.finished_at is not None
    assert small.status == "failed" and "being written" in small.problems[0]
    assert big.status == "interrupted" and "after 5,000 of" in big.problems[0] and big.finished_at is None
    assert live.status == "validating"
    assert part_written(practice) == big
