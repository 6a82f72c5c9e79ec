"""Thin views: parse, call one service or scope query, render."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Preset
from ccmops.access.policy import Role
from ccmops.billing.known import code_choices
from ccmops.billing.views import may_record_known_services
from ccmops.compliance.audit import record_audit
from ccmops.compliance.jobs import latest_verifications, start_verification
from ccmops.compliance.models import AuditAction, AuditEvent
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.engagements import orphaned_functions, practice_today, with_states
from ccmops.organizations.models import Membership, Organization, ResponsibilityMatrix
from ccmops.organizations.services import matrix_version_in_force, may_change_model, record_matrix_version
from ccmops.patients.coverage import claim_status, coverage_rows
from ccmops.patients.details import EDITORS as DETAIL_EDITORS
from ccmops.patients.details import FIELDS as DETAIL_FIELDS
from ccmops.patients.details import change_details
from ccmops.patients.scope import request_scope
from ccmops.patients.views import may_confirm_diagnoses, may_do_any, may_record_qmb, patient_for_any
from ccmops.patients.vocabulary import PAYER_NAMES, PAYERS
from ccmops.platform import csv_cells
from ccmops.platform.numerals import ascii_digits
from ccmops.portal.services import unread_from
from ccmops.reporting.inbox import inbox
from ccmops.web.forms import MatrixVersionForm
from ccmops.web.homes import BUILDERS
from ccmops.web.patient_page import chart
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
    items = inbox(request_scope(request), request.user)
    return render(request, f"web/home_{chosen.value}.html", {"role": chosen, "items": items, **context})


@login_required
def patient_list(request):
    scope = request_scope(request)
    patients = scope.patients().select_related("practice", "care_manager")
    q = request.GET.get("q", "").strip()
    if q:
        patients = patients.filter(Q(family_name__icontains=q) | Q(given_name__icontains=q) | Q(mrn__icontains=q))
    practice_id = request.GET.get("practice", "")
    if ascii_digits(practice_id):
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
    return patient_page(request, patient)


def patient_page(request, patient, *, status: int = 200, **extra):
    """The patient's page (the chart read is audited by the caller)."""
    scope = request_scope(request)
    functions = scope.decision.functions_at(patient.practice_id)
    return render(
        request,
        "web/patient_detail.html",
        {
            **chart(patient, request.user, earlier=request.GET.get("time", "").strip() or None),
            "time_month": request.GET.get("time", "").strip(),
            "function_values": {f.value for f in functions},
            "patient": patient,
            "conditions": patient.conditions.all(),
            "age": patient.age_on(timezone.localdate()),
            "functions": functions,
            "grant": scope.decision.grant_for(patient.practice_id),
            "matrix": matrix_version_in_force(patient.practice, timezone.localdate()),
            "qmb_periods": patient.qmb_periods.select_related("recorded_by"),
            "coverages": coverage_rows(patient),
            "payer_on_file": PAYER_NAMES.get(patient.medicare_coverage, patient.medicare_coverage),
            "payer_choices": [(k, PAYER_NAMES[k]) for k in PAYERS],
            "condition_rows": [(c, claim_status(c)) for c in patient.conditions.select_related("confirmed_by")],
            "may_confirm_diagnoses": may_confirm_diagnoses(scope, patient.practice_id),
            "may_record_qmb": may_record_qmb(scope, patient.practice_id),
            "known_services": patient.known_services.select_related("recorded_by", "withdrawn_by"),
            "may_record_known_services": may_record_known_services(scope, patient.practice_id),
            "known_service_codes": code_choices(),
            "may_edit_details": may_do_any(scope, patient.practice_id, DETAIL_EDITORS),
            "details_given": {name: getattr(patient, name) for name in DETAIL_FIELDS},
            "details_error": "",
            "unread_messages": unread_from(patient),
            **extra,
        },
        status=status,
    )


