"""Seed the demo world idempotently: running it again changes nothing and duplicates nothing."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from ccmops.demo import world
from ccmops.interop.services import Source, import_source
from ccmops.organizations.models import (
    Engagement,
    Membership,
    Organization,
    Practitioner,
    ResponsibilityMatrix,
    User,
)
from ccmops.organizations.services import record_engagement, record_matrix_version
from ccmops.patients.models import Patient

DATA = Path(__file__).parent / "data" / "synthea"


def _seed_orgs() -> dict[str, Organization]:
    orgs = {}
    for spec in world.ORGANIZATIONS:
        org, _ = Organization.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "kind": spec.kind.value,
                "name": spec.name,
                "time_zone": spec.time_zone,
                "npi": spec.npi,
                "tin": spec.tin,
                "address_line": spec.address_line,
                "city": spec.city,
                "state": spec.state,
                "postal_code": spec.postal_code,
            },
        )
        orgs[spec.slug] = org
    return orgs


def _seed_staff(orgs: dict[str, Organization]) -> dict[str, User]:
    users = {}
    for spec in world.STAFF:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"first_name": spec.first_name, "last_name": spec.last_name, "title": spec.title},
        )
        if created:
            user.set_password(world.DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user,
            organization=orgs[spec.org],
            role=spec.role.value,
            defaults={"credential": spec.credential, "is_clinical_staff": spec.clinical},
        )
        if spec.practitioner_npi:
            Practitioner.objects.get_or_create(
                npi=spec.practitioner_npi,
                defaults={
                    "practice": orgs[spec.org],
                    "user": user,
                    "first_name": spec.first_name,
                    "last_name": spec.last_name,
                    "credential": spec.credential,
                },
            )
        users[spec.username] = user
    admin, created = User.objects.get_or_create(
        username=world.ADMIN_USERNAME,
        defaults={
            "first_name": "System",
            "last_name": "Administrator",
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        admin.set_password(world.DEMO_PASSWORD)
        admin.save(update_fields=["password"])
    users[world.ADMIN_USERNAME] = admin
    return users


def _seed_operating_models(orgs: dict[str, Organization], admin: User) -> None:
    for practice, partner, starts_on in world.ENGAGEMENTS:
        if not Engagement.objects.filter(practice=orgs[practice], partner=orgs[partner]).exists():
            record_engagement(practice=orgs[practice], partner=orgs[partner], starts_on=starts_on, by=admin)
    for spec in world.MATRICES:
        practice = orgs[spec.practice]
        if ResponsibilityMatrix.objects.filter(practice=practice, effective_from=spec.effective_from).exists():
            continue
        record_matrix_version(
            practice=practice,
            preset=spec.preset,
            partner=orgs[spec.partner] if spec.partner else None,
            effective_from=spec.effective_from,
            reason=spec.reason,
            by=admin,
        )


def bundle_path(prefix: str) -> Path:
    matches = sorted(DATA.glob(f"{prefix}_*.json"))
    if len(matches) != 1:
        raise FileNotFoundError(f"demo data: expected one bundle {prefix}_*.json in {DATA}, found {len(matches)}")
    return matches[0]


def bundle_mrn(prefix: str) -> str:
    """The MRN identifier of the bundle's Patient (what the importer matches on)."""
    for entry in json.loads(bundle_path(prefix).read_text())["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Patient":
            for ident in r.get("identifier", []):
                if any(c.get("code") == "MR" for c in ident.get("type", {}).get("coding", [])):
                    return ident["value"]
            return r["id"]
    raise ValueError(f"demo data: no Patient in {prefix}")


def _seed_patients(orgs: dict[str, Organization], users: dict[str, User]) -> None:
    """Import each demo practice's bundles through the real FHIR importer, then assign the care team."""
    for spec in world.PATIENTS:
        practice = orgs[spec.practice]
        mrn = bundle_mrn(spec.file_prefix)
        if not Patient.objects.filter(practice=practice, mrn=mrn).exists():
            path = bundle_path(spec.file_prefix)
            import_source(practice=practice, source=Source("fhir", path, path.name), by=users[world.ADMIN_USERNAME])
        Patient.objects.filter(practice=practice, mrn=mrn).update(
            care_manager=users.get(spec.care_manager) if spec.care_manager else None,
            billing_practitioner=Practitioner.objects.filter(npi=spec.billing_npi).first()
            if spec.billing_npi
            else None,
        )


@transaction.atomic
def seed_demo() -> dict[str, User]:
    """Create (or leave as it is) the demo world; returns the demo users by username."""
    orgs = _seed_orgs()
    users = _seed_staff(orgs)
    _seed_operating_models(orgs, users[world.ADMIN_USERNAME])
    _seed_patients(orgs, users)
    return users
