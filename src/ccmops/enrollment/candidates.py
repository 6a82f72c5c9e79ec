"""Enrollment candidates: the screening results of a practice, filtered, ranked by risk, exportable, and the
start of enrollment outreach."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.jobs import start_screening
from ccmops.enrollment.models import Enrollment
from ccmops.enrollment.services import start_outreach
from ccmops.errors import InvalidInput
from ccmops.patients.models import SCREENING_STATUSES, ScreeningResult, ScreeningRun
from ccmops.patients.scope import request_scope
from ccmops.platform import csv_cells
from ccmops.platform.numerals import ascii_digits

PROGRAMS = {"ccm": "CCM", "pcm": "PCM", "apcm": "APCM"}
SORTS = {"risk": "-risk_score", "conditions": "-chronic_count", "name": "patient__family_name"}


def candidate_queryset(practice, params):
    program = params.get("program", "ccm")
    if program not in PROGRAMS:
        raise InvalidInput(f"program: expected one of {', '.join(PROGRAMS)}")
    status = params.get("status", "eligible")
    rows = ScreeningResult.objects.filter(practice=practice).select_related("patient", "patient__care_manager")
    if status:
        rows = rows.filter(**{program: status})
    q = params.get("q", "").strip()
    if q:
        rows = rows.filter(
            Q(patient__family_name__icontains=q) | Q(patient__given_name__icontains=q) | Q(patient__mrn=q)
        )
    if ascii_digits(params.get("min_conditions", "")):
        rows = rows.filter(chronic_count__gte=int(params["min_conditions"]))
    if params.get("visit") == "needed":
        rows = rows.filter(initiating_visit_needed=True)
    elif params.get("visit") == "not_needed":
        rows = rows.filter(initiating_visit_needed=False)
    return program, rows.order_by(SORTS.get(params.get("sort", "risk"), "-risk_score"), "patient_id")


@login_required
def candidates(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    grant = scope.require(practice.id, Function.IDENTIFICATION)
    program, rows = candidate_queryset(practice, request.GET)
    if request.GET.get("format") == "csv":
        return _csv(request, practice, program, rows)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    enrollments = {
        e.patient_id: e
        for e in Enrollment.objects.filter(program=program, patient_id__in=[r.patient_id for r in page.object_list])
    }
    for r in page.object_list:
        r.enrollment = enrollments.get(r.patient_id)
        r.program_reasons = r.reasons.get(program, [])
    can_enroll = scope.decision.grant_for(practice.id, Function.ENROLLMENT_CONSENT) is not None
    return render(
        request,
        "patients/candidates.html",
        {
            "practice": practice,
            "page": page,
            "program": program,
            "programs": PROGRAMS,
            "params": request.GET,
            "q": request.GET.get("q", ""),
            "min_conditions": request.GET.get("min_conditions", ""),
            "statuses": SCREENING_STATUSES,
            "grant": grant,
            "can_enroll": can_enroll,
            "run": ScreeningRun.objects.filter(practice=practice).order_by("-finished_at").first(),
        },
    )


def _csv(request, practice, program, rows):
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{practice.slug}-{program}-candidates.csv"'
    w = csv_cells.writer(response)
    w.writerow(
        [
            "mrn",
            "family_name",
            "given_name",
            "birth_date",
            "program",
            "status",
            "risk_score",
            "hcc_raf",
            "chronic_conditions",
            "initiating_visit_needed",
            "last_visit",
            "reasons",
        ]
    )
    n = 0
    for r in rows.iterator(chunk_size=2000):
        n += 1
        w.writerow(
            [
                r.patient.mrn,
                r.patient.family_name,
                r.patient.given_name,
                r.patient.birth_date,
                program,
                getattr(r, program),
                f"{r.risk_score:.3f}",
                r.risk.get("raf", ""),
                "; ".join(r.conditions),
                "yes" if r.initiating_visit_needed else "no",
                r.last_visit or "",
                " | ".join(x["message"] for x in r.reasons.get(program, [])),
            ]
        )
    record_audit(
        action=AuditAction.EXPORT,
        user=request.user,
        practice_id=practice.id,
        object_type="candidates",
        detail={"program": program, "rows": n, "filters": dict(request.GET.items())},
    )
    return response


@login_required
@require_POST
def screen(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require(practice.id, Function.IDENTIFICATION)
    job = start_screening(practice=practice, by=request.user, return_url=reverse("candidates", args=[practice.id]))
    if job.finished:
        return redirect("candidates", practice_id=practice.id)
    return redirect("job_page", job_id=job.id)


@login_required
@require_POST
def start_enrollment_outreach(request, practice_id: int, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    if patient.practice_id != practice_id:
        raise InvalidInput("patient: not a patient of this practice")
    grant = scope.require(patient.practice_id, Function.ENROLLMENT_CONSENT)
    program = request.POST.get("program", "ccm")
    if program not in PROGRAMS:
        raise InvalidInput(f"program: expected one of {', '.join(PROGRAMS)}")
    enrollment = start_outreach(patient=patient, program=program, by=request.user, party_id=grant.via_organization_id)
    if request.htmx:
        return render(request, "patients/_enrollment_cell.html", {"enrollment": enrollment, "program": program})
    return redirect(request.POST.get("next") or "candidates", practice_id=practice_id)
