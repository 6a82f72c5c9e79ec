"""Killing a care manager's timer session with SIGKILL at random writes (and right after a write committed but
before the browser heard back), then letting the browser carry on, loses no minute and duplicates none: the
entries equal those of an uninterrupted session and every stopped timer has exactly its one entry."""

import datetime as dt
import json
import random
import signal
import sys
from pathlib import Path

import pytest
from tests.faults.processes import _database, _drop, copy_of
from tests.faults.processes import run as run_worker

WORKER = Path(__file__).with_name("timer_worker.py")


def run(url: str, *args: str, **env):
    return run_worker(url, *args, worker=WORKER, **env)


def fresh(tmp_path, name: str, seeded: str, t0: str) -> str:
    """A copy of the seeded database."""
    return copy_of(seeded, tmp_path, name)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_during_timer_writes_loses_and_duplicates_nothing(tmp_path):
    # 03:00 UTC: the night before in the demo practices, whose seeded work happens in office hours (a session at
    # 14:00 UTC met the demo's own entries of the day once the clock passed them)
    t0 = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    t0s = t0.isoformat()
    base = _database(tmp_path, "timer_base", seeded=True)  # the demo world with last month's activity
    urls = [base]
    try:
        clean = fresh(tmp_path, "timer_clean", base, t0s)
        urls.append(clean)
        full = run(clean, "run", t0s, str(tmp_path / "clean.journal"))
        assert full.returncode == 0, full.stderr
        saves = json.loads(full.stdout)["saves"]
        expected = json.loads(run(clean, "dump", t0s).stdout)
        assert expected["problems"] == [] and len(expected["entries"]) == 3
        rng = random.Random(20261127)
        cases = [{"CCMOPS_KILL_AT": str(k)} for k in sorted(rng.sample(range(1, saves + 1), 3))]
        cases += [{"CCMOPS_KILL_AFTER_OP": str(k)} for k in (6, 7)]  # after the stop, after the late entry
        for n, env in enumerate(cases):
            url = fresh(tmp_path, f"timer_kill{n}", base, t0s)
            urls.append(url)
            journal = str(tmp_path / f"kill{n}.journal")
            died = run(url, "run", t0s, journal, **env)
            assert died.returncode == -signal.SIGKILL, (env, died.stderr)
            middle = json.loads(run(url, "dump", t0s).stdout)
            assert middle["problems"] == [], (env, middle)  # consistent even right after the kill
            carried_on = run(url, "run", t0s, journal)
            assert carried_on.returncode == 0, (env, carried_on.stderr)
            assert json.loads(run(url, "dump", t0s).stdout) == expected, env
    finally:
        for url in urls:
            _drop(url)
