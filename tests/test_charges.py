"""A practice's charge schedule (R-CLM-CHG-1): kept by its program owner on Settings, the API and the command
line, validated, audited, compared with Medicare's national amounts, and a getting-started step before the first
claim."""

import datetime as dt

import pytest
from django.core.management import call_command

from ccmops.compliance.models import AuditEvent
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.organizations.charges import set_charges
from ccmops.organizations.models import Organization
from ccmops.reporting.setup import practice_setup


def maple() -> Organization:
    return Organization.objects.get(slug=world.MAPLE)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"99490": "eighty"}, "99490: expected an amount in dollars"),
        ({"99490": "0"}, r"99490: expected an amount above \$0"),
        ({"99490": "85.005"}, "in cents"),
        ({"99490": "８５"}, "99490: expected an amount in dollars"),  # full-width digits are not ASCII digits
        ({"12345": "85"}, "12345: not a code ccmops bills"),
    ],
)
def test_a_bad_charge_is_named_and_nothing_changes(demo, values, named):
    before = dict(maple().charge_schedule)
    with pytest.raises(InvalidInput, match=named):
        set_charges(org=maple(), values=values, by=None)
    assert maple().charge_schedule == before


def test_settings_page_api_and_cli_keep_the_charges(login):
    owner = login("olivia.owner")
    page = owner.get(f"/settings/?org={world.MAPLE}").content.decode()
    assert 'id="charges"' in page and "Medicare national allowed" in page and "$66.13" in page
    saved = owner.post("/settings/charges/", {"org": world.MAPLE, "charge_99490": "90.00", "charge_G0511": ""})
    assert saved.status_code == 302 and "99490+85.00+%E2%86%92+90.00" in saved["Location"].replace("%20", "+")
    assert maple().charge_schedule["99490"] == "90.00"
    event = AuditEvent.objects.filter(object_type="charge_schedule").latest("id")
    assert event.detail == {"changed": {"99490": ["85.00", "90.00"]}}
    low = owner.post("/settings/charges/", {"org": world.MAPLE, "charge_99490": "40.00"})
    assert low.status_code == 302
    page = owner.get(f"/settings/?org={world.MAPLE}").content.decode()
    assert "below what Medicare allows" in page
    api = owner.patch(
        f"/api/settings/charges?org={world.MAPLE}", {"charges": {"99439": "66.50"}}, content_type="application/json"
    )
    assert api.status_code == 200 and api.json() == {"changed": {"99439": ["65.00", "66.50"]}}
    assert owner.get(f"/api/settings?org={world.MAPLE}").json()["charges"]["99439"] == "66.50"
    call_command("org", "set-charges", "--org", world.MAPLE, "99487=200", "99489=")
    assert maple().charge_schedule["99487"] == "200.00" and "99489" not in maple().charge_schedule
    assert login("nora.rn").post("/settings/charges/", {"org": world.MAPLE, "charge_99490": "1"}).status_code in (
        403,
        404,
    )


def test_charges_are_a_getting_started_step(demo):
    practice = maple()
    step = next(s for s in practice_setup(practice, dt.date.today()) if s.key == "charges")
    assert step.done
    practice.charge_schedule = {}
    practice.save()
    step = next(s for s in practice_setup(practice, dt.date.today()) if s.key == "charges")
    assert not step.done and "no charge yet for 99490, 99439" in step.detail
