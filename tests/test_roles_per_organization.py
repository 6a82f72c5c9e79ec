"""Security review item 2: a role is honoured only in the organization that granted it. A Maple Street compliance
reviewer who is also a Summit care manager reads Riverbend's patients as Summit's care manager does — not their
audit packets, not Riverbend's or Lakeside's audit log."""

import datetime as dt

from tests.factories.session import mfa_done

from ccmops.access.policy import Role
from ccmops.billing.evaluation import close_month
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Membership, Organization, User
from ccmops.patients.models import Patient
from ccmops.patients.scope import scope_for


def test_a_reviewer_elsewhere_is_a_care_manager_here(demo_activity, db, client):
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


def test_out_of_scope_and_nonexistent_records_get_one_answer(demo_activity, login):
    """Security review item 8: a partner's care manager asking for a Maple Street care plan, consent or patient
    gets the answer a nonexistent one gets — nothing names the patient or practice it belongs to."""
    from ccmops.careplans.models import CarePlan
    from ccmops.enrollment.models import Consent
    from ccmops.errors import NOT_FOUND

    pat = login("pat.rn")
    maple_patient = Patient.objects.get(family_name="Moen")
    plan = CarePlan.objects.filter(patient=maple_patient).first()
    consent = Consent.objects.filter(patient=maple_patient).first()
    for real, missing in (
        (f"/api/care-plans/{plan.id}", "/api/care-plans/999999"),
        (f"/api/patients/{maple_patient.id}", "/api/patients/999999"),
    ):
        a, b = pat.get(real), pat.get(missing)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (404, {"detail": NOT_FOUND}), real
    web_a, web_b = pat.get(f"/consents/{consent.id}/"), pat.get("/consents/999999/")
    assert web_a.status_code == web_b.status_code == 404
    main = [r.content.decode().split("<main")[-1].split("</main>")[0] for r in (web_a, web_b)]
    assert main[0] == main[1]


def test_program_health_and_assessments_are_for_owners_and_partner_leads(login):
    """Security review item 9: a care manager, a biller or a compliance reviewer who can see a practice neither
    reads program health (with its revenue) nor runs a model-fit assessment; its program owner does."""
    seed_demo()
    maple = Organization.objects.get(slug=world.MAPLE)
    for username in ("nora.rn", "ben.biller", "carl.compliance"):
        user = login(username)
        assert user.get(f"/practices/{maple.id}/health/").status_code == 403, username
        assert user.get(f"/api/practices/{maple.id}/health").status_code == 403, username
        assert user.post(f"/api/practices/{maple.id}/assessments", {}, content_type="application/json").status_code in (
            403,
            422,
        )
        assert user.get(f"/practices/{maple.id}/assessments/new/").status_code == 403, username
    owner = login("olivia.owner")
    assert owner.get(f"/practices/{maple.id}/health/").status_code == 200
    assert owner.get(f"/api/practices/{maple.id}/health").status_code == 200


def test_the_api_schema_and_docs_need_a_sign_in_in_production(client, settings, db):
    """Security review item 11."""
    settings.DEBUG = False
    for path in ("/api/openapi.json", "/api/docs"):
        answer = client.get(path, secure=True)
        assert answer.status_code == 302 and "/login/" in answer["Location"], path
    settings.DEBUG = True
    assert client.get("/api/openapi.json").status_code == 200
