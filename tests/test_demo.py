import re

import pytest
from django.utils.html import strip_tags

from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Engagement, Membership, Organization, ResponsibilityMatrix, User
from ccmops.patients.models import Patient, PatientCondition

MODELS = [
    Organization,
    User,
    Membership,
    Engagement,
    ResponsibilityMatrix,
    Patient,
    PatientCondition,
    AuditEvent,
]


def test_seeding_twice_duplicates_nothing(demo):
    before = {m.__name__: m.objects.count() for m in MODELS}
    seed_demo()
    after = {m.__name__: m.objects.count() for m in MODELS}
    assert before == after
    assert before["Patient"] == len(world.PATIENTS)
    assert before["Organization"] == 3


def test_reseeding_a_demo_from_an_earlier_version_gives_its_practices_what_claims_now_need(demo):
    maple = Organization.objects.get(slug=world.MAPLE)
    earlier = {"postal_code": "62704", "edi_submitter_id": "", "billing_contact_name": "", "billing_contact_phone": ""}
    Organization.objects.filter(pk=maple.pk).update(**earlier)
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    Organization.objects.filter(pk=riverbend.pk).update(postal_code="80303", billing_contact_name="Front desk")
    seed_demo()
    maple.refresh_from_db()
    riverbend.refresh_from_db()
    assert (maple.postal_code, maple.edi_submitter_id, maple.billing_contact_name, maple.billing_contact_phone) == (
        "62704-1248",
        "DEMO0MAPLE1",
        "Ben Arnaud",
        "2175550142",
    )
    assert (riverbend.postal_code, riverbend.billing_contact_name) == ("80303", "Front desk")  # edited: kept


def test_demo_has_an_in_house_and_a_hybrid_practice_and_a_partner(orgs):
    assert orgs[world.MAPLE].matrix_versions.get().preset == "in_house"
    assert orgs[world.RIVERBEND].matrix_versions.order_by("-version").first().preset == "hybrid_partner_monthly"
    assert orgs[world.SUMMIT].kind == "partner"
    assert Membership.objects.filter(organization=orgs[world.SUMMIT], role="care_manager").count() == 2


def test_demo_patients_come_from_synthea_with_conditions(demo):
    twyla = Patient.objects.get(family_name="Moen")
    assert (twyla.given_name, twyla.family_name) == ("Twyla", "Moen")
    assert twyla.conditions.filter(system="snomed").count() >= 2
    assert Patient.objects.get(family_name="Hane").deceased_on is not None
    assert twyla.medicare_coverage == "medicare" and twyla.care_manager.username == "nora.rn"


@pytest.mark.parametrize(
    ("username", "role", "heading"),
    [
        ("nora.rn", "care_manager", "patients assigned to you"),
        ("dr.patel", "billing_practitioner", "patients with you as billing practitioner"),
        ("ben.biller", "biller", "Practices whose billing function you hold"),
        ("olivia.owner", "program_owner", "Program overview"),
        ("carl.compliance", "compliance_reviewer", "Recent audit events"),
        ("sam.lead", "partner_ops_lead", "Engaged practices"),
        ("pat.rn", "care_manager", "patients assigned to you"),
        ("admin", "system_admin", "System administration"),
    ],
)
def test_each_demo_login_lands_on_its_role_home(login, username, role, heading):
    client = login(username)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == f"/home/{role}/"
    assert heading in response.content.decode()


def test_the_care_manager_home_counts_in_plain_words(login):
    """Nora works for one practice: "1 practice", not "1 practices"; her many patients stay plural."""
    text = " ".join(strip_tags(login("nora.rn").get("/home/care_manager/").content.decode()).split())
    assert re.search(r"\b1 ?practice you work for", text)  # the figure and its label are separate boxes
    assert re.search(r"\b([2-9]|\d\d+) ?patients assigned to you", text)


def test_biller_home_lists_only_practices_whose_billing_they_hold(login):
    page = login("ben.biller").get("/home/biller/").content.decode()
    assert "Maple Street Family Medicine" in page
    assert "Riverbend" not in page


def test_partner_lead_home_shows_the_engaged_practice_and_partner_staff(login):
    page = login("sam.lead").get("/home/partner_ops_lead/").content.decode()
    assert "Riverbend Internal Medicine" in page and "Maple Street" not in page
    assert "Pat Quinn" in page and "Lee Moreno" in page


def test_a_role_the_user_does_not_hold_is_404(login):
    assert login("nora.rn").get("/home/biller/").status_code == 404
