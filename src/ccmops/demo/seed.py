"""Seed the demo world idempotently: running it again changes nothing and duplicates nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from django.db import transaction

from ccmops.demo import world
from ccmops.organizations.models import (
    Engagement,
    Membership,
    Organization,
    Practitioner,
    ResponsibilityMatrix,
    User,
)
from ccmops.organizations.services import record_engagement, record_matrix_version
from ccmops.patients.models import Patient, PatientCondition

DATA = Path(__file__).parent / "data" / "synthea"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _bundle(prefix: str) -> dict:
    matches = sorted(DATA.glob(f"{prefix}_*.json"))
    if len(matches) != 1:
        raise FileNotFoundError(f"demo data: expected one bundle {prefix}_*.json in {DATA}, found {len(matches)}")
    return json.loads(matches[0].read_text())


def _coverage() -> dict[str, str]:
    with (DATA / "manifest.csv").open(newline="") as fh:
        return {row["file"].rsplit("_", 1)[0]: row["main_payer_2019_on"] for row in csv.DictReader(fh)}


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


def _seed_patient(spec: world.PatientSpec, practice: Organization, users: dict[str, User], payer: str) -> None:
    resources = [e["resource"] for e in _bundle(spec.file_prefix)["entry"]]
    fhir_patient = next(r for r in resources if r["resourceType"] == "Patient")
    name = next((n for n in fhir_patient.get("name", []) if n.get("use") == "official"), fhir_patient["name"][0])
    phone = next((t["value"] for t in fhir_patient.get("telecom", []) if t.get("system") == "phone"), "")
    language = ""
    for c in fhir_patient.get("communication", []):
        language = c.get("language", {}).get("text", "") or language
    practitioner = Practitioner.objects.filter(npi=spec.billing_npi).first() if spec.billing_npi else None
    patient, _ = Patient.objects.update_or_create(
        practice=practice,
        mrn=spec.mrn,
        defaults={
            "source_identifier": fhir_patient["id"],
            "given_name": "".join(c for c in " ".join(name.get("given", [])) if not c.isdigit()),
            "family_name": "".join(c for c in name.get("family", "") if not c.isdigit()),
            "birth_date": _date(fhir_patient["birthDate"]),
            "sex": fhir_patient.get("gender", ""),
            "deceased_on": _date(fhir_patient.get("deceasedDateTime")),
            "phone": phone,
            "preferred_language": language,
            "medicare_coverage": payer,
            "care_manager": users.get(spec.care_manager) if spec.care_manager else None,
            "billing_practitioner": practitioner,
        },
    )
    for r in resources:
        if r["resourceType"] != "Condition":
            continue
        coding = r["code"]["coding"][0]
        PatientCondition.objects.get_or_create(
            patient=patient,
            system="snomed",
            code=coding["code"],
            onset=_date(r.get("onsetDateTime")),
            defaults={
                "practice": practice,
                "display": coding.get("display", r["code"].get("text", "")),
                "abated": _date(r.get("abatementDateTime")),
            },
        )


@transaction.atomic
def seed_demo() -> dict[str, User]:
    """Create (or leave as it is) the demo world; returns the demo users by username."""
    orgs = _seed_orgs()
    users = _seed_staff(orgs)
    _seed_operating_models(orgs, users[world.ADMIN_USERNAME])
    coverage = _coverage()
    for spec in world.PATIENTS:
        _seed_patient(spec, orgs[spec.practice], users, coverage.get(spec.file_prefix, ""))
    return users
