"""Designating care managers from the workspace: one patient at a time, or balancing every patient without one
across the staff by the capacity they have left this month."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ccmops.access.operating_model import Function
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment
from ccmops.errors import InvalidInput, PermissionDenied
from ccmops.organizations.models import Membership, Organization, User
from ccmops.organizations.services import owners_in_force
from ccmops.patients.models import Patient
from ccmops.reporting.capacity import TARGET_MINUTES, workspace


def staff_of(org: Organization) -> list[User]:
    """Clinical staff with an active membership at the organization (who may be designated care managers)."""
    ids = Membership.objects.filter(organization=org, active=True, is_clinical_staff=True).values_list(
        "user_id", flat=True
    )
    return list(User.objects.filter(id__in=ids, is_active=True).order_by("last_name", "first_name"))


def owned_practices(org: Organization, practices: list[Organization], on: dt.date) -> list[Organization]:
    """Of these practices, those whose monthly work `org` owns today (its own practice, when in-house)."""
    owners = owners_in_force([p.id for p in practices], on)
    return [p for p in practices if (owners.get(p.id) or {}).get(Function.MONTHLY_OUTREACH, p.id) == org.id]


def unassigned(org: Organization, practices: list[Organization], on: dt.date):
    """Active patients of the practices whose monthly work `org` owns, without one of its staff as care manager."""
    staff_ids = [u.id for u in staff_of(org)]
    active = Enrollment.objects.filter(status="active", program__in=("ccm", "pcm", "apcm")).values("patient_id")
    return (
        Patient.objects.filter(practice__in=owned_practices(org, practices, on), id__in=active)
        .exclude(care_manager_id__in=staff_ids)
        .select_related("practice", "care_manager")
        .order_by("practice__name", "family_name", "given_name")
    )


@transaction.atomic
def assign(*, org: Organization, practices: list[Organization], patient: Patient, staff: User, by, on: dt.date):
    if patient.practice_id not in {p.id for p in owned_practices(org, practices, on)}:
        raise PermissionDenied(f"{org} does not run the monthly work for {patient.practice} today.")
    if staff.id not in {u.id for u in staff_of(org)}:
        raise InvalidInput(f"staff: {staff} is not active clinical staff of {org}")
    before = patient.care_manager
    Patient.objects.filter(pk=patient.pk).update(care_manager=staff)
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=patient,
        obj=patient,
        detail={"care_manager": staff.username, "was": before.username if before else None},
    )


@transaction.atomic
def balance(*, org: Organization, practices: list[Organization], by, on: dt.date) -> dict[str, int]:
    """Give every patient without a care manager from `org` to the staff member with the most capacity left:
    committed hours over the rest of the month, less the minutes their patients still need."""
    staff = staff_of(org)
    if not staff:
        raise InvalidInput(f"{org} has no active clinical staff to assign patients to")
    ws = workspace(org, practices, on)
    loads = {s.membership.user_id: s for s in ws.staff}
    room = {
        u.id: (loads[u.id].remaining_capacity_hours * 60 - loads[u.id].load.due_minutes) if u.id in loads else 0
        for u in staff
    }
    programs = dict(
        Enrollment.objects.filter(status="active", patient__in=unassigned(org, practices, on)).values_list(
            "patient_id", "program"
        )
    )
    counts: dict[str, int] = {}
    for patient in unassigned(org, practices, on):
        chosen = max(staff, key=lambda u: (room[u.id], -counts.get(u.username, 0), -u.id))
        assign(org=org, practices=practices, patient=patient, staff=chosen, by=by, on=on)
        room[chosen.id] -= TARGET_MINUTES.get(programs.get(patient.id, "ccm"), 20)
        counts[chosen.username] = counts.get(chosen.username, 0) + 1
    return counts
