"""A patient's contact details and Medicare identifier, corrected in ccmops by those who work with the patient
(a new phone number learned on a call, an MBI the claim needs) — each change validated, audited in the patient's
chart (the fields, not their values: the audit log carries no more PHI than it needs), and kept by later imports
that say nothing of the field (an EHR export that does carry one replaces it: the EHR stays the source)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from ccmops.access.operating_model import Function
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.organizations.validators import plain_text, validate_time_zone, validate_us_zip
from ccmops.patients.models import Patient
from ccmops.patients.vocabulary import MBI_LETTERS, US_STATE_CODES
from ccmops.platform.numerals import ascii_digits

# Anyone who works with the patient: enrollment, the monthly calls, coordination or billing.
EDITORS = (Function.MONTHLY_OUTREACH, Function.ENROLLMENT_CONSENT, Function.CARE_COORDINATION, Function.BILLING)
VALIDATORS = {"postal_code": validate_us_zip, "time_zone": validate_time_zone}  # as for the practice's own
FIELDS = ("phone", "email", "preferred_language", "address_line", "city", "state", "postal_code", "medicare_id",
          "time_zone")  # fmt: skip
# CMS's MBI format: C A AN N A AN N A A N N, letters without S, L, O, I, B and Z (cms.gov, "Understanding the MBI")
_A, _AN = f"[{MBI_LETTERS}]", f"[0-9{MBI_LETTERS}]"
MBI = re.compile(rf"^[1-9]{_A}{_AN}[0-9]{_A}{_AN}[0-9]{_A}{{2}}[0-9]{{2}}$")


def _clean(name: str, raw) -> str:
    text = plain_text(name, str(raw if raw is not None else "").strip())
    if name == "phone" and text:
        digits = "".join(c for c in text if ascii_digits(c))
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10:
            raise InvalidInput(f"phone: expected a 10-digit US number, e.g. 217-555-0142, got {text!r}")
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if name == "email" and text:
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput(f"email: expected an email address such as name@example.org, got {text!r}") from None
    if name == "medicare_id" and text:
        text = text.replace("-", "").replace(" ", "").upper()
        if not MBI.match(text):
            raise InvalidInput(
                "medicare_id: not a Medicare Beneficiary Identifier (11 characters like 1EG4TE5MK73: digits and "
                "letters in CMS's pattern, without S, L, O, I, B or Z)"
            )
    if name == "state" and text:
        text = text.upper()
        if text not in US_STATE_CODES:
            raise InvalidInput(f"state: expected a two-letter state code such as IL, got {text!r}")
    if name == "postal_code" and text:
        digits = text.replace("-", "").replace(" ", "")
        text = digits if len(digits) != 9 else f"{digits[:5]}-{digits[5:]}"
    if name in VALIDATORS and text:
        try:
            VALIDATORS[name](text)
        except ValidationError as exc:
            raise InvalidInput(f"{name}: {' '.join(exc.messages)}") from None
    limit = Patient._meta.get_field(name).max_length
    if len(text) > limit:
        raise InvalidInput(f"{name}: at most {limit} characters, got {len(text)}")
    return text


@transaction.atomic
def change_details(*, patient: Patient, changes: dict, by) -> list[str]:
    """Correct some of the patient's contact details or MBI; returns the fields that changed.

    Raises:
        InvalidInput: an unknown field or a malformed value, naming the field (nothing is saved).
    """
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)}: not a patient detail ccmops keeps; expected {', '.join(FIELDS)}")
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    # a value sent back as it is stored is left alone, even one an import brought that ccmops would not accept
    # as typed (the form sends every field; correcting the phone must not wait on an old address)
    given = {
        name: raw
        for name, raw in changes.items()
        if str(raw if raw is not None else "").strip() != getattr(patient, name)
    }
    values = {name: _clean(name, raw) for name, raw in given.items()}
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(patient, name, values[name])
    patient.save(update_fields=[*changed, "updated_at"])
    record_audit(action=AuditAction.UPDATE, user=by, patient=patient, obj=patient, detail={"changed": changed})
    return changed
