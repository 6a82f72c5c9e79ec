"""The demo world with its six months of program history, seeded once per module and rolled back after it."""

from __future__ import annotations

import pytest
from django.db import transaction
from tests.worlds import restored

from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Organization


@pytest.fixture(scope="module")
def history_db(django_db_setup, django_db_blocker):
    """Seeding history takes some seconds, so a module shares it: the seed (once per test run, then written
    back from its row difference: tests/worlds.py) runs inside an outer transaction that is rolled back at the
    end, and each test (with `db`) runs in a savepoint inside it, as Django's TestCase.setUpTestData does."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            restored("history", lambda: seed_demo(with_activity=True, with_history=True))
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def history(history_db, db):
    return {o.slug: o for o in Organization.objects.all()}


@pytest.fixture
def demo(history):
    """The shared `login` fixture (tests/conftest.py) signs in to this world, history included."""
    return history
