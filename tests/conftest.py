from __future__ import annotations

import pytest
from django.test import Client

from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient


@pytest.fixture
def demo(db):
    """The demo world (practices, partner, staff, patients) in the test database."""
    return seed_demo()


def demo_patient(family_name: str) -> Patient:
    """A demo patient by family name (the demo cast has one of each)."""
    return Patient.objects.get(family_name=family_name)


@pytest.fixture
def orgs(demo):
    return {o.slug: o for o in Organization.objects.all()}


@pytest.fixture
def login(demo):
    """login('nora.rn') -> a test client signed in as that demo user."""

    def _login(username: str) -> Client:
        client = Client()
        assert client.login(username=username, password=world.DEMO_PASSWORD), username
        return client

    return _login
