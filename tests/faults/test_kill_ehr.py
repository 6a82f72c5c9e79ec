"""Killing the delivery worker by SIGKILL right after the EHR filed a document, before ccmops recorded it, then
delivering again: every signed note is in the EHR exactly once (issue 34: the conditional create on ccmops's
identifier finds the copy the dead worker left), on SQLite and PostgreSQL."""

import json
import signal
import sys
from pathlib import Path

import pytest
from tests.ehr.fhir_server import FhirServer
from tests.faults.processes import _database, _drop
from tests.faults.processes import run as run_worker

WORKER = Path(__file__).with_name("ehr_worker.py")


def run(url: str, *args: str, **env):
    return run_worker(url, *args, worker=WORKER, **env)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_after_the_ehr_filed_a_document_files_nothing_twice(tmp_path):
    url = _database(tmp_path, "ehr")
    try:
        with FhirServer() as ehr:
            setup = run(url, "setup", ehr.url)
            assert setup.returncode == 0, setup.stderr
            made = json.loads(setup.stdout)
            ehr.jwks["ccmops-maple"] = made["jwks"]
            ehr.patients["p-1"] = made["mrn"]
            died = run(url, "deliver", CCMOPS_KILL_AFTER_CREATE="2")
            assert died.returncode == -signal.SIGKILL, died.stderr
            assert len(ehr.documents) == 2  # the EHR filed the second; ccmops never heard
            middle = json.loads(run(url, "dump").stdout)
            assert [status for _, status, _ in middle] == ["sent", "queued", "queued"]  # the second rolled back
            again = run(url, "deliver")
            assert again.returncode == 0, again.stderr
            assert json.loads(again.stdout) == {"delivered": 2, "retrying": 0, "parked": 0}
            assert [status for _, status, _ in json.loads(run(url, "dump").stdout)] == ["sent"] * 3
            assert len(ehr.documents) == 3  # the second was found by its identifier, not filed again
            reasons = sorted(d["content"][0]["attachment"]["title"] for d in ehr.documents.values())
            assert len(set(json.dumps(d["identifier"]) for d in ehr.documents.values())) == 3, reasons
    finally:
        _drop(url)
