"""Care-plan pages: draft from templates, edit (new version), review, approve, share, print."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.careplans.forms import CarePlanForm
from ccmops.careplans.models import CarePlan, CarePlanShare
from ccmops.careplans.services import (
    approve,
    create_from_template,
    mark_reviewed,
    missing_of,
    record_share,
    save_version,
    with_picture,
)
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound
from ccmops.patients.scope import request_scope
from ccmops.platform.numerals import ascii_digits
from ccmops.platform.pdf import pdf_response
from ccmops.rules.careplan import ELEMENTS


def _plan(request, plan_id: int) -> CarePlan:
    plan = CarePlan.objects.select_related("patient", "patient__practice").filter(id=plan_id).first()
    if plan is None:
        raise NotFound(NOT_FOUND)
    request_scope(request).patient(plan.patient_id)
    return plan


def _lock(request) -> int:
    value = request.POST.get("lock_version", "")
    if not ascii_digits(value):
        raise InvalidInput("lock_version: missing; reload the page")
    return int(value)


@login_required
@require_POST
def careplan_new(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    scope.require(patient.practice_id, Function.CARE_PLANNING)
    plan = create_from_template(patient=patient, program=request.POST.get("program", "ccm"), by=request.user)
    return redirect("careplan_edit", plan_id=plan.id)


@login_required
def careplan_detail(request, plan_id: int):
    plan = _plan(request, plan_id)
    versions = list(plan.versions.select_related("created_by", "reviewed_by", "approved_by").order_by("-number"))
    number = request.GET.get("v")
    shown = next((v for v in versions if str(v.number) == number), versions[0])
    scope = request_scope(request)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "versions": versions,
        "version": shown,
        "latest": versions[0],
        "in_force": plan.in_force,
        "missing": missing_of(shown),
        "elements": ELEMENTS,
        "shares": CarePlanShare.objects.filter(version__care_plan=plan).select_related("version", "recorded_by"),
        "share_methods": CarePlanShare.METHODS,
        "error": request.GET.get("error", ""),
        "can_plan": scope.decision.grant_for(plan.practice_id, Function.CARE_PLANNING) is not None,
        "can_approve": scope.decision.grant_for(plan.practice_id, Function.CLINICAL_OVERSIGHT) is not None,
    }
    if request.GET.get("format") in ("pdf", "print"):
        record_audit(action=AuditAction.PRINT, user=request.user, patient=plan.patient, obj=shown)
        if request.GET["format"] == "pdf":
            return pdf_response("careplans/print.html", context, f"care-plan-{plan.id}-v{shown.number}.pdf", request)
        return render(request, "careplans/print.html", context)
    return render(request, "careplans/detail.html", context)


@login_required
def careplan_edit(request, plan_id: int):
    plan = _plan(request, plan_id)
    request_scope(request).require(plan.practice_id, Function.CARE_PLANNING)
    latest = plan.latest
    error = None
    if request.method == "POST":
        form = CarePlanForm(request.POST)
        if form.is_valid():
            try:
                save_version(
                    plan=plan,
                    content=form.content(),
                    by=request.user,
                    expected_lock=form.cleaned_data["lock_version"],
                    change_summary=form.cleaned_data["change_summary"],
                    substantial=form.cleaned_data["substantial_revision"],
                )
            except Conflict as exc:
                error = str(exc)
            else:
                return redirect("careplan_detail", plan_id=plan.id)
    else:
        content = with_picture(latest.content, plan.patient) if "pull" in request.GET else latest.content
        form = CarePlanForm(initial=CarePlanForm.initial_from(content, plan.lock_version))
    return render(
        request,
        "careplans/edit.html",
        {
            "plan": plan,
            "patient": plan.patient,
            "form": form,
            "error": error,
            "latest": latest,
            "pulled": "pull" in request.GET,
        },
    )


def _action(request, plan_id: int, function: Function, action):
    plan = _plan(request, plan_id)
    request_scope(request).require(plan.practice_id, function)
    try:
        action(plan, _lock(request))
    except (InvalidInput, Conflict) as exc:
        return redirect(f"/care-plans/{plan.id}/?{urlencode({'error': str(exc)})}")
    return redirect("careplan_detail", plan_id=plan.id)


@login_required
@require_POST
def careplan_review(request, plan_id: int):
    return _action(
        request,
        plan_id,
        Function.CARE_PLANNING,
        lambda plan, lock: mark_reviewed(version=plan.latest, by=request.user, expected_lock=lock),
    )


@login_required
@require_POST
def careplan_approve(request, plan_id: int):
    return _action(
        request,
        plan_id,
        Function.CLINICAL_OVERSIGHT,
        lambda plan, lock: approve(version=plan.latest, by=request.user, expected_lock=lock),
    )


@login_required
@require_POST
def careplan_share(request, plan_id: int):
    def share(plan, _lock_value):
        version = plan.in_force
        if version is None:
            raise InvalidInput("No approved version to share yet.")
        record_share(
            version=version,
            method=request.POST.get("method", ""),
            by=request.user,
            recipient=request.POST.get("recipient", "patient"),
        )

    return _action(request, plan_id, Function.CARE_PLANNING, share)
