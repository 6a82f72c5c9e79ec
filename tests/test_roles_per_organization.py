"""Security review item 2: a role is honoured only in the organization that granted it. A Maple Street compliance
reviewer who is also a Summit care manager reads Riverbend's patients as Summit's care manager does — not their
audit packets, not Riverbend's or Lakeside's audit log."""

import datetime as dt

from tests.conftest import mfa_done

from ccmops.access.policy import Role
from ccmops.access.scope import scope_for
from ccmops.billing.close import close_month
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Membership, Organization, User
from ccmops.patients.models import Patient


def test_a_reviewer_elsewhere_is_a_care_manager_here(db, client):
    seed_demo(with_activity=True)
    carl = User.objects.get(username="carl.compliance")
    summit = Organization.objects.get(slug=world.SUMMIT)
    Membership.objects.create(user=carl, organization=summit, role="care_manager", is_clinical_staff=True)
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    maple = Organization.objects.get(slug=world.MAPLE)
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = f"{last:%Y-%m}"
    close_month(practice=riverbend, month=month)
    close_month(practice=maple, month=month)
    decision = scope_for(carl).decision
    assert decision.roles_at(riverbend.id) == {Role.CARE_MANAGER}
    assert Role.COMPLIANCE_REVIEWER in decision.roles_at(maple.id)
    client.force_login(carl)
    mfa_done(client)
    lemke = Patient.objects.get(family_name="Lemke")
    assert client.get(f"/patients/{lemke.id}/").status_code == 200  # as Summit's care manager
    for fmt in ("", "?format=pdf"):
        assert client.get(f"/patients/{lemke.id}/packets/{month}/{fmt}").status_code == 403
    moen = Patient.objects.get(family_name="Moen")
    assert client.get(f"/patients/{moen.id}/packets/{month}/").status_code == 200  # Maple's reviewer
    log = client.get("/audit/?format=csv").content.decode()
    assert "Maple Street" in log or str(maple.id) in log
    assert "Lemke" not in log and "Riverbend" not in log and "Lakeside" not in log
