"""The database going away (connections refused, as when the server stops or fails over) gives every page and
API call a clear 503 that says nothing was saved, writes nothing, and the next request after it returns works.

On PostgreSQL (CCMOPS_TEST_DATABASE_URL, as in CI) real connection attempts to a port where nothing listens
stand in for the stopped server. On SQLite a separate process moves the database file's directory away (an
unmounted volume) and back."""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from tests import databases, forkserver
from tests.factories.session import mfa_done

from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.timetracking.models import TimeEntry

ON_POSTGRES = os.environ.get("CCMOPS_TEST_DATABASE_URL", "").startswith("postgres")
WORKER = Path(__file__).with_name("outage_worker.py")


@pytest.fixture
def outage():
    if not ON_POSTGRES:
        pytest.skip("the PostgreSQL variant; SQLite's is test_sqlite_file_going_away_gives_a_clear_503_then_recovers")
    """Make the server unreachable for new connections, then bring it back."""
    real = connection.settings_dict["PORT"]

    def down():
        connection.close()
        connection.settings_dict["PORT"] = 9  # the discard port: nothing listens, connections are refused

    def up():
        connection.settings_dict["PORT"] = real

    yield down, up
    up()


def test_outage_gives_a_clear_503_then_recovers(transactional_db, outage):
    seed_demo(with_activity=True)
    down, up = outage
    # As in production: an error outside a view (the session or user lookup) goes to handler500, not the test.
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="nora.rn"))
    mfa_done(client)
    twyla = Patient.objects.get(family_name="Moen")
    entries = TimeEntry.objects.count()
    assert client.get("/worklist/").status_code == 200

    down()
    page = client.get("/worklist/")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "The database is not reachable right now. Nothing from this request was saved" in page.content.decode()
    api = client.post(
        f"/api/patients/{twyla.id}/time-entries",
        {"activity": "care_coordination_call", "start": "2026-11-02T15:00:00Z", "minutes": 12, "reason": "late"},
        content_type="application/json",
    )
    assert api.status_code == 503 and "not reachable" in api.json()["detail"]

    up()
    assert client.get("/worklist/").status_code == 200
    assert TimeEntry.objects.count() == entries  # the refused write left nothing behind


def test_sqlite_file_going_away_gives_a_clear_503_then_recovers(tmp_path):
    db = tmp_path / "volume" / "ccmops.sqlite3"
    # the demo world with last month's activity (the run's seeded database)
    databases.copy_of(databases.template("seeded", sqlite=True), db)
    env = {
        **os.environ,
        "CCMOPS_DATABASE_URL": f"sqlite:///{db}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("CCMOPS_DEBUG", None)
    run = forkserver.run([str(WORKER), str(db)], env)  # a process of its own (tests/forkserver.py)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["before"] == 200 and out["after"] == 200 and out["entries_unchanged"]
    status, retry, body = out["down_page"]
    assert status == 503 and retry == "5" and "Nothing from this request was saved" in body
    assert out["down_api"][0] == 503 and "not reachable" in json.loads(out["down_api"][1])["detail"]
