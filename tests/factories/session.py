"""Signing in as the demo world's people in tests."""

from __future__ import annotations

from django.test import Client

from ccmops.patients.models import Patient
from ccmops.web.mfa import SESSION_VERIFIED


def mfa_done(client: Client) -> Client:
    """Mark a signed-in test client's session as past the second factor (tests/test_mfa.py tests that step)."""
    session = client.session
    session[SESSION_VERIFIED] = True
    session.save()
    return client


def demo_patient(family_name: str) -> Patient:
    """A demo patient by family name (the demo cast has one of each)."""
    return Patient.objects.get(family_name=family_name)
