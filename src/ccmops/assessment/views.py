"""Model-fit assessment pages: the questionnaire, the report (page and PDF) and "apply this model"."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import PRESETS, Function, Preset
from ccmops.access.policy import PROGRAM_LEADS, OrgKind
from ccmops.assessment import services
from ccmops.assessment.forms import QuestionnaireForm, initial_from
from ccmops.assessment.jobs import start_assessment
from ccmops.assessment.models import ModelFitAssessment
from ccmops.assessment.services import partner_for
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.engagements import engage_partner
from ccmops.organizations.models import Organization
from ccmops.organizations.services import may_change_model
from ccmops.patients.scope import request_scope
from ccmops.platform import charts
from ccmops.platform.pdf import pdf_response


@login_required
def new(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, PROGRAM_LEADS, "The model-fit assessment")
    figures = services.measured_figures(practice)
    form = QuestionnaireForm(request.POST or None, initial=initial_from(figures))
    error = None
    if request.method == "POST" and form.is_valid():
        measured = figures.get("measured")
        job = start_assessment(
            practice=practice,
            questionnaire=form.questionnaire(practice_name=practice.name, measured=measured),
            by=request.user,
            source="measured" if form.cleaned_data.get("use_measured") and measured else "questionnaire",
        )
        if job.status == "failed":
            error = job.error
        elif job.status == "succeeded":
            return redirect(job.return_url)
        else:
            return redirect("job_page", job_id=job.id)
    history = ModelFitAssessment.objects.filter(practice=practice)[:10]
    return render(
        request,
        "assessment/new.html",
        {"practice": practice, "form": form, "figures": figures, "error": error, "history": history},
    )


def _assessment(request, assessment_id: int) -> ModelFitAssessment:
    record = ModelFitAssessment.objects.select_related("practice", "created_by", "applied_matrix").filter(
        id=assessment_id
    )
    record = record.first()
    if record is None or not request_scope(request).decision.can_view(record.practice_id):
        raise NotFound(NOT_FOUND)
    return record


SHORT = {
    Preset.IN_HOUSE: "In-house",
    Preset.HYBRID_PARTNER_MONTHLY: "Hybrid, partner runs monthly work",
    Preset.HYBRID_PARTNER_OUTREACH: "Hybrid, partner calls and enrolls",
    Preset.MANAGED: "Managed",
}


def _context(record: ModelFitAssessment) -> dict:
    result = record.result
    models = []
    for key, m in result["models"].items():
        preset = Preset(key)
        models.append(
            {
                "key": key,
                "m": m,
                "recommended": key == result["recommended"],
                "why_not": result["why_not"].get(key),
                "owners": [(f.label, PRESETS[preset][f]) for f in Function],
                "histogram": charts.histogram(
                    f"{SHORT[preset]}: years by share billed",
                    [f"{10 * i}%" for i in range(10)],
                    m["consistency"]["histogram"],
                ),
                "months": charts.line_chart(
                    "Median month by month",
                    [f"2000-{(i % 12) + 1:02d}" for i in range(len(m["monthly_consistency_p50"]))],
                    [("Billed of planned", m["monthly_consistency_p50"])],
                    width=360,
                    height=170,
                ),
            }
        )
    return {"record": record, "result": result, "models": models, "q": record.questionnaire}


@login_required
def detail(request, assessment_id: int):
    record = _assessment(request, assessment_id)
    ctx = _context(record)
    ctx["may_apply"] = may_change_model(request.user, record.practice)
    ctx["next_month"] = _next_month()
    ctx["partners"] = Organization.objects.filter(kind=OrgKind.PARTNER).order_by("name")
    ctx["engaged"] = partner_for(record.practice, ctx["next_month"])
    return render(request, "assessment/detail.html", ctx)


@login_required
def pdf(request, assessment_id: int):
    record = _assessment(request, assessment_id)
    record_audit(
        action=AuditAction.PRINT, user=request.user, practice_id=record.practice_id, obj=record, detail={"pdf": True}
    )
    return pdf_response(
        "assessment/report_pdf.html", _context(record), f"model-fit-{record.practice.slug}-{record.id}.pdf", request
    )


def _next_month() -> dt.date:
    today = timezone.localdate()
    return (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@login_required
@require_POST
def apply(request, assessment_id: int):
    record = _assessment(request, assessment_id)
    if not may_change_model(request.user, record.practice):
        raise PermissionDenied("Only the practice's program owner changes its operating model.")
    raw_model, raw_date = request.POST.get("model", ""), request.POST.get("effective_from", "")
    try:
        model = Preset(raw_model)
    except ValueError:
        raise InvalidInput(f"model: expected one of the assessed models, got {raw_model!r}") from None
    try:
        effective = dt.date.fromisoformat(raw_date) if raw_date else _next_month()
    except ValueError:
        raise InvalidInput(f"effective_from: expected a date YYYY-MM-DD, got {raw_date!r}") from None
    slug = request.POST.get("partner", "").strip()
    try:
        with transaction.atomic():  # the engagement and the matrix that gives it functions: both, or neither
            partner = None
            if slug and partner_for(record.practice, effective) is None:
                partner = engage_partner(
                    practice=record.practice,
                    partner_slug=slug,
                    starts_on=effective,
                    note=f"Engaged to apply model-fit assessment #{record.id}",
                    by=request.user,
                ).partner
            services.apply(assessment=record, model=model, effective_from=effective, by=request.user, partner=partner)
    except (InvalidInput, Conflict) as exc:
        ctx = _context(record) | {"may_apply": True, "next_month": effective, "apply_error": str(exc)}
        ctx["partners"] = Organization.objects.filter(kind=OrgKind.PARTNER).order_by("name")
        ctx["engaged"] = partner_for(record.practice, effective)
        return render(request, "assessment/detail.html", ctx, status=exc.http_status)
    return redirect("operating_model", practice_id=record.practice_id)
