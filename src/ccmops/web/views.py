"""Thin views: parse, call one service or scope query, render."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from ccmops.access.operating_model import Preset
from ccmops.access.policy import Role
from ccmops.access.scope import request_scope
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction, AuditEvent
from ccmops.errors import InvalidInput, PermissionDenied
from ccmops.organizations.models import Membership, ResponsibilityMatrix
from ccmops.organizations.services import matrix_version_in_force, record_matrix_version
from ccmops.patients.chart import chart
from ccmops.web.forms import MatrixVersionForm
from ccmops.web.homes import BUILDERS
from ccmops.web.roles import primary_role, roles_of


@login_required
def home(request):
    role = primary_role(request.user)
    if role is None:
        return render(request, "web/no_role.html")
    return redirect("role_home", role=role.value)


@login_required
def role_home(request, role: str):
    try:
        chosen = Role(role)
    except ValueError:
        raise Http404("No such role") from None
    if chosen not in roles_of(request.user):
        raise Http404("You do not hold this role")
    context = BUILDERS[chosen](request_scope(request), request.user)
    return render(request, f"web/home_{chosen.value}.html", {"role": chosen, **context})


@login_required
def patient_list(request):
    scope = request_scope(request)
    patients = scope.patients().select_related("practice", "care_manager")
    q = request.GET.get("q", "").strip()
    if q:
        patients = patients.filter(Q(family_name__icontains=q) | Q(given_name__icontains=q) | Q(mrn__icontains=q))
    practice_id = request.GET.get("practice", "")
    if practice_id.isdigit():
        patients = patients.filter(practice_id=int(practice_id))
    if request.GET.get("mine"):
        patients = patients.filter(care_manager=request.user)
    page = Paginator(patients.order_by("family_name", "given_name", "id"), 50).get_page(request.GET.get("page"))
    template = "web/_patient_rows.html" if request.htmx else "web/patient_list.html"
    return render(
        request,
        template,
        {"page": page, "q": q, "practices": scope.practices(), "practice_id": practice_id},
    )


@login_required
def patient_detail(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    with transaction.atomic():
        record_audit(action=AuditAction.READ, user=request.user, patient=patient, obj=patient)
    functions = scope.decision.functions_at(patient.practice_id)
    return render(
        request,
        "web/patient_detail.html",
        {
            **chart(patient, request.user),
            "function_values": {f.value for f in functions},
            "patient": patient,
            "conditions": patient.conditions.all(),
            "age": patient.age_on(timezone.localdate()),
            "functions": functions,
            "grant": scope.decision.grant_for(patient.practice_id),
            "matrix": matrix_version_in_force(patient.practice, timezone.localdate()),
        },
    )


def _can_change_model(user, practice) -> bool:
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, organization=practice, role=Role.PROGRAM_OWNER, active=True).exists()
    )


@login_required
def operating_model(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    may_change = _can_change_model(request.user, practice)
    form = MatrixVersionForm(request.POST or None, practice=practice)
    error = None
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("Only the practice's program owner changes its operating model.")
        if form.is_valid():
            preset = Preset(form.cleaned_data["preset"])
            try:
                record_matrix_version(
                    practice=practice,
                    preset=preset,
                    partner=form.cleaned_data["partner"],
                    effective_from=form.cleaned_data["effective_from"],
                    reason=form.cleaned_data["reason"],
                    parties=form.custom_parties() if preset is Preset.CUSTOM else None,
                    by=request.user,
                )
            except InvalidInput as exc:
                error = str(exc)
            else:
                return redirect("operating_model", practice_id=practice.id)
    as_of_raw = request.GET.get("on", "")
    try:
        as_of = dt.date.fromisoformat(as_of_raw) if as_of_raw else timezone.localdate()
    except ValueError:
        as_of, error = timezone.localdate(), f"on: expected a date YYYY-MM-DD, got {as_of_raw!r}"
    history = (
        ResponsibilityMatrix.objects.filter(practice=practice)
        .select_related("partner", "created_by")
        .prefetch_related("assignments__owner")
        .order_by("-version")
    )
    return render(
        request,
        "web/operating_model.html",
        {
            "practice": practice,
            "as_of": as_of,
            "in_force": matrix_version_in_force(practice, as_of),
            "history": history,
            "form": form,
            "may_change": may_change,
            "error": error,
        },
    )


@login_required
def audit_log(request):
    if Role.COMPLIANCE_REVIEWER not in roles_of(request.user):
        raise Http404("The audit log is for compliance reviewers")
    scope = request_scope(request)
    events = AuditEvent.objects.filter(practice_id__in=scope.decision.visible_practice_ids).select_related(
        "patient", "practice"
    )
    patient_id = request.GET.get("patient", "")
    if patient_id.isdigit():
        events = events.filter(patient_id=int(patient_id))
    username = request.GET.get("user", "").strip()
    if username:
        events = events.filter(username=username)
    page = Paginator(events.order_by("-id"), 100).get_page(request.GET.get("page"))
    return render(request, "web/audit_log.html", {"page": page, "patient_id": patient_id, "username": username})
