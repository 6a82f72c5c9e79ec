"""The JSON API (OpenAPI at /api/docs). Session-authenticated; every patient query goes through the scope."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.utils import timezone
from ninja import NinjaAPI, Query
from ninja.responses import Status
from ninja.security import django_auth

from ccmops.access.operating_model import Preset
from ccmops.access.policy import Role
from ccmops.api.billing import router as billing_router
from ccmops.api.clinical import router as clinical_router
from ccmops.api.coverage import router as coverage_router
from ccmops.api.ehr import router as ehr_router
from ccmops.api.enrollment import router as enrollment_router
from ccmops.api.inbox import router as inbox_router
from ccmops.api.jobs import router as jobs_router
from ccmops.api.monthly import router as monthly_router
from ccmops.api.org_settings import router as settings_router
from ccmops.api.payer import router as payer_router
from ccmops.api.population import router as population_router
from ccmops.api.reporting import router as reporting_router
from ccmops.api.schemas import ErrorOut, MatrixIn, MatrixOut, MeOut, PatientOut, PatientSummary
from ccmops.api.staff import router as staff_router
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import CcmopsError, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.models import Membership, Organization, ResponsibilityMatrix
from ccmops.organizations.services import matrix_version_in_force, record_matrix_version
from ccmops.patients.scope import request_scope
from ccmops.rules.contract import ContractError, decision_to_json, parse_patient_month
from ccmops.rules.engine import evaluate
from ccmops.rules.policies import DEFAULT_POLICIES
from ccmops.web.middleware import NUMBER_TOO_LARGE
from ccmops.web.roles import roles_of


def _signed_in_outside_debug(view):
    """The OpenAPI schema and docs: open in development, for signed-in users in production (security review 11)."""

    guarded = login_required(view)

    @wraps(view)
    def docs(request, *args, **kwargs):
        return (view if settings.DEBUG else guarded)(request, *args, **kwargs)

    return docs


api = NinjaAPI(
    title="ccmops API", version="1", auth=django_auth, urls_namespace="api", docs_decorator=_signed_in_outside_debug
)


api.add_router("/", population_router)
api.add_router("/", enrollment_router)
api.add_router("/", coverage_router)
api.add_router("/", monthly_router)
api.add_router("/", billing_router)
api.add_router("/", reporting_router)
api.add_router("/", staff_router)
api.add_router("/", settings_router)
api.add_router("/", jobs_router)
api.add_router("/", inbox_router)
api.add_router("/", clinical_router)
api.add_router("/", payer_router)
api.add_router("/", ehr_router)


@api.exception_handler(CcmopsError)
def _domain_error(request, exc: CcmopsError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.http_status)


@api.exception_handler(OverflowError)
def _number_too_large(request, exc: OverflowError):
    """An id or number past what the database stores (SQLite refuses integers beyond 64 bits): no such record."""
    return api.create_response(request, {"detail": NUMBER_TOO_LARGE}, status=422)


RULES_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "ccmops.patient-month/1"}}},
    }
}


@api.post(
    "/rules/evaluate",
    tags=["rules"],
    openapi_extra=RULES_BODY,
    response={200: dict, 404: ErrorOut, 422: dict},
)
def rules_evaluate(request, practice_id: int | None = None):
    """Evaluate one patient-month document (../shared/contracts/patient-month.md); with `practice_id`, that
    practice's policy overrides apply before the document's own."""
    policies = DEFAULT_POLICIES
    if practice_id is not None:
        practice = request_scope(request).practice(practice_id)
        policies = DEFAULT_POLICIES.with_overrides(practice.rule_policies, path="practice.rule_policies")
    try:
        decision = evaluate(parse_patient_month(request.body), policies)
    except ContractError as exc:
        return Status(
            422,
            {
                "detail": "not a valid patient-month",
                "errors": [{"path": path, "message": message} for path, message in exc.problems],
            },
        )
    return decision_to_json(decision)


def _patient_summary(p) -> dict:
    return {
        "id": p.id,
        "practice_id": p.practice_id,
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date,
        "care_manager": str(p.care_manager) if p.care_manager_id else None,
    }


def _matrix(m: ResponsibilityMatrix) -> dict:
    return {
        "practice_id": m.practice_id,
        "version": m.version,
        "effective_from": m.effective_from,
        "preset": m.preset,
        "partner_id": m.partner_id,
        "reason": m.reason,
        "created_by": m.created_by.get_username() if m.created_by_id else None,
        "created_at": m.created_at,
        "assignments": [
            {
                "function": a.function,
                "owner_id": a.owner_id,
                "owner_name": a.owner.name,
                "party": "practice" if a.owner_id == m.practice_id else "partner",
            }
            for a in m.assignments.all()
        ],
    }


@api.get("/me", response=MeOut, tags=["access"])
def me(request):
    scope = request_scope(request)
    return {
        "username": request.user.get_username(),
        "name": request.user.get_full_name(),
        "roles": [r.value for r in roles_of(request.user)],
        "grants": [
            {
                "practice_id": g.practice_id,
                "function": g.function.value if g.function else None,
                "rule": g.rule,
                "via_organization_id": g.via_organization_id,
                "via_role": g.via_role.value,
            }
            for g in scope.decision.grants
        ],
    }


@api.get("/patients", response=list[PatientSummary], tags=["patients"])
def list_patients(
    request,
    q: str = "",
    practice_id: int | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=100_000_000),
):
    patients = request_scope(request).patients().select_related("care_manager")
    if q:
        patients = patients.filter(family_name__icontains=q) | patients.filter(given_name__icontains=q)
    if practice_id is not None:
        patients = patients.filter(practice_id=practice_id)
    return [_patient_summary(p) for p in patients.order_by("id")[offset : offset + limit]]


@api.get("/patients/{patient_id}", response={200: PatientOut, 404: ErrorOut}, tags=["patients"])
def get_patient(request, patient_id: int):
    patient = request_scope(request).patient(patient_id)
    with transaction.atomic():
        record_audit(action=AuditAction.READ, user=request.user, patient=patient, obj=patient, detail={"via": "api"})
    return {
        **_patient_summary(patient),
        "sex": patient.sex,
        "deceased_on": patient.deceased_on,
        "medicare_coverage": patient.medicare_coverage,
        "billing_practitioner_npi": patient.billing_practitioner.npi if patient.billing_practitioner_id else None,
        "conditions": list(patient.conditions.values("system", "code", "display", "onset", "abated")),
    }


@api.get("/practices/{practice_id}/matrix", response={200: MatrixOut, 404: ErrorOut}, tags=["operating model"])
def matrix_on(request, practice_id: int, on: dt.date | None = None):
    """The responsibility matrix in force on a date (default today)."""
    practice = request_scope(request).practice(practice_id)
    matrix = matrix_version_in_force(practice, on or timezone.localdate())
    if matrix is None:
        raise NotFound(f"No responsibility matrix in force on {on}; the practice runs in-house.")
    return _matrix(matrix)


@api.get("/practices/{practice_id}/matrix/history", response=list[MatrixOut], tags=["operating model"])
def matrix_history(request, practice_id: int):
    practice = request_scope(request).practice(practice_id)
    versions = ResponsibilityMatrix.objects.filter(practice=practice).select_related("created_by")
    return [_matrix(m) for m in versions.prefetch_related("assignments__owner").order_by("version")]


@api.post(
    "/practices/{practice_id}/matrix",
    response={201: MatrixOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    tags=["operating model"],
)
def create_matrix_version(request, practice_id: int, payload: MatrixIn):
    """Record a new matrix version (program owner of the practice only)."""
    practice = request_scope(request).practice(practice_id)
    if not Membership.objects.filter(
        user=request.user, organization=practice, role=Role.PROGRAM_OWNER, active=True
    ).exists():
        raise PermissionDenied("Only the practice's program owner changes its operating model.")
    try:
        preset = Preset(payload.preset)
    except ValueError:
        raise InvalidInput(f"preset: expected one of {', '.join(p.value for p in Preset)}") from None
    partner = None
    if payload.partner_id is not None:
        partner = Organization.objects.filter(id=payload.partner_id).first()
        if partner is None:
            raise InvalidInput(f"partner_id: no organization {payload.partner_id}")
    matrix = record_matrix_version(
        practice=practice,
        preset=preset,
        partner=partner,
        effective_from=payload.effective_from,
        reason=payload.reason,
        parties=payload.parties,
        by=request.user,
    )
    return Status(201, _matrix(ResponsibilityMatrix.objects.prefetch_related("assignments__owner").get(pk=matrix.pk)))
