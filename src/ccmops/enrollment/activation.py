"""A consented patient becomes active when everything billing depends on is on file."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from ccmops.enrollment.consent_status import consent_status
from ccmops.enrollment.models import Enrollment
from ccmops.enrollment.services import change_status
from ccmops.months.standings import refresh
from ccmops.patients.models import Encounter
from ccmops.rules.initiation import VisitFact, initiating_visit_status


@dataclass(frozen=True)
class Readiness:
    consent_ok: bool
    visit_required: bool
    visit: VisitFact | None
    plan_approved: bool
    blockers: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.blockers


def visit_facts(patient) -> list[VisitFact]:
    return [
        VisitFact(
            timezone.localtime(e.start).date(), e.visit_kind, e.code, e.practitioner_npi, e.care_management_discussed
        )
        for e in Encounter.objects.filter(patient=patient).exclude(visit_kind="")
    ]


def readiness(patient, program: str) -> Readiness:
    status = consent_status(patient, program)
    blockers = []
    if status.in_force is None:
        blockers.append(status.message)
    practitioner = patient.billing_practitioner
    start = timezone.localtime(status.in_force.documented_at).date() if status.in_force else timezone.localdate()
    required, visit = (True, None)
    if practitioner is not None:
        required, visit = initiating_visit_status(
            visit_facts(patient), practitioner.npi, start, months=36 if program == "apcm" else 12
        )
    if practitioner is None:
        blockers.append("No billing practitioner: record consent with the practitioner who will bill.")
    elif required and visit is None:
        blockers.append(
            f"Initiating visit needed: {practitioner} has not seen the patient within "
            f"{36 if program == 'apcm' else 12} months; record a visit (E/M, AWV, IPPE or TCM) that discussed "
            "care management. No time counts before it."
        )
    plan = patient.care_plans.filter(program=program).first()
    approved = plan is not None and plan.in_force is not None
    if not approved:
        blockers.append("No approved care plan: draft one and have the billing practitioner approve it.")
    return Readiness(status.in_force is not None, required, visit, approved, tuple(blockers))


def activate_if_ready(*, patient, program: str, by) -> Enrollment | None:
    """Activate a consented patient whose billing prerequisites are on file; in any case re-decide the month,
    since a consent, visit or plan changes what counts."""

    refresh(patient)
    enrollment = Enrollment.objects.filter(patient=patient, program=program).first()
    if enrollment is None or enrollment.status != "consented":
        return enrollment
    if readiness(patient, program).ready:
        return change_status(
            patient=patient,
            program=program,
            to="active",
            by=by,
            reason="Consent, initiating visit and approved care plan on file",
        )
    return enrollment
