"""The program owner's way from a new practice to its first claim: each step read from the practice's data."""

import re

from django.core.management import call_command
from django.test import Client
from tests.factories.session import mfa_done

from ccmops.administration import org_settings, practitioners
from ccmops.demo import world
from ccmops.organizations.engagements import practice_today
from ccmops.organizations.models import Organization, User
from ccmops.reporting.setup import practice_setup


def steps(practice) -> dict[str, bool]:
    practice.refresh_from_db()
    return {s.key: s.done for s in practice_setup(practice, practice_today(practice))}


def test_a_new_practice_is_shown_its_way_to_a_first_claim(db, capsys):
    call_command(
        "org", "create", "--kind", "practice", "--slug", "oak-family", "--name", "Oak Family Practice",
        "--time-zone", "America/Chicago", "--lead-username", "ola.owner", "--lead-first-name", "Ola",
        "--lead-last-name", "Berg",
    )  # fmt: skip
    oak = Organization.objects.get(slug="oak-family")
    assert not any(steps(oak).values())
    claims = practice_setup(oak, practice_today(oak))[0]
    assert "NPI is missing" in claims.detail and "more" in claims.detail
    org_settings.change_settings(
        org=oak,
        changes={
            "npi": "1003000993",
            "tin": "123456789",
            "address_line": "1 Oak Lane",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62704-1248",
            "medicare_contractor_name": "NGS",
            "medicare_contractor_id": "06102",
            "edi_submitter_id": "OAK01",
            "billing_contact_name": "Ola Berg",
            "billing_contact_phone": "2175550100",
        },
        by=None,
    )
    p = practitioners.add_practitioner(
        org=oak, first_name="Ida", last_name="Holm", npi="1234567893", credential="MD", by=None
    )
    assert steps(oak)["practitioners"] and not steps(oak)["billing_practitioner"]
    assert steps(oak)["claims"]
    call_command(
        "staff", "add", "--org", "oak-family", "--username", "ida.md", "--role", "billing_practitioner",
        "--first-name", "Ida", "--last-name", "Holm", "--practitioner-npi", p.npi,
    )  # fmt: skip
    call_command(
        "staff", "add", "--org", "oak-family", "--username", "cy.rn", "--role", "care_manager",
        "--first-name", "Cy", "--last-name", "Moss", "--credential", "RN",
    )  # fmt: skip
    done = steps(oak)
    assert done["billing_practitioner"] and done["monthly_work"] and not done["patients"]
    # the program owner sees the steps on their home, each done or not
    ola = User.objects.get(username="ola.owner")
    ola.password_change_required = False
    ola.save()
    client = Client()
    client.force_login(ola)
    body = mfa_done(client).get("/home/program_owner/").content.decode()
    assert 'id="setup-oak-family"' in body
    assert re.search(r'id="step-oak-family-claims" class="done"', body)
    assert re.search(r'id="step-oak-family-patients" class="todo"', body)


def test_a_running_program_shows_no_setup_steps(demo_activity, login):

    maple = Organization.objects.get(slug=world.MAPLE)
    from ccmops.enrollment.screening import screen_practice

    screen_practice(practice=maple)
    assert all(steps(maple).values()), steps(maple)
    body = login("olivia.owner").get("/home/program_owner/").content.decode()
    assert "Program overview" in body and "setup-" + world.MAPLE not in body
