"""The EHR stand-in and a practice connected to it, through the Settings page (issue 34)."""

import pytest
from tests.ehr.fhir_server import FhirServer

from ccmops.organizations.models import Organization
from ccmops.patients.models import Patient


@pytest.fixture
def ehr():
    with FhirServer() as server:
        yield server


@pytest.fixture
def connected(demo, ehr, login):
    """Maple Street connected by its program owner, through the Settings page; its EHR knows Twyla Moen."""
    maple = Organization.objects.get(slug="maple-street-family-medicine")
    owner = login("olivia.owner")
    form = {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple", "token_url": "",
            "scopes": "", "algorithm": "ES384", "note_type": "11506-3", "write_back": "on",
            "group_id": "maple-panel"}  # fmt: skip
    assert owner.post("/settings/ehr/", form).status_code == 200
    assert owner.post("/settings/ehr/", {"org": maple.slug, "action": "generate_key"}).status_code == 200
    ehr.jwks["ccmops-maple"] = owner.get(f"/ehr/{maple.id}/jwks.json").json()  # the EHR fetches ccmops's JWKS
    twyla = Patient.objects.get(family_name="Moen", practice=maple)
    ehr.patients["p-1"] = twyla.mrn
    return maple, twyla, owner