@login_required
def operating_model(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    may_change = may_change_model(request.user, practice)
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
    return operating_model_page(request, practice, form=form, error=error)


def operating_model_page(request, practice, *, form=None, error=None, status: int = 200, **extra):
    """The operating-model page: the matrix in force on a date, its history, the partner engagements."""
    may_change = may_change_model(request.user, practice)
    as_of_raw = request.GET.get("on", "")
    try:
        as_of = dt.date.fromisoformat(as_of_raw) if as_of_raw else timezone.localdate()
    except ValueError:
        as_of, error = timezone.localdate(), f"on: expected a date YYYY-MM-DD, got {as_of_raw!r}"
    today = practice_today(practice)
    history = (
        ResponsibilityMatrix.objects.filter(practice=practice)
        .select_related("partner", "created_by")
        .prefetch_related("assignments__owner")
        .order_by("-version")
    )
    context = {
        "practice": practice,
        "as_of": as_of,
        "in_force": matrix_version_in_force(practice, as_of),
        "history": history,
        "form": form or MatrixVersionForm(practice=practice),
        "may_change": may_change,
        "error": error,
        "engagements": with_states(practice),
        "orphaned": orphaned_functions(practice, today),
        "today": today,
        "engage_given": {"partner": "", "starts_on": today.isoformat(), "ends_on": "", "note": ""},
        **extra,
    }
    return render(request, "web/operating_model.html", context, status=status)


# Audit object types of configuration changes: an organization's settings, practitioners, rule policies,
# engagements, staff and operating model (and "admin:<model>" for changes in the administrator's site).
CONFIGURATION = (
    "settings",
    "practitioner",
    "rule_policies",
    "engagement",
    "staff",
    "organizations.Engagement",
    "organizations.ResponsibilityMatrix",
)


@login_required
def audit_log(request):
    """The compliance reviewer's audit report: filter by patient, user, action and dates; who accessed a chart,
    which patients a user touched; CSV export (itself audited)."""
    # Only the practices where the user is a compliance reviewer: a role held in one organization is not honoured
    # in another the user can see for a different reason (security review, item 2).
    visible = request_scope(request).decision.practices_with_role(Role.COMPLIANCE_REVIEWER)
    if not visible:
        raise Http404("The audit log is for compliance reviewers")
    staff = Membership.objects.filter(organization_id__in=visible).values_list("user__username", flat=True)
    # Practice events, plus sign-in events (no practice) of the practices' own staff.
    events = AuditEvent.objects.filter(
        Q(practice_id__in=visible) | Q(practice__isnull=True, username__in=staff)
    ).select_related("patient", "practice")
    f = {k: request.GET.get(k, "").strip() for k in ("patient", "user", "action", "what", "since", "until")}
    patient = None
    if f["patient"]:
        if not ascii_digits(f["patient"]):
            raise InvalidInput(f"patient: expected a patient id number, got {f['patient']!r}")
        events = events.filter(patient_id=int(f["patient"]))
        try:
            patient = request_scope(request).patient(int(f["patient"]))
        except NotFound:
            patient = None  # out of scope: the filtered events are empty too
    if f["user"]:
        events = events.filter(username=f["user"])
    if f["action"]:
        if f["action"] not in AuditAction.values:
            raise InvalidInput(f"action: expected one of {', '.join(AuditAction.values)}, got {f['action']!r}")
        events = events.filter(action=f["action"])
    if f["what"]:
        if f["what"] != "configuration":
            raise InvalidInput(f"what: expected configuration (or nothing), got {f['what']!r}")
        events = events.filter(Q(object_type__in=CONFIGURATION) | Q(object_type__startswith="admin:"))
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        if f[key]:
            try:
                events = events.filter(**{lookup: dt.date.fromisoformat(f[key])})
            except ValueError:
                raise InvalidInput(f"{key}: expected a date YYYY-MM-DD, got {f[key]!r}") from None
    events = events.order_by("-id")
    if request.GET.get("format") == "csv":
        return _audit_csv(request, events, f)
    by_user = by_patient = None
    if f["patient"]:  # accounting of access to one chart
        by_user = (
            events.values("username").annotate(n=Count("id"), first=Min("at"), last=Max("at")).order_by("-last")[:200]
        )
    if f["user"]:  # what one person touched
        by_patient = (
            events.exclude(patient__isnull=True)
            .values("patient_id", "patient__given_name", "patient__family_name")
            .annotate(n=Count("id"), last=Max("at"))
            .order_by("-last")[:200]
        )
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in f.items() if v})
    return render(
        request,
        "web/audit_log.html",
        {
            "page": page,
            "f": f,
            "query": query,
            "patient": patient,
            "by_user": by_user,
            "by_patient": by_patient,
            "actions": AuditAction.values,
            "totals": events.values("action", "outcome").annotate(n=Count("id")).order_by("action", "outcome"),
            "chain_practices": Organization.objects.filter(id__in=visible).order_by("name"),
            "verifications": latest_verifications(visible),
        },
    )


@login_required
@require_POST
def verify_audit_chain(request):
    """Start the verification of a practice's audit chain (a job); the audit page shows its progress and result."""
    visible = request_scope(request).decision.practices_with_role(Role.COMPLIANCE_REVIEWER)
    raw = request.POST.get("practice", "")
    if not ascii_digits(raw) or int(raw) not in visible:
        raise NotFound(NOT_FOUND)
    start_verification(practice=Organization.objects.get(pk=int(raw)), by=request.user)
    return redirect("audit_log")


def _audit_csv(request, events, f: dict) -> HttpResponse:

    out = io.StringIO()
    w = csv_cells.writer(out)
    w.writerow(["at_utc", "username", "action", "outcome", "practice", "patient_id", "patient", "object", "hash"])
    n = 0
    for e in events.iterator(chunk_size=2000):
        w.writerow(
            [
                e.at.isoformat(),
                e.username,
                e.action,
                e.outcome,
                e.practice.name if e.practice else "",
                e.patient_id or "",
                str(e.patient) if e.patient else "",
                f"{e.object_type} {e.object_id}".strip(),
                e.hash,
            ]
        )
        n += 1
    record_audit(action=AuditAction.EXPORT, user=request.user, object_type="audit_report", detail={**f, "rows": n})
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="ccmops-audit-report.csv"'
    return response


@login_required
@require_POST
def patient_details(request, patient_id: int):
    """Correct the patient's contact details or MBI (those who work with the patient)."""
    patient = patient_for_any(request, patient_id, DETAIL_EDITORS)
    given = {name: request.POST[name] for name in DETAIL_FIELDS if name in request.POST}
    try:
        changed = change_details(patient=patient, changes=given, by=request.user)
    except InvalidInput as exc:
        shown = {name: getattr(patient, name) for name in DETAIL_FIELDS} | given
        return patient_page(request, patient, status=exc.http_status, details_error=str(exc), details_given=shown)
    notice = f"Saved: {', '.join(changed)}." if changed else "Nothing changed."
    return redirect(f"{reverse('patient_detail', args=[patient.id])}?details={quote(notice)}#details")
