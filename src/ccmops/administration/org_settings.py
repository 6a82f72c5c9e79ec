"""An organization's own settings, kept by its leads without the administrator: a practice's claim identity
(group NPI, TIN, billing address, place of service, Medicare contractor, EDI submitter, billing contact, who
sends its claims), its time zone and program settings; a partner's name, time zone, EDI submitter ID and billing
contact (used when it sends a practice's claims). Practitioners: `practitioners`; rule policies: `rule_policies`.

Every change is one transaction, validated field by field with the same validators as the claim file uses, and
audited in the organization's chain with each field's value before and after. Two changes are guarded because
they would rewrite history: the time zone decides which calendar month each minute falls in (R-TIME-10), so it
is fixed once time has been recorded or a month closed (and a practitioner's NPI once billed: `practitioners`).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ccmops.access.operating_model import Preset
from ccmops.access.policy import OrgKind, Role
from ccmops.administration.staff import Added, add_staff
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.models import MonthClose
from ccmops.organizations.changes import record_change
from ccmops.organizations.models import Engagement, Organization
from ccmops.organizations.services import record_matrix_version
from ccmops.organizations.validators import plain_text
from ccmops.patients.vocabulary import US_STATE_CODES
from ccmops.platform.numerals import ascii_digits
from ccmops.timetracking.models import TimeEntry


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    help: str = ""
    number: tuple[int, int] | None = None  # (least, most) for a whole number


CLAIM_CONTACT = (
    Setting("edi_submitter_id", "EDI submitter ID", "assigned by the Medicare contractor at EDI enrollment (ISA06)"),
    Setting("billing_contact_name", "Billing contact", "whom the contractor calls about a claim file (PER)"),
    Setting("billing_contact_phone", "Billing contact phone", "10 digits"),
)
PRACTICE_SETTINGS = (
    Setting("name", "Practice name"),
    Setting("npi", "Group NPI", "the billing provider on every claim (10 digits)"),
    Setting("tin", "TIN", "9 digits, no dashes"),
    Setting("address_line", "Billing address"),
    Setting("city", "City"),
    Setting("state", "State", "two letters, e.g. IL"),
    Setting("postal_code", "ZIP+4", "nine digits (62704-1248): an 837P needs them"),
    Setting("place_of_service", "Place of service", "CMS code of the billing location, e.g. 11 office"),
    Setting("billing_provider_type", "Billing provider is", "on the 837P (loop 2010AA): the group, or a practitioner"),
    Setting("taxonomy_code", "Billing provider taxonomy", "optional, e.g. 207Q00000X family medicine (PRV)"),
    Setting("time_zone", "Time zone", "IANA name; months are counted in it"),
    Setting("medicare_contractor_name", "Medicare contractor", "the MAC receiving the 837P"),
    Setting("medicare_contractor_id", "Contractor payer ID"),
    *CLAIM_CONTACT,
    Setting("claims_submitter", "Claims sent by", "the practice, or an engaged partner as its billing agent (slug)"),
    Setting("timer_idle_credit_minutes", "Idle minutes credited to a timer", number=(0, 30)),
    Setting("timer_idle_drop_minutes", "Idle minutes after which a timer drops them", number=(1, 240)),
    Setting("unreachable_after_attempts", "Failed attempts before unreachable", number=(1, 20)),
)
PARTNER_SETTINGS = (
    Setting("name", "Partner name"),
    Setting("time_zone", "Time zone", "IANA name"),
    *CLAIM_CONTACT,
)


def settings_for(org: Organization) -> tuple[Setting, ...]:
    return PRACTICE_SETTINGS if org.is_practice else PARTNER_SETTINGS


def current(org: Organization) -> dict[str, object]:
    """The organization's settings as they are now (the claims submitter by slug)."""
    out: dict[str, object] = {}
    for s in settings_for(org):
        if s.name == "claims_submitter":
            out[s.name] = org.claims_submitter.slug if org.claims_submitter_id else ""
        else:
            out[s.name] = getattr(org, s.name)
    return out


def submitter_choices(org: Organization) -> list[Organization]:
    """The partners that may send a practice's claims: those engaged with it now or from a later date (and the
    one named already, so that saving other settings never drops it)."""
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(org.time_zone))
    engaged = Engagement.objects.filter(practice=org).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    ids = set(engaged.values_list("partner_id", flat=True)) | {org.claims_submitter_id}
    return list(Organization.objects.filter(id__in=ids, kind="partner").order_by("name"))


def time_zone_fixed(org: Organization) -> str:
    """Why the practice's time zone can no longer change ("" while it can)."""
    if not org.is_practice:
        return ""

    if MonthClose.objects.filter(practice=org).exists():
        return "a month has been closed in it"
    if TimeEntry.objects.filter(practice=org).exists():
        return "time has been recorded in it"
    return ""


