"""The one place patient data is reached from a request: a scope built from the user's memberships, the
partners' engagements and each practice's responsibility matrix, evaluated by `ccmops.access.policy`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.access.policy import (
    AccessDecision,
    EngagementFact,
    Grant,
    MembershipFact,
    OrgKind,
    Role,
    decide_access,
)
from ccmops.errors import NOT_FOUND, NotFound, PermissionDenied
from ccmops.jobs.models import Job
from ccmops.organizations.models import Engagement, Organization
from ccmops.organizations.services import memberships_of, owners_in_force
from ccmops.patients.models import Patient


def access_facts(user) -> tuple[list[MembershipFact], list[EngagementFact]]:
    memberships = [
        MembershipFact(m.organization_id, OrgKind(m.organization.kind), Role(m.role)) for m in memberships_of(user)
    ]
    partner_ids = {m.organization_id for m in memberships if m.organization_kind is OrgKind.PARTNER}
    engagements = [
        EngagementFact(e.practice_id, e.partner_id, e.starts_on, e.ends_on)
        for e in Engagement.objects.filter(partner_id__in=partner_ids)
    ]
    return memberships, engagements


def decide_for_user(user, on: dt.date | None = None) -> AccessDecision:
    if user is None or not user.is_authenticated or not user.is_active:
        return AccessDecision()
    on = on or timezone.localdate()
    memberships, engagements = access_facts(user)
    practice_ids = {m.organization_id for m in memberships if m.organization_kind is OrgKind.PRACTICE}
    practice_ids |= {e.practice_id for e in engagements}
    return decide_access(
        memberships=memberships,
        engagements=engagements,
        owners_in_force=owners_in_force(practice_ids, on),
        on=on,
    )


@dataclass(frozen=True)
class Scope:
    """What one user may reach today. Every patient-data query starts here."""

    user: object
    decision: AccessDecision

    def practices(self) -> QuerySet[Organization]:
        return Organization.objects.filter(id__in=self.decision.visible_practice_ids)

    def patients(self) -> QuerySet[Patient]:
        return Patient.objects.filter(practice_id__in=self.decision.visible_practice_ids)

    def patient(self, patient_id: int) -> Patient:
        """The patient if in scope; NotFound otherwise (we never reveal that it exists elsewhere)."""
        patient = (
            self.patients()
            .select_related("practice", "care_manager", "billing_practitioner")
            .filter(id=patient_id)
            .first()
        )
        if patient is None:
            raise NotFound(NOT_FOUND)
        return patient

    def practice(self, practice_id: int) -> Organization:
        practice = self.practices().filter(id=practice_id).first()
        if practice is None:
            raise NotFound(NOT_FOUND)
        return practice

    def job(self, job_id) -> Job:
        """A background job the user asked for, or one of a practice in scope; NotFound otherwise."""
        try:
            job = Job.objects.select_related("practice", "requested_by").filter(pk=job_id).first()
        except ValidationError:  # not a job id at all
            job = None
        if job is None:
            raise NotFound(NOT_FOUND)
        mine = job.requested_by_id is not None and job.requested_by_id == getattr(self.user, "id", None)
        if not mine and job.practice_id not in self.decision.visible_practice_ids:
            raise NotFound(NOT_FOUND)
        return job

    def require_role(self, practice_id: int, roles: frozenset, what: str) -> None:
        """PermissionDenied unless the user holds one of `roles` through their grant for this practice (a role held
        in another organization never counts)."""
        if not self.decision.roles_at(practice_id) & roles:
            names = " or ".join(sorted(r.label.lower() for r in roles))
            raise PermissionDenied(f"{what} is for the practice's {names}.")

    def require(self, practice_id: int, function: Function) -> Grant:
        """The grant allowing `function` at the practice; PermissionDenied names what is missing."""
        grant = self.decision.grant_for(practice_id, function)
        if grant is None:
            raise PermissionDenied(
                f"You may not perform {function.label.lower()} for this practice: under its responsibility "
                "matrix that function belongs to another party, or your role does not cover it."
            )
        return grant


def scope_for(user, on: dt.date | None = None) -> Scope:
    return Scope(user, decide_for_user(user, on))


def request_scope(request) -> Scope:
    """The request's scope, computed once per request."""
    scope = getattr(request, "_ccmops_scope", None)
    if scope is None:
        scope = scope_for(request.user)
        request._ccmops_scope = scope
    return scope


def practice_for(request, practice_id: int, function):
    """The practice by id, in the request's scope (404 outside it), when the user may do `function` there (403
    naming what is missing otherwise)."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require(practice.id, function)
    return practice
