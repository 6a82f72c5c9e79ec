"""Care-plan use cases: draft from templates, new versions under optimistic locking, review, approval gated
by the validator (R-PLAN-1), sharing with the patient (R-PLAN-3), review scheduling."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from ccmops.careplans.condition_templates import template_for
from ccmops.careplans.models import CarePlan, CarePlanShare, CarePlanVersion
from ccmops.clinical.picture import care_plan_lines, plan_findings
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.activation import activate_if_ready
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.organizations.engagements import practice_today
from ccmops.organizations.models import Practitioner
from ccmops.outbox.services import enqueue
from ccmops.patients.models import PatientCondition
from ccmops.rules.calendar import months_before
from ccmops.rules.careplan import missing_elements
from ccmops.rules.conditions import classify, condition_name

KIND_FOR_PROGRAM = {"ccm": "comprehensive", "apcm": "comprehensive", "pcm": "disease_specific"}


def patient_condition_keys(patient, on: dt.date) -> list[str]:
    codes = sorted(
        {
            (c.system, c.code)
            for c in PatientCondition.objects.filter(patient=patient)
            if (c.onset is None or c.onset <= on) and (c.abated is None or c.abated > on)
        }
    )
    return sorted(classify(codes).chronic)


def missing_of(version: CarePlanVersion) -> list[str]:
    """What the version lacks before approval: R-PLAN-1's elements and what the patient's clinical picture says
    that it does not address (`rules.careplan`)."""
    plan = version.care_plan
    findings = plan_findings(plan.patient, practice_today(plan.patient.practice))
    return missing_elements(version.content, kind=plan.kind, findings=findings)


@transaction.atomic
def with_picture(content: dict, patient) -> dict:
    """The plan's medication and symptom management headed by what the clinical picture says now (the reconciled
    medications, the latest readings), each element otherwise as it was."""
    medications, readings = care_plan_lines(patient, practice_today(patient.practice))
    out = dict(content)
    for key, line in (("medication_management", medications), ("symptom_management", readings)):
        if line and line not in (out.get(key) or ""):
            out[key] = "\n".join(filter(None, [line, out.get(key) or ""]))
    return out


def create_from_template(*, patient, program: str, by, condition_keys: list[str] | None = None) -> CarePlan:
    """A new draft plan (version 1) built from the condition templates for the patient's chronic conditions."""
    if program not in KIND_FOR_PROGRAM:
        raise InvalidInput("program: expected ccm, pcm or apcm")
    if CarePlan.objects.filter(patient=patient, program=program).exists():
        raise Conflict(f"The patient already has a {program.upper()} care plan; edit it to make a new version.")
    kind = KIND_FOR_PROGRAM[program]
    keys = condition_keys if condition_keys is not None else patient_condition_keys(patient, timezone.localdate())
    content = with_picture(template_for(keys, {k: condition_name(k) for k in keys}, kind=kind), patient)
    plan = CarePlan.objects.create(practice_id=patient.practice_id, patient=patient, kind=kind, program=program)
    version = CarePlanVersion.objects.create(
        practice_id=patient.practice_id,
        care_plan=plan,
        number=1,
        content=content,
        created_by=by,
        created_at=timezone.now(),
        change_summary="Drafted from condition templates",
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=version,
        detail={"program": program, "conditions": keys},
    )
    return plan


def _locked(plan: CarePlan, expected_lock: int) -> CarePlan:
    current = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if current.lock_version != expected_lock:
        raise Conflict(
            "This care plan changed since you opened it (another version was saved, reviewed or approved). "
            "Reload it; your edits were not saved over theirs."
        )
    return current


def _bump(plan: CarePlan) -> None:
    CarePlan.objects.filter(pk=plan.pk).update(lock_version=plan.lock_version + 1)
    plan.lock_version += 1


@transaction.atomic
def save_version(
    *,
    plan: CarePlan,
    content: dict,
    by,
    expected_lock: int,
    change_summary: str = "",
    substantial: bool = False,
) -> CarePlanVersion:
    """Every change is a new draft version; approved versions stay as they were and in force until a newer
    version is approved."""
    plan = _locked(plan, expected_lock)
    number = (plan.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CarePlanVersion.objects.create(
        practice_id=plan.practice_id,
        care_plan=plan,
        number=number,
        content=content,
        created_by=by,
        created_at=timezone.now(),
        change_summary=change_summary.strip()[:300],
        substantial_revision=substantial,
    )
    _bump(plan)
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        patient=plan.patient,
        obj=version,
        detail={"number": number, "substantial": substantial, "summary": change_summary},
    )
    return version


