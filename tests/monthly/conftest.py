import datetime as dt

import pytest
from django.utils import timezone

from ccmops.organizations.models import User
from ccmops.patients.models import Patient

T0 = timezone.make_aware(dt.datetime(2026, 11, 10, 9, 0), timezone=dt.UTC)


@pytest.fixture
def twyla(demo):
    return Patient.objects.get(family_name="Moen")


@pytest.fixture
def nora(demo):
    return User.objects.get(username="nora.rn")


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)
