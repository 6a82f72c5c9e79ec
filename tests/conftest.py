from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client
from tests.worlds import restored

from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Organization, User
from ccmops.patients.models import Patient
from ccmops.web.mfa import SESSION_VERIFIED


def demo_world(*, with_activity: bool = False) -> dict[str, User]:
    """The demo world as `seed_demo()` builds it, seeded once per test process and database and restored from
    what it wrote for each later test (inside the test's transaction; a transactional test seeds it). Returns the
    demo users by username."""
    restored("world", seed_demo)
    if with_activity:  # last month's program activity, on top of the world
        restored("activity", lambda: seed_demo(with_activity=True))
    return {
        u.username: u
        for u in User.objects.filter(username__in=[*(s.username for s in world.STAFF), world.ADMIN_USERNAME])
    }


@pytest.fixture
def demo(db):
    """The demo world (practices, partner, staff, patients) in the test database."""
    return demo_world()


@pytest.fixture
def demo_activity(db):
    """The demo world with last month's program activity (`seed_demo(with_activity=True)`)."""
    return demo_world(with_activity=True)


def demo_patient(family_name: str) -> Patient:
    """A demo patient by family name (the demo cast has one of each)."""
    return Patient.objects.get(family_name=family_name)


@pytest.fixture
def orgs(demo):
    return {o.slug: o for o in Organization.objects.all()}


def mfa_done(client: Client) -> Client:
    """Mark a signed-in test client's session as past the second factor (tests/test_mfa.py tests that step)."""
    session = client.session
    session[SESSION_VERIFIED] = True
    session.save()
    return client


@pytest.fixture
def login(demo):
    """login('nora.rn') -> a test client signed in as that demo user."""

    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=world.DEMO_PASSWORD), username
        return mfa_done(client)

    return _login


# Fuzz cases run (tests/fuzz counts them on the config, shared by every conftest). Under pytest-xdist each worker
# writes its counts to a file at the end and the controller adds them up for the report.
def fuzz_cases(config) -> Counter:
    return config.__dict__.setdefault("ccmops_fuzz_cases", Counter())


FUZZ_COUNTS = Path(__file__).resolve().parents[1] / "var" / "fuzz-counts"


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        for stale in FUZZ_COUNTS.glob("*.json"):
            stale.unlink()


def pytest_sessionfinish(session):
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if worker and fuzz_cases(session.config):
        FUZZ_COUNTS.mkdir(parents=True, exist_ok=True)
        (FUZZ_COUNTS / f"{worker}-{os.getpid()}.json").write_text(json.dumps(fuzz_cases(session.config)))


def pytest_terminal_summary(terminalreporter):
    total = Counter(fuzz_cases(terminalreporter.config))
    for path in FUZZ_COUNTS.glob("*.json"):
        total.update(json.loads(path.read_text()))
    if total:
        terminalreporter.write_sep("-", f"fuzz cases run: {sum(total.values())}")
        for name, n in sorted(total.items()):
            terminalreporter.write_line(f"  {n:>6}  {name}")
