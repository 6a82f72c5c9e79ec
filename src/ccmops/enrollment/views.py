"""Enrollment pages: outreach attempts, status changes, consent capture and records, visits, the funnel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.consent_texts import ensure_texts
from ccmops.enrollment.consents import record_consent, revoke_consent
from ccmops.enrollment.forms import ConsentForm, OutreachForm, RevokeForm, StatusForm, VisitForm
from ccmops.enrollment.models import (
    ALL_CONSENT_ELEMENTS,
    STATUSES,
    Consent,
    ConsentTextVersion,
    Enrollment,
    EnrollmentEvent,
)
from ccmops.enrollment.services import change_status, log_outreach_attempt
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.patients.scope import request_scope
from ccmops.patients.services import record_visit
from ccmops.platform import charts
from ccmops.platform.pdf import pdf_response


def _patient_with(request, patient_id: int, function: Function):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, function)
    return patient, grant


def _back(patient):
    return redirect("patient_detail", patient_id=patient.id)


@login_required
@require_POST
def outreach_attempt(request, patient_id: int):
    patient, grant = _patient_with(request, patient_id, Function.ENROLLMENT_CONSENT)
    form = OutreachForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()))
    log_outreach_attempt(
        patient=patient, purpose="enrollment", by=request.user, party_id=grant.via_organization_id, **form.cleaned_data
    )
    return _back(patient)


@login_required
@require_POST
def enrollment_status(request, patient_id: int):
    patient, grant = _patient_with(request, patient_id, Function.ENROLLMENT_CONSENT)
    form = StatusForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()))
    d = form.cleaned_data
    change_status(
        patient=patient,
        program=d["program"],
        to=d["status"],
        reason=d["reason"],
        by=request.user,
        party_id=grant.via_organization_id,
    )
    return _back(patient)


@login_required
def consent_new(request, patient_id: int):
    patient, grant = _patient_with(request, patient_id, Function.ENROLLMENT_CONSENT)
    form = ConsentForm(request.POST or None, patient=patient, initial={"program": request.GET.get("program", "ccm")})
    error = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            consent = record_consent(
                patient=patient,
                program=d["program"],
                practitioner=d["practitioner"],
                method=d["method"],
                documented_at=d["documented_at"],
                elements=d["elements"],
                obtained_by=request.user,
                party_id=grant.via_organization_id,
                representative_name=d["representative_name"],
                representative_relationship=d["representative_relationship"],
                note=d["note"],
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect("consent_detail", consent_id=consent.id)

    ensure_texts(ConsentTextVersion)
    # the script as read, naming the practitioner the form proposes (the one chosen is named in the stored record)
    texts = {
        t.program: {"version": t.version, "text": t.rendered(patient.billing_practitioner)}
        for t in ConsentTextVersion.objects.filter(language="en").order_by("effective_from")
    }
    return render(
        request, "enrollment/consent_form.html", {"patient": patient, "form": form, "error": error, "texts": texts}
    )


def _consent(request, consent_id: int) -> Consent:
    consent = (
        Consent.objects.select_related("patient", "practitioner", "obtained_by", "text_version")
        .filter(id=consent_id)
        .first()
    )
    if consent is None:
        raise NotFound(NOT_FOUND)
    request_scope(request).patient(consent.patient_id)  # 404 outside scope
    return consent


@login_required
def consent_detail(request, consent_id: int):
    consent = _consent(request, consent_id)
    history = Consent.objects.filter(patient=consent.patient).select_related("practitioner", "revocation")
    context = {
        "consent": consent,
        "revocation": getattr(consent, "revocation", None),  # reverse one-to-one: absent until revoked
        "patient": consent.patient,
        "history": history,
        "revoke_form": RevokeForm(),
        "practice": consent.patient.practice,
        "consent_elements": ALL_CONSENT_ELEMENTS,
    }
    if request.GET.get("format") == "pdf":
        record_audit(action=AuditAction.PRINT, user=request.user, patient=consent.patient, obj=consent)
        return pdf_response("enrollment/consent_record.html", context, f"consent-{consent.id}.pdf", request)
    return render(request, "enrollment/consent_detail.html", context)


@login_required
@require_POST
def consent_revoke(request, consent_id: int):
    consent = _consent(request, consent_id)
    request_scope(request).require(consent.practice_id, Function.ENROLLMENT_CONSENT)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()))
    revoke_consent(
        consent=consent, revoked_at=form.cleaned_data["revoked_at"], reason=form.cleaned_data["reason"], by=request.user
    )
    return redirect("consent_detail", consent_id=consent.id)


@login_required
def visit_new(request, patient_id: int):
    patient, _grant = _patient_with(request, patient_id, Function.ENROLLMENT_CONSENT)
    form = VisitForm(request.POST or None, patient=patient, initial={"day": timezone.localdate()})
    error = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            record_visit(
                patient=patient,
                day=d["day"],
                kind=d["kind"],
                code=d["code"],
                practitioner=d["practitioner"],
                care_management_discussed=d["care_management_discussed"],
                by=request.user,
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return _back(patient)
    return render(request, "enrollment/visit_form.html", {"patient": patient, "form": form, "error": error})


@login_required
def funnel(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    program = request.GET.get("program", "ccm")
    counts = dict(
        Enrollment.objects.filter(practice=practice, program=program).values_list("status").annotate(n=Count("id"))
    )
    rows = [(key, label, counts.get(key, 0)) for key, label in STATUSES]
    reached = EnrollmentEvent.objects.filter(practice=practice, enrollment__program=program)
    by_party = {}
    for party_name, to_status, n in reached.values_list("party__name", "to_status").annotate(
        n=Count("enrollment", distinct=True)
    ):
        by_party.setdefault(party_name or "—", {})[to_status] = n
    party_rows = []
    for name, c in sorted(by_party.items()):
        outreach = c.get("outreach", 0)
        consented = c.get("consented", 0)
        party_rows.append(
            {
                "party": name,
                "counts": c,
                "outreach": outreach,
                "consented": consented,
                "conversion": round(100 * consented / outreach) if outreach else None,
                "active": c.get("active", 0),
            }
        )
    chart = charts.hbars(
        f"{program.upper()} enrollments by stage", [(label, n) for _key, label, n in rows], colour=charts.PALETTE[1]
    )
    total_outreach = sum(1 for _ in reached.filter(to_status="outreach").values("enrollment").distinct())
    total_consented = sum(1 for _ in reached.filter(to_status="consented").values("enrollment").distinct())
    return render(
        request,
        "enrollment/funnel.html",
        {
            "chart": chart,
            "practice": practice,
            "program": program,
            "rows": rows,
            "party_rows": party_rows,
            "conversion": round(100 * total_consented / total_outreach) if total_outreach else None,
            "recent": reached.select_related("enrollment__patient", "by", "party").order_by("-at")[:30],
        },
    )