@transaction.atomic
def mark_reviewed(*, version: CarePlanVersion, by, expected_lock: int) -> CarePlanVersion:
    plan = _locked(version.care_plan, expected_lock)
    if version.number != plan.versions.aggregate(n=Max("number"))["n"]:
        raise Conflict("Only the newest version can be reviewed.")
    if version.status != "draft":
        raise Conflict(f"Version {version.number} is already {version.status}.")
    version.status, version.reviewed_by, version.reviewed_at = "reviewed", by, timezone.now()
    version.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    _bump(plan)
    record_audit(action=AuditAction.UPDATE, user=by, patient=plan.patient, obj=version, detail={"to": "reviewed"})
    return version


@transaction.atomic
def approve(*, version: CarePlanVersion, by, expected_lock: int) -> CarePlanVersion:
    """The billing practitioner signs the plan off. Blocked when any required element is missing.

    Raises:
        InvalidInput: lists every missing element.
        PermissionDenied: the user is not a billing practitioner of the practice.
    """
    plan = _locked(version.care_plan, expected_lock)
    practitioner = Practitioner.objects.filter(user=by, practice_id=plan.practice_id, active=True).first()
    if practitioner is None:
        raise PermissionDenied("Only a billing practitioner of the practice approves care plans.")
    patient = plan.patient
    if patient.billing_practitioner_id and patient.billing_practitioner_id != practitioner.id:
        raise PermissionDenied(f"The patient's billing practitioner ({patient.billing_practitioner}) signs this plan.")
    if version.number != plan.versions.aggregate(n=Max("number"))["n"]:
        raise Conflict("Only the newest version can be approved.")
    if version.status == "approved":
        raise Conflict(f"Version {version.number} is already approved.")
    missing = missing_of(version)
    if missing:
        raise InvalidInput("The plan cannot be approved until it is complete. Missing: " + "; ".join(missing))
    now = timezone.now()
    months = version.content["review_schedule"]["interval_months"]
    today = timezone.localdate()
    version.status, version.approved_by, version.approved_at = "approved", practitioner, now
    version.next_review_due = months_before(today, -months)
    version.save(update_fields=["status", "approved_by", "approved_at", "next_review_due"])
    _bump(plan)
    record_audit(action=AuditAction.UPDATE, user=by, patient=patient, obj=version, detail={"to": "approved"})
    enqueue(practice_id=patient.practice_id, patient_id=patient.id, kind="care_plan", object_id=version.id)

    activate_if_ready(patient=patient, program=plan.program, by=by)
    return version


@transaction.atomic
def record_share(
    *, version: CarePlanVersion, method: str, by, recipient: str = "patient", shared_at: dt.datetime | None = None
) -> CarePlanShare:
    if version.status != "approved":
        raise InvalidInput("version: share the approved plan (approve this version first)")
    if method not in dict(CarePlanShare.METHODS):
        raise InvalidInput(f"method: expected one of {', '.join(dict(CarePlanShare.METHODS))}")
    share = CarePlanShare.objects.create(
        practice_id=version.practice_id,
        version=version,
        shared_at=shared_at or timezone.now(),
        method=method,
        recipient=recipient.strip() or "patient",
        recorded_by=by,
    )
    record_audit(
        action=AuditAction.PRINT if method == "printed" else AuditAction.EXPORT,
        user=by,
        patient=version.care_plan.patient,
        obj=share,
        detail={"version": version.number, "method": method},
    )
    return share


def reviews_due(patient_queryset, on: dt.date):
    """Each care plan's latest approved version, where its periodic review is due on or before `on`."""
    return (
        CarePlanVersion.objects.filter(
            care_plan__patient__in=patient_queryset, status="approved", next_review_due__lte=on
        )
        .filter(number=Subquery(latest_approved_number()))
        .select_related("care_plan__patient")
    )


def latest_approved_number():
    """Subquery: the number of the latest approved version of the outer query's care plan."""
    return (
        CarePlanVersion.objects.filter(care_plan=OuterRef("care_plan"), status="approved")
        .order_by("-number")
        .values("number")[:1]
    )
