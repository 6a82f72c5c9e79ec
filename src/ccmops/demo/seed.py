"""Seed the demo world idempotently: running it again changes nothing and duplicates nothing."""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from ccmops.billing.known import record_known_service
from ccmops.demo import world
from ccmops.demo.history import _fields_for, make_ready, seed_history
from ccmops.documentation.models import Note
from ccmops.documentation.services import save_note
from ccmops.enrollment.models import Consent
from ccmops.interop.generator import synthetic_mbi
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
from ccmops.timetracking.entries import add_manual_entry, create_entry

DATA = Path(__file__).parent / "data" / "synthea"


def _seed_orgs(specs=world.ORGANIZATIONS) -> dict[str, Organization]:
    orgs = {}
    for spec in specs:
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
                "medicare_contractor_name": spec.mac_name,
                "medicare_contractor_id": spec.mac_id,
                "edi_submitter_id": spec.submitter_id,
                "billing_contact_name": spec.contact_name,
                "billing_contact_phone": spec.contact_phone,
                "charge_schedule": dict(world.CHARGES) if spec.kind.value == "practice" else {},
            },
        )
        # A demo seeded by an earlier version: the submitter and contact it did not have, ZIP+4 for five digits.
        upgrade = {
            field: value
            for field, value, was in (
                ("edi_submitter_id", spec.submitter_id, ""),
                ("billing_contact_name", spec.contact_name, ""),
                ("billing_contact_phone", spec.contact_phone, ""),
                ("postal_code", spec.postal_code, spec.postal_code[:5]),
            )
            if value and getattr(org, field) == was and was != value
        }
        if spec.kind.value == "practice" and not org.charge_schedule:  # seeded before charges existed
            upgrade["charge_schedule"] = dict(world.CHARGES)
        if upgrade:
            for field, value in upgrade.items():
                setattr(org, field, value)
            org.save(update_fields=list(upgrade))
        orgs[spec.slug] = org
    return orgs


def _seed_staff(orgs: dict[str, Organization], specs=world.STAFF) -> dict[str, User]:
    users = {}
    hashed: list[str] = []  # every demo login shares the one printed password: hashed once (argon2 is slow on purpose)

    def demo_password() -> str:
        if not hashed:
            hashed.append(make_password(world.DEMO_PASSWORD))
        return hashed[0]

    for spec in specs:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"first_name": spec.first_name, "last_name": spec.last_name, "title": spec.title},
        )
        if created:
            user.password = demo_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user,
            organization=orgs[spec.org],
            role=spec.role.value,
            defaults={
                "credential": spec.credential,
                "is_clinical_staff": spec.clinical,
                "committed_hours_per_week": spec.hours,
            },
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
        admin.password = demo_password()
        admin.save(update_fields=["password"])
    users[world.ADMIN_USERNAME] = admin
    return users


def _seed_operating_models(
    orgs: dict[str, Organization], admin: User, engagements=world.ENGAGEMENTS, matrices=world.MATRICES
) -> None:
    for practice, partner, starts_on in engagements:
        if not Engagement.objects.filter(practice=orgs[practice], partner=orgs[partner]).exists():
            record_engagement(practice=orgs[practice], partner=orgs[partner], starts_on=starts_on, by=admin)
    for spec in matrices:
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
        patient = Patient.objects.get(practice=practice, mrn=mrn)
        mbi = synthetic_mbi(random.Random(patient.id))  # noqa: S311 - a synthetic patient's made-up MBI
        Patient.objects.filter(pk=patient.pk, medicare_id="").update(medicare_id=mbi)
        Patient.objects.filter(practice=practice, mrn=mrn).update(
            care_manager=users.get(spec.care_manager) if spec.care_manager else None,
            billing_practitioner=Practitioner.objects.filter(npi=spec.billing_npi).first()
            if spec.billing_npi
            else None,
        )


def month_starts(practice, now):
    """9:00 on the first of this month and on the 3rd of last month where the practice is: the demo's work happens
    in the practice's office hours (plus an hour per cast member)."""

    local_now = now.astimezone(zoneinfo.ZoneInfo(practice.time_zone))
    first_of_month = local_now.replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    return first_of_month, (first_of_month - dt.timedelta(days=1)).replace(day=3)


