"""Killing month close with SIGKILL midway and re-running gives exactly the lines of an uninterrupted close;
a second close changes nothing. Runs real processes against a database file (or a scratch PostgreSQL
database when CCMOPS_TEST_DATABASE_URL is set)."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.factories.billing import previous_month
from tests.faults.processes import _database, _drop, run


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_midway_then_rerun_equals_uninterrupted(tmp_path):
    month, _ = previous_month()
    # the demo world with last month's activity (the run's seeded database)
    killed, clean = _database(tmp_path, "killed", seeded=True), _database(tmp_path, "clean", seeded=True)
    try:
        died = run(killed, "close-and-die", month)
        assert died.returncode == -signal.SIGKILL
        partial = json.loads(run(killed, "dump", month).stdout)
        assert run(killed, "close", month).returncode == 0
        resumed = json.loads(run(killed, "dump", month).stdout)
        assert run(clean, "close", month).returncode == 0
        uninterrupted = json.loads(run(clean, "dump", month).stdout)
        assert resumed == uninterrupted and len(uninterrupted) == 4
        assert partial != uninterrupted  # the kill really landed midway
        assert run(killed, "close", month).returncode == 0  # a second close changes nothing
        assert json.loads(run(killed, "dump", month).stdout) == uninterrupted
    finally:
        _drop(killed)
        _drop(clean)


IMPORT_WORKER = Path(__file__).with_name("import_worker.py")


def run_import(url: str, *args: str) -> subprocess.CompletedProcess:
    return run(url, *args, worker=IMPORT_WORKER)  # a process of its own, forked (tests/forkserver.py)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_inside_an_import_chunk_then_rerun_equals_an_uninterrupted_import(tmp_path):
    data = str(tmp_path / "bulk")
    killed, clean = _database(tmp_path, "import_killed"), _database(tmp_path, "import_clean")
    try:
        for url in (killed, clean):
            r = run_import(url, "seed", data)
            assert r.returncode == 0, r.stderr
        died = run_import(killed, "import-and-die", data)
        assert died.returncode == -signal.SIGKILL, died.stderr
        partial = json.loads(run_import(killed, "dump", data).stdout)
        assert partial["runs"][0][0] == "writing" and 0 < partial["runs"][0][1] < partial["runs"][0][2]
        assert run_import(killed, "import", data).returncode == 0  # resumes the same run from its checkpoint
        resumed = json.loads(run_import(killed, "dump", data).stdout)
        assert run_import(clean, "import", data).returncode == 0
        uninterrupted = json.loads(run_import(clean, "dump", data).stdout)
        assert resumed == uninterrupted  # nothing lost, nothing duplicated, one run, succeeded
        assert len(uninterrupted["patients"]) == 300 and uninterrupted["runs"][0][0] == "succeeded"
        assert len(uninterrupted["runs"]) == 1
    finally:
        _drop(killed)
        _drop(clean)
