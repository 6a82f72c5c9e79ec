from __future__ import annotations

import pytest
from django.test import Client

from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient
from ccmops.web.mfa import SESSION_VERIFIED


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
