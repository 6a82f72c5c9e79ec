from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from pytest_django.plugin import blocking_manager_key
from tests import databases, worlds
from tests.factories.pages import QUESTIONNAIRE, engagement_for
from tests.factories.session import mfa_done
from tests.worlds import demo_world

from ccmops.assessment.services import run as run_assessment
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import EligibilityInquiry, KnownService, PatientMonthDecision, PayerFile
from ccmops.careplans.models import CarePlan
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.enrollment.jobs import start_screening
from ccmops.enrollment.models import Consent
from ccmops.interop.models import ImportRun
from ccmops.organizations.models import Membership, Organization, User
from ccmops.outbox.models import Outgoing
from ccmops.patients.models import CoverageRecord, Patient, QmbPeriod
from ccmops.timetracking.models import TimeEntry


def _portal_token(patient) -> str:
    """A patient-page link of the patient (issue 36): its token, for the routes that take one."""
    from ccmops.portal.models import PatientLink
    from ccmops.portal.services import _hash

    token = f"isolation-{patient.practice.slug}"
    now = dt.datetime.now(dt.UTC)
    sender = patient.care_manager or User.objects.first()
    PatientLink.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        purpose="page",
        token_hash=_hash(token),
        channel="sms",
        sent_by=sender,
        created_at=now,
        expires_at=now + dt.timedelta(days=1),
    )
    return token


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (the header's inbox count is kept per user id, and a restored world
    gives its users the same ids in every test)."""
    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture
def demo(db):
    """The demo world (practices, partner, staff, patients) in the test database."""
    return demo_world()


@pytest.fixture
def demo_activity(db):
    """The demo world with last month's program activity (`seed_demo(with_activity=True)`)."""
    return demo_world(with_activity=True)


@pytest.fixture
def orgs(demo):
    return {o.slug: o for o in Organization.objects.all()}


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


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the run's first process: its workers inherit the run's id
        # given from outside (`.ci/run`, so that its clean-up finds a killed run's databases) or made here
        os.environ.setdefault("CCMOPS_TEST_RUN_ID", uuid.uuid4().hex)
        if getattr(config.option, "numprocesses", None):
            # Under pytest-xdist this process only hands out tests: it migrates the run's database while the
            # workers start and collect, instead of the first worker to need it doing so while the others wait.
            config.ccmops_migrating = threading.Thread(target=databases.template, args=("migrated",), daemon=True)
            config.ccmops_migrating.start()


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        for stale in FUZZ_COUNTS.glob("*.json"):
            stale.unlink()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each worker's test database starts as a copy of the run's migrated database (tests/databases.py) instead of
    migrating on its own: PostgreSQL creates it from that template; SQLite creates the tables (no migrations) and
    `django_db_setup` below overwrites the in-memory database with the template's pages."""
    from django.conf import settings

    test = settings.DATABASES["default"].setdefault("TEST", {})
    if databases.server() is None:
        test["MIGRATE"] = False
    else:
        test["TEMPLATE"] = databases.template("migrated").rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            databases.load_migrated_into(connection)
        worlds.remember_template(connection)
    django_db_setup_done.append(True)
    yield
    django_db_setup_done.clear()  # the test database is dropped next


django_db_setup_done: list[bool] = []


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    marked = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    return bool(marked) or "transactional_db" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # after Django's flush, back to the database as made (not after the last test: the database is dropped then)
    if django_db_setup_done and nextitem is not None and _transactional(item):
        with item.config.stash[blocking_manager_key].unblock():
            worlds.back_to_template(connection)


def pytest_sessionfinish(session):
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if not worker:  # the run's first process, after its workers: the shared databases go
        if hasattr(session.config, "ccmops_migrating"):
            session.config.ccmops_migrating.join()
        databases.remove_run_databases()
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


@pytest.fixture
def world_ids(db):
    """Both demo practices with a running program and last month closed; per practice, the ids to attack with."""
    seed_demo(with_activity=True)
    # A user with memberships in several organizations (security review, item 2): Riverbend's biller is also a
    # care manager at Summit, which serves Riverbend and Lakeside — and still sees nothing of Maple Street.
    Membership.objects.get_or_create(
        user=User.objects.get(username="rick.biller"),
        organization=Organization.objects.get(slug=world.SUMMIT),
        role="care_manager",
        defaults={"is_clinical_staff": True},
    )
    ids = {}
    first = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = f"{first.year:04d}-{first.month:02d}"
    for slug in (world.MAPLE, world.RIVERBEND):
        practice = Organization.objects.get(slug=slug)
        close_month(practice=practice, month=month)
        patient = Patient.objects.filter(practice=practice, consents__isnull=False).first()
        ids[slug] = {
            "patient_id": patient.id,
            "practice_id": practice.id,
            "month": month,
            "claim_id": f"{patient.id}-{month}",
            "kind": "837p",
            "instrument": "phq9",
            "role": "care_manager",
            "consent_id": Consent.objects.filter(patient=patient).first().id,
            "plan_id": CarePlan.objects.filter(patient=patient).first().id,
            "decision_id": PatientMonthDecision.objects.filter(patient=patient).first().id,
            "note_id": 0,
            "task_id": 0,
            "run_id": ImportRun.objects.filter(practice=practice).first().id,
            "timer_id": 0,
            "entry_id": TimeEntry.objects.filter(practice=practice).first().id,
            "family": patient.family_name,
            "mrn": patient.mrn,
            "assessment_id": run_assessment(practice=practice, questionnaire=QUESTIONNAIRE, by=None).id,
            "membership_id": practice.memberships.first().id,
            "user_id": practice.memberships.filter(role="care_manager").first().user_id,
            "practitioner_id": practice.practitioners.first().id,
            "engagement_id": engagement_for(practice).id,
            "control_number": 1,  # no 837P yet: the practice check comes first
            "job_id": start_screening(practice=practice, by=None, run_here=False).id,
            "period_id": QmbPeriod.objects.create(
                practice=practice,
                patient=patient,
                start=dt.date(2026, 1, 1),
                source="test",
                recorded_at=dt.datetime.now(dt.UTC),
            ).id,
            "record_id": CoverageRecord.objects.create(
                practice=practice,
                patient=patient,
                source_id="manual:isolation-test",
                payer="medicare",
                source="test",
            ).id,
            "condition_id": patient.conditions.first().id,
            "item_id": Outgoing.objects.create(
                practice=practice,
                patient=patient,
                kind="note",
                object_id=0,
                status="parked",
                identifier=f"urn:ccmops:{practice.id}:note:isolation",
                next_attempt_at=dt.datetime.now(dt.UTC),
                created_at=dt.datetime.now(dt.UTC),
            ).id,
            "file_id": PayerFile.objects.create(
                practice=practice,
                kind="999",
                sender="ISOLATION",
                control_number=str(practice.id),
                name="ack.999",
                content="",
                summary={"batch": 1, "month": month, "verdict": "A", "rejected_claims": []},
                received_at=dt.datetime.now(dt.UTC),
            ).id,
            "token": _portal_token(patient),
            "inquiry_id": EligibilityInquiry.objects.create(
                practice=practice,
                month=month,
                control_number=900 + practice.id,
                content="ISA*",
                patients=1,
                created_at=dt.datetime.now(dt.UTC),
            ).id,
            "service_id": KnownService.objects.create(
                practice=practice,
                patient=patient,
                code="99495",
                date_of_service=dt.date(2026, 1, 5),
                same_group=False,
                source="test",
                recorded_at=dt.datetime.now(dt.UTC),
            ).id,
        }
    return ids
