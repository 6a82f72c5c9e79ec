"""A new practice's way to its first claim, read from its data: each step done or not, with what is missing and
where to do it. The program owner's home shows the steps until every one is done."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from ccmops.access.operating_model import Function
from ccmops.billing.x12 import practice_claim_gaps
from ccmops.enrollment.models import Enrollment
from ccmops.organizations.models import Membership, Organization, Practitioner
from ccmops.organizations.services import engagement_active, owners_in_force
from ccmops.patients.models import Patient, ScreeningRun


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    detail: str  # what is there, or what is missing
    url: str


# A first CCM claim carries these (R-CLM-CHG-1): a charge for each before the first 837P.
FIRST_CLAIM_CODES = ("99490", "99439")


def _charges(practice: Organization) -> str:
    own = practice.charge_schedule or {}
    missing = [c for c in FIRST_CLAIM_CODES if c not in own]
    if missing:
        return f"no charge yet for {', '.join(missing)}" + (f"; {len(own)} set" if own else "")
    return f"{len(own)} codes have a charge"


def practice_setup(practice: Organization, on: dt.date) -> list[Step]:
    """The steps from a new practice to its first claim, in order."""
    settings = f"{reverse('org_settings')}?org={practice.slug}"
    gaps = practice_claim_gaps(practice)
    practitioners = Practitioner.objects.filter(practice=practice, active=True)
    signing = practitioners.filter(
        user__memberships__organization=practice, user__memberships__role="billing_practitioner"
    ).first()
    patients = Patient.objects.filter(practice=practice).count()
    screened = ScreeningRun.objects.filter(practice=practice).order_by("-finished_at").first()
    enrolled = Enrollment.objects.filter(practice=practice, status__in=("consented", "active")).count()
    return [
        Step(
            "claims",
            "Claim identity complete (NPI, TIN, billing address with ZIP+4, Medicare contractor, EDI submitter)",
            not gaps,
            _gaps(gaps),
            settings,
        ),
        Step(
            "charges",
            "Your charges for the codes you bill (what each claim line carries)",
            all(c in (practice.charge_schedule or {}) for c in FIRST_CLAIM_CODES),
            _charges(practice),
            settings + "#charges",
        ),
        Step(
            "practitioners",
            "A practitioner registered with their NPI",
            practitioners.exists(),
            f"{practitioners.count()} registered" if practitioners.exists() else "none yet",
            settings + "#practitioners",
        ),
        Step(
            "billing_practitioner",
            "A billing practitioner signs in (consents, care plans, review)",
            signing is not None,
            f"{signing} ({signing.user.username})"
            if signing
            else "add one on Staff, linked to their practitioner record",
            f"{reverse('staff')}?org={practice.slug}",
        ),
        _monthly_work(practice, on),
        Step(
            "patients",
            "Patients imported from the EHR (FHIR, Bulk FHIR or CSV)",
            patients > 0,
            f"{patients} in the registry" if patients else "none yet",
            reverse("imports", args=[practice.id]),
        ),
        Step(
            "screening",
            "Patients screened for CCM, PCM and APCM",
            screened is not None,
            f"last on {screened.on}: {screened.patients} patients" if screened else "not yet",
            reverse("candidates", args=[practice.id]),
        ),
        Step(
            "enrolled",
            "A first patient consented",
            enrolled > 0,
            f"{enrolled} consented or active" if enrolled else "none yet: start outreach from the candidates",
            reverse("candidates", args=[practice.id]),
        ),
    ]


def _gaps(gaps: list[str]) -> str:
    if not gaps:
        return "complete"
    shown = "; ".join(g.split(": ", 1)[1].replace(" (Settings, kept by the program owner)", "") for g in gaps[:3])
    return shown + (f" and {len(gaps) - 3} more" if len(gaps) > 3 else "")


def _monthly_work(practice: Organization, on: dt.date) -> Step:
    """Someone does the monthly work: the engaged partner the model gives it to, or a care manager of the
    practice's own."""
    owner_id = owners_in_force([practice.id], on).get(practice.id, {}).get(Function.MONTHLY_OUTREACH, practice.id)
    url = f"{reverse('staff')}?org={practice.slug}"
    label = "Someone does the monthly work (a care manager, or an engaged partner)"
    if owner_id != practice.id:
        partner = Organization.objects.get(pk=owner_id)
        engaged = engagement_active(practice, partner, on)
        detail = f"{partner.name}, engaged" if engaged else f"{partner.name} owns it but is not engaged today"
        return Step("monthly_work", label, engaged, detail, reverse("operating_model", args=[practice.id]))
    managers = Membership.objects.filter(organization=practice, role="care_manager", active=True).count()
    detail = f"{managers} care manager{'s' if managers != 1 else ''}" if managers else "add a care manager on Staff"
    return Step("monthly_work", label, managers > 0, detail, url)