def _value(org: Organization, s: Setting, raw) -> object:
    text = plain_text(s.name, str(raw if raw is not None else "").strip())
    if s.number is not None:
        least, most = s.number
        if not ascii_digits(text) or not least <= int(text) <= most:
            raise InvalidInput(f"{s.name}: expected a whole number from {least} to {most}, got {text!r}")
        return int(text)
    if s.name == "claims_submitter":
        if not text:
            return None
        chosen = next((p for p in submitter_choices(org) if p.slug == text), None)
        if chosen is None:
            raise InvalidInput(f"claims_submitter: expected empty or the slug of a partner engaged with {org}")
        return chosen
    if s.name == "billing_provider_type":
        text = text.lower() or "organization"
        if text not in ("organization", "person"):
            raise InvalidInput(f"billing_provider_type: expected organization or person, got {text!r}")
    if s.name == "taxonomy_code":
        text = text.upper()
    if s.name == "state":
        text = text.upper()
        if text and text not in US_STATE_CODES:
            raise InvalidInput(f"state: expected a two-letter US state or territory code such as IL, got {text!r}")
    if s.name == "tin" or s.name == "billing_contact_phone":
        text = (
            text.replace("-", "").replace(" ", "") if s.name == "tin" else "".join(c for c in text if ascii_digits(c))
        )
    if s.name == "name" and not text:
        raise InvalidInput("name: the organization needs a name")
    field = Organization._meta.get_field(s.name)
    if len(text) > field.max_length:
        raise InvalidInput(f"{s.name}: at most {field.max_length} characters, got {len(text)}")
    if text:
        try:
            field.run_validators(text)
        except ValidationError as exc:
            raise InvalidInput(f"{s.name}: {' '.join(exc.messages)}") from None
    return text


@transaction.atomic
def change_settings(*, org: Organization, changes: dict, by, actor: str = "") -> dict[str, list]:
    """Change some of the organization's settings; returns {field: [before, after]} for those that changed.

    Raises:
        InvalidInput: an unknown field or a malformed value (naming the field and what was expected).
        Conflict: the practice's time zone once time is recorded or a month closed.
    """
    org = Organization.objects.select_for_update().get(pk=org.pk)
    known = {s.name: s for s in settings_for(org)}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)}: not a setting of a {org.kind}; expected {', '.join(known)}")
    before = current(org)
    changed: dict[str, list] = {}
    for name, raw in changes.items():
        if str(raw if raw is not None else "").strip() == str(before[name]):
            continue  # sent back as stored (the form sends every field): not judged again
        value = _value(org, known[name], raw)
        shown = value.slug if isinstance(value, Organization) else ("" if value is None else value)
        if shown == before[name]:
            continue
        changed[name] = [before[name], shown]
        setattr(org, name, value)
    if not changed:
        return {}
    if "time_zone" in changed and (why := time_zone_fixed(org)):
        raise Conflict(
            f"time_zone: stays {before['time_zone']} because {why}; each minute's calendar month is counted in the "
            "practice's time zone (R-TIME-10), and changing it would move recorded minutes between months"
        )
    if org.timer_idle_credit_minutes >= org.timer_idle_drop_minutes:
        raise InvalidInput(
            "timer_idle_drop_minutes: must be more than timer_idle_credit_minutes "
            f"({org.timer_idle_credit_minutes}); idle up to the credit is kept, beyond the drop it is not"
        )
    org.save(update_fields=list(changed))
    record_change(
        chain=org.id,
        obj=org,
        object_type="settings",
        by=by,
        actor=actor,
        detail={"changed": changed},
    )
    return changed


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class Created:
    org: Organization
    lead: Added


@transaction.atomic
def create_organization(
    *,
    kind: str,
    slug: str,
    name: str,
    time_zone: str,
    lead_username: str,
    lead_first_name: str,
    lead_last_name: str,
    lead_email: str = "",
    actor: str = "",
) -> Created:
    """A new practice or partner with its first lead (a practice's program owner, a partner's operations lead),
    who gets a one-time password and does the rest (settings, practitioners, staff) from the web. A practice
    starts in-house from its today (its program owner records another operating model when it has one).

    Raises:
        InvalidInput: a malformed field. Conflict: the slug is taken.
    """
    if kind not in (OrgKind.PRACTICE, OrgKind.PARTNER):
        raise InvalidInput(f"kind: expected practice or partner, got {kind!r}")
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise InvalidInput(
            f"slug: 2 to 63 lower-case letters, digits or '-', starting with a letter or digit, got {slug!r}"
        )
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"slug: {slug!r} is taken")
    org = Organization(kind=kind, slug=slug, name="-")
    for field, raw in (("name", name), ("time_zone", time_zone)):
        setattr(org, field, _value(org, Setting(field, field), raw))
    org.save()
    record_change(
        chain=org.id,
        obj=org,
        object_type="settings",
        by=None,
        actor=actor,
        action=AuditAction.CREATE,
        detail={"kind": kind, "slug": slug, "name": org.name, "time_zone": org.time_zone},
    )
    if org.is_practice:
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(org.time_zone))
        record_matrix_version(
            practice=org, preset=Preset.IN_HOUSE, effective_from=today, reason="Practice created in ccmops", by=None
        )
    role = Role.PROGRAM_OWNER if org.is_practice else Role.PARTNER_OPS_LEAD
    lead = add_staff(
        org=org,
        username=lead_username,
        role=role.value,
        by=None,
        actor=actor,
        first_name=lead_first_name,
        last_name=lead_last_name,
        email=lead_email,
    )
    return Created(org, lead)