def _cast_patient(family: str) -> Patient:
    """A patient of the demo's cast by family name, in the practice the cast puts her (the same Synthea patient
    may have been imported into another practice too, as the README's import example does)."""
    spec = next(p for p in world.PATIENTS if p.file_prefix.rsplit("_", 1)[-1] == family)
    return Patient.objects.select_related("practice").get(family_name=family, practice__slug=spec.practice)


def _seed_program_activity(users: dict[str, User]) -> None:
    """Consent, initiating visit, an approved and shared care plan, and time in the last two months for the
    ACTIVE_CCM patients, so the worklist, the patient pages and month close have real work to show. Dates are
    relative to today; a patient who already has a consent is left as it is."""

    now = timezone.now()
    for k, (family, cm, last, this) in enumerate(world.ACTIVE_CCM):
        patient = _cast_patient(family)
        if Consent.objects.filter(patient=patient).exists():
            continue
        first_of_month, last_month = month_starts(patient.practice, now)
        # Consent 95 days ago, the plan approved and the patient active two days later.
        make_ready(patient, patient.billing_practitioner, users[cm], now - dt.timedelta(days=93))

        for i, minutes in enumerate(last):
            entry = add_manual_entry(
                patient=patient,
                staff=users[cm],
                program="ccm",
                activity="care_coordination_call",
                start=last_month + dt.timedelta(days=6 * i, hours=k),
                minutes=minutes,
                reason="Demo data: entered from the care manager's call log",
                now=last_month + dt.timedelta(days=6 * i, hours=k + 5),
            )
            # Each call written up in a signed note (R-DOC-1), but for the one the world leaves as a draft: its
            # month is held at close until the note is signed.
            draft = (family, i) == world.UNSIGNED_NOTE
            note = save_note(
                patient=patient,
                author=users[cm],
                program="ccm",
                activity="care_coordination_call",
                fields=_fields_for(100) if not draft else _fields_for(44),
                time_entry=entry,
                sign=not draft,
            )
            written = last_month + dt.timedelta(days=6 * i, hours=k + 5)
            Note.objects.filter(pk=note.pk).update(created_at=written, signed_at=None if draft else written)
        for i, minutes in enumerate(this):  # this month the care managers time their work live
            start = first_of_month + dt.timedelta(days=2 + 3 * i, hours=k)
            end = start + dt.timedelta(minutes=minutes)
            if end < now:
                create_entry(
                    patient=patient,
                    staff=users[cm],
                    program="ccm",
                    activity="medication_reconciliation",
                    segments=[(start, end)],
                    source="timer",
                    entered_at=end,
                )
    # A second CCM payee the practice learned of: last month's close holds this patient for the biller's review.
    lemke = _cast_patient(world.KNOWN_ELSEWHERE[0])
    if not lemke.known_services.exists():
        last_month = month_starts(lemke.practice, now)[1]

        record_known_service(
            patient=lemke,
            code="99490",
            date_of_service=last_month.date() + dt.timedelta(days=12),
            practitioner_npi=world.KNOWN_ELSEWHERE[1],
            source=world.KNOWN_ELSEWHERE[2],
            by=users["pat.rn"],
        )


@transaction.atomic
def seed_demo(*, with_activity: bool = False, with_history: bool = False) -> dict[str, User]:
    """Create (or leave as it is) the demo world; returns the demo users by username.

    with_history adds the history practices and six months of recorded work (demo/history.py)."""
    orgs = _seed_orgs()
    users = _seed_staff(orgs)
    _seed_operating_models(orgs, users[world.ADMIN_USERNAME])
    _seed_patients(orgs, users)
    if with_activity:
        _seed_program_activity(users)
    if with_history:
        orgs |= _seed_orgs(world.HISTORY_ORGANIZATIONS)
        users |= _seed_staff(orgs, world.HISTORY_STAFF)
        _seed_operating_models(orgs, users[world.ADMIN_USERNAME], world.HISTORY_ENGAGEMENTS, world.HISTORY_MATRICES)
        seed_history(users)
    return users
