import pytest
from tests.factories.enrollment import complete

from ccmops.careplans.services import create_from_template
from ccmops.organizations.models import Practitioner, User
from ccmops.patients.models import Patient


@pytest.fixture
def twyla(demo):
    return Patient.objects.get(family_name="Moen")


@pytest.fixture
def nora(demo):
    return User.objects.get(username="nora.rn")


@pytest.fixture
def dr_patel(demo):
    return User.objects.get(username="dr.patel")


@pytest.fixture
def patel(demo):
    return Practitioner.objects.get(npi="1003000019")


@pytest.fixture
def approved_plan(twyla, nora, dr_patel):
    from ccmops.careplans.services import approve, save_version

    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    save_version(plan=plan, content=complete(plan.latest.content), by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    approve(version=plan.latest, by=dr_patel, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    return plan
