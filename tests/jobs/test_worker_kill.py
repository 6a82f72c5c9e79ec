"""Real worker processes against a database file (or a scratch PostgreSQL database when
CCMOPS_TEST_DATABASE_URL is set): a worker killed by SIGKILL in the middle of a job loses nothing — another
worker picks the job up once its lease lapses and the result equals an uninterrupted run, with no row twice —
and two workers running at once never run the same job."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.factories.billing import previous_month
from tests.faults.processes import _database, _drop, env_for, run

WORKER = Path(__file__).with_name("job_worker.py")
FAST_LEASE = {"CCMOPS_JOB_LEASE_SECONDS": "2"}


def dump(url: str, month: str, **env) -> dict:
    done = run(url, "dump", month, worker=WORKER, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("dies", ["work-and-die", "work-and-die-importing"])
def test_a_worker_killed_mid_job_is_replaced_and_the_result_equals_an_uninterrupted_run(tmp_path, dies):
    month, _ = previous_month()
    env = {**FAST_LEASE, "JOB_TEST_DATA": str(tmp_path)}
    killed, clean = _database(tmp_path, "jobs_killed", seeded=True), _database(tmp_path, "jobs_clean", seeded=True)
    killed_kind = "evaluate" if dies == "work-and-die" else "import"
    try:
        for url in (killed, clean):
            seeded = run(url, "seed", month, worker=WORKER, **env)
            assert seeded.returncode == 0, seeded.stderr
        died = run(killed, dies, month, worker=WORKER, **env)
        assert died.returncode == -signal.SIGKILL, died.stderr
        partial = dump(killed, month, **env)
        assert [killed_kind, "running", 1, 0, ""] in partial["jobs"]  # held by the dead worker's lease
        finished = run(killed, "work", month, worker=WORKER, **env)
        assert finished.returncode == 0, finished.stderr
        resumed = dump(killed, month, **env)
        assert run(clean, "work", month, worker=WORKER, **env).returncode == 0
        uninterrupted = dump(clean, month, **env)
        if killed_kind == "evaluate":
            assert partial["lines"] != uninterrupted["lines"]  # the kill really landed midway
        else:
            assert partial["imported"]["runs"][0][0] == "writing"  # chunks written before the kill, not all
            assert partial["imported"] != uninterrupted["imported"]
        for part in ("lines", "decisions", "screening", "screening_runs", "imported"):
            assert resumed[part] == uninterrupted[part], part
        assert uninterrupted["screening_runs"] == 2 and len(uninterrupted["lines"]) > 0
        assert len(uninterrupted["imported"]["patients"]) == 300 and len(uninterrupted["imported"]["runs"]) == 1
        statuses = [(kind, status) for kind, status, *_ in resumed["jobs"]]
        assert statuses == [("evaluate", "succeeded")] * 2 + [("import", "succeeded")] + [("screen", "succeeded")] * 2
        retried = [j for j in resumed["jobs"] if j[3]]
        assert retried == [[killed_kind, "succeeded", 2, 1, ""]]  # picked up once, done on the second attempt
    finally:
        _drop(killed)
        _drop(clean)


def test_two_workers_at_once_run_each_job_once(tmp_path):
    month, _ = previous_month()
    url = _database(tmp_path, "jobs_two", seeded=True)
    try:
        env = {**FAST_LEASE, "JOB_TEST_DATA": str(tmp_path)}
        seeded = run(url, "seed", month, worker=WORKER, **env)
        assert seeded.returncode == 0, seeded.stderr
        procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), "work", month],
                env=env_for(url, **env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
        ran = [json.loads(o[0])["ran"] for o in outs]
        assert sum(ran) == 5  # five jobs, each run by exactly one of the two
        after = dump(url, month, **env)
        assert all(status == "succeeded" and attempts == 1 for _, status, attempts, *_ in after["jobs"])
        assert after["screening_runs"] == 2
    finally:
        _drop(url)
