"""Security review item 6: digits that are not ASCII ("²", "٣", "８") pass `str.isdigit()` and crashed `int()`;
every parser now takes ASCII digits only and answers with a clear refusal, never a server error."""

import pytest

from ccmops.organizations.validators import npi_is_valid
from ccmops.platform.numerals import ascii_digits


@pytest.mark.parametrize(
    ("text", "ok"), [("12", True), ("²", False), ("٣", False), ("８", False), ("", False), ("1a", False)]
)
def test_ascii_digits(text, ok):
    assert ascii_digits(text) is ok


def test_npi_with_a_superscript_digit_is_invalid():
    assert not npi_is_valid("100300001²")


def test_pages_refuse_non_ascii_numbers_without_a_server_error(login):
    from ccmops.demo import world
    from ccmops.organizations.models import Organization

    maple = Organization.objects.get(slug=world.MAPLE)
    nora, ben = login("nora.rn"), login("ben.biller")
    assert nora.get("/worklist/?page=²").status_code in (400, 422)
    answer = ben.post(f"/practices/{maple.id}/months/2026-10/approve/", {"version": "²"})
    assert answer.status_code in (302, 400, 422) and answer.status_code < 500
    owner = login("olivia.owner")
    saved = owner.post("/settings/", {"org": world.MAPLE, "npi": "100300001²"})
    assert saved.status_code == 422 and "npi" in saved.content.decode().lower()
