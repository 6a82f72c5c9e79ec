"""Field validators for identifiers used on claims."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError

from ccmops.errors import InvalidInput
from ccmops.platform.numerals import ascii_digits
from ccmops.rules.policies import DEFAULT_POLICIES, PolicyError


def npi_is_valid(npi: str) -> bool:
    """NPI check digit: Luhn over the 9 digits with the 80840 health-industry prefix (CMS NPI standard)."""
    if len(npi) != 10 or not ascii_digits(npi):
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(f"{value!r} is not a valid NPI (10 digits with a correct check digit).")


def validate_tin(value: str) -> None:
    if len(value) != 9 or not ascii_digits(value):
        raise ValidationError(f"{value!r} is not a TIN: expected 9 digits without dashes.")


def validate_us_zip(value: str) -> None:
    digits = value.replace("-", "")
    if not ascii_digits(digits) or len(digits) not in (5, 9) or ("-" in value and value.index("-") != 5):
        raise ValidationError(f"{value!r} is not a ZIP code: expected 5 digits or ZIP+4 (62704-1248).")


def validate_us_phone(value: str) -> None:
    if len(value) != 10 or not ascii_digits(value):
        raise ValidationError(f"{value!r} is not a US phone number: expected 10 digits without punctuation.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name such as America/Chicago.")


def validate_place_of_service(value: str) -> None:
    if len(value) != 2 or not ascii_digits(value):
        raise ValidationError(f"{value!r} is not a CMS place-of-service code: expected two digits, e.g. 11.")


def validate_rule_policies(value) -> None:

    if not isinstance(value, dict):
        raise ValidationError("Expected a JSON object of policy names and values.")
    try:
        DEFAULT_POLICIES.with_overrides(value, path="rule_policies")
    except PolicyError as exc:
        raise ValidationError(str(exc)) from None


def plain_text(field: str, value: str) -> str:
    """Text without control characters (a NUL, which PostgreSQL cannot store, a line break in a name)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"{field}: control characters (line breaks, tabs, NUL) are not allowed")
    return value


def reason_given(reason: str) -> str:
    reason = plain_text("reason", (reason or "").strip())
    if len(reason) < 5:
        raise InvalidInput("reason: say why (it is kept in the audit log)")
    if len(reason) > 300:
        raise InvalidInput(f"reason: at most 300 characters, got {len(reason)}")
    return reason
