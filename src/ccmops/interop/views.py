"""Import pages: upload, progress, reports, and the CSV template."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.access.policy import Role
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.interop.csv_read import TEMPLATE
from ccmops.interop.fhir_export import patient_bundle
from ccmops.interop.jobs import start_fhir_export, start_import
from ccmops.interop.models import ImportRun
from ccmops.interop.runner import save_upload
from ccmops.interop.services import fail_abandoned
from ccmops.patients.scope import practice_for, request_scope


def _practice_for_identification(request, practice_id: int):
    return practice_for(request, practice_id, Function.IDENTIFICATION)


@login_required
def imports(request, practice_id: int):
    practice = _practice_for_identification(request, practice_id)
    error = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        upload = request.FILES.get("file")
        try:
            if kind not in dict(ImportRun.KINDS):
                raise InvalidInput("kind: choose FHIR Bundle, C-CDA document, Bulk FHIR or CSV")
            if upload is None:
                raise InvalidInput("file: choose a file to import")
            path = save_upload(practice, kind, upload)
            run, _job = start_import(practice=practice, kind=kind, path=path, label=upload.name, by=request.user)
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect("import_detail", practice_id=practice.id, run_id=run.id)
    fail_abandoned(practice)  # a run whose process was killed while validating says so, not "validating" forever
    runs = ImportRun.objects.filter(practice=practice).select_related("created_by")[:50]
    return render(request, "interop/imports.html", {"practice": practice, "runs": runs, "error": error})


@login_required
def import_detail(request, practice_id: int, run_id: int):
    practice = _practice_for_identification(request, practice_id)
    run = ImportRun.objects.filter(practice=practice, id=run_id).first()
    if run is None:
        raise NotFound(NOT_FOUND)
    template = "interop/_run_status.html" if request.htmx else "interop/import_detail.html"
    return render(request, template, {"practice": practice, "run": run})


@login_required
@require_POST
def fhir_export(request, practice_id: int):
    """The whole practice's record as a Bulk FHIR export, built by a job; its page offers the download."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, frozenset({Role.PROGRAM_OWNER, Role.SYSTEM_ADMIN}), "Exporting every patient")
    job = start_fhir_export(practice=practice, by=request.user)
    return redirect("job_page", job_id=job.id)


def csv_template(request):
    response = HttpResponse(TEMPLATE, content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="ccmops-patients-template.csv"'
    return response


@login_required
def patient_fhir(request, patient_id: int):
    """The patient's CCM record as a FHIR R4 collection Bundle (audited export)."""
    patient = request_scope(request).patient(patient_id)
    bundle = patient_bundle(patient)
    record_audit(
        action=AuditAction.EXPORT,
        user=request.user,
        patient=patient,
        obj=patient,
        detail={"format": "fhir-r4", "resources": len(bundle["entry"])},
    )
    response = JsonResponse(bundle, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.id}-fhir.json"'
    return response
