"""Every read of a patient's record, or of a page or file holding PHI, leaves an audit event (ONC 170.315(d)(2),
(d)(3)). Views that audit their own reads (the patient page, packets, exports) keep doing so; for every other
successful GET of a route that names a patient's record — by the kind of id in its path — or that lists patients
(`PHI_ROUTES`), this middleware records one READ event naming the route, the record and, when it is known, the
patient and practice."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.urls import resolve
from django.urls.exceptions import Resolver404

from ccmops.compliance.audit import reads_audited, record_audit
from ccmops.compliance.models import AuditAction

# A path id that names a record of one patient: the model it is, looked up to chain the event to its practice.
RECORD_KWARGS = {
    "patient_id": ("patients", "Patient"),
    "consent_id": ("enrollment", "Consent"),
    "plan_id": ("careplans", "CarePlan"),
    "entry_id": ("timetracking", "TimeEntry"),
    "note_id": ("documentation", "Note"),
    "decision_id": ("billing", "PatientMonthDecision"),
    "record_id": ("patients", "CoverageRecord"),
    "condition_id": ("patients", "PatientCondition"),
    "period_id": ("patients", "QmbPeriod"),
    "service_id": ("billing", "KnownService"),
    "task_id": ("worklist", "FollowUpTask"),
}
# Pages and files of a practice that list patients (names, MBIs, diagnoses): audited by route and practice.
PHI_ROUTES = frozenset(
    {
        "month_page",
        "export",
        "batch_file",
        "packets",
        "candidates",
        "worklist",
        "patient_list",
        "home",
        "role_home",
        "workspace",
        "audit_log",
    }
)
API_PHI_PREFIXES = (
    "/api/patients",
    "/api/care-plans",
    "/api/consents",
    "/api/time-entries",
    "/api/notes",
    "/api/worklist",
    "/api/practices/",
    "/api/decisions",
    "/api/coverage",
)


def _record(kwargs: dict):

    for name, (app, model) in RECORD_KWARGS.items():
        if name in kwargs:
            obj = apps.get_model(app, model).objects.filter(pk=kwargs[name]).first()
            if obj is not None:
                return obj
    return None


class PhiReadAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = reads_audited.set(0)
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            ok = request.method == "GET" and response.status_code == 200 and user is not None and user.is_authenticated
            if ok and reads_audited.get() == 0:
                self._audit(request)
            return response
        finally:
            reads_audited.reset(token)

    def _audit(self, request) -> None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return
        kwargs = match.kwargs
        named = match.url_name or ""
        phi = (
            any(k in kwargs for k in RECORD_KWARGS) or named in PHI_ROUTES or request.path.startswith(API_PHI_PREFIXES)
        )
        if not phi or request.path.startswith(("/static/", "/admin/jsi18n")):
            return
        obj = _record(kwargs)
        patient = obj if obj is not None and obj._meta.model_name == "patient" else getattr(obj, "patient", None)
        practice_id = getattr(obj, "practice_id", None) if obj is not None else kwargs.get("practice_id")
        if isinstance(practice_id, str):
            practice_id = int(practice_id) if practice_id.isascii() and practice_id.isdigit() else None
        with transaction.atomic():
            record_audit(
                action=AuditAction.READ,
                user=request.user,
                patient=patient,
                practice_id=practice_id,
                object_type=f"route:{named or 'api'}"[:64],
                object_id=request.path[:64],
            )
