import pytest

from ccmops.organizations.models import User
from ccmops.patients.models import Patient


@pytest.fixture
def twyla(demo):
    return Patient.objects.get(family_name="Moen")


@pytest.fixture
def nora(demo):
    return User.objects.get(username="nora.rn")
