"""Coverage facts of a patient (QMB periods, coverage records, date of death) and confirmed diagnoses, recorded
by billing or enrollment staff; the access helpers other pages use to reach a patient for those functions."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.patients.coverage import (
    confirm_diagnosis,
    end_coverage,
    record_coverage,
    record_death,
    withdraw_coverage,
)
from ccmops.patients.models import (
    CoverageRecord,
    PatientCondition,
    QmbPeriod,
)
from ccmops.patients.scope import request_scope
from ccmops.patients.services import end_qmb, record_qmb


def may_do_any(scope, practice_id: int, functions: tuple[Function, ...]) -> bool:
    """Whether the user holds any of these functions at the practice (a page shows the form by it)."""
    held = scope.decision.functions_at(practice_id)
    return any(f in held for f in functions)


def patient_for_any(request, patient_id: int, functions: tuple[Function, ...]):
    """The patient, when the user may see them and holds any of `functions` at their practice; else raises (404
    for a patient out of scope, 403 naming the first function missing)."""
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    if not may_do_any(scope, patient.practice_id, functions):
        scope.require(patient.practice_id, functions[0])
    return patient


QMB_FUNCTIONS = (Function.BILLING, Function.ENROLLMENT_CONSENT)  # who verifies coverage: billing or enrollment


def may_record_qmb(scope, practice_id: int) -> bool:
    return may_do_any(scope, practice_id, QMB_FUNCTIONS)


def qmb_patient(request, patient_id: int):
    """The patient, when the user may see them and record their QMB status (billing or enrollment)."""
    return patient_for_any(request, patient_id, QMB_FUNCTIONS)


def parse_day(raw: str, field: str, *, required: bool) -> dt.date | None:
    """A form's date field (YYYY-MM-DD), or InvalidInput naming the field."""
    raw = raw.strip()
    if not raw and not required:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{field}: expected a date YYYY-MM-DD, got {raw!r}") from None


@login_required
@require_POST
def qmb_record(request, patient_id: int):
    patient = qmb_patient(request, patient_id)
    record_qmb(
        patient=patient,
        start=parse_day(request.POST.get("start", ""), "start", required=True),
        end=parse_day(request.POST.get("end", ""), "end", required=False),
        source=request.POST.get("source", ""),
        by=request.user,
    )
    return redirect("patient_detail", patient_id=patient.id)


@login_required
@require_POST
def qmb_end(request, period_id: int):
    period = QmbPeriod.objects.filter(id=period_id).first()
    if period is None:
        raise NotFound(NOT_FOUND)
    patient = qmb_patient(request, period.patient_id)  # the patient's scope first: no probing
    end_qmb(period=period, end=parse_day(request.POST.get("end", ""), "end", required=True), by=request.user)
    return redirect("patient_detail", patient_id=patient.id)


DIAGNOSIS_CONFIRMERS = (Function.BILLING, Function.CLINICAL_OVERSIGHT)  # a coder, or the practitioner


def may_confirm_diagnoses(scope, practice_id: int) -> bool:
    return may_do_any(scope, practice_id, DIAGNOSIS_CONFIRMERS)


@login_required
@require_POST
def coverage_record(request, patient_id: int):
    """Coverage recorded by billing or enrollment staff, with its source (R-COV-1)."""
    patient = qmb_patient(request, patient_id)
    record_coverage(
        patient=patient,
        payer=request.POST.get("payer", ""),
        start=parse_day(request.POST.get("start", ""), "start", required=False),
        end=parse_day(request.POST.get("end", ""), "end", required=False),
        medicare_secondary=request.POST.get("medicare_secondary") == "on",
        source=request.POST.get("source", ""),
        by=request.user,
    )
    return redirect(f"{reverse('patient_detail', args=[patient.id])}#coverage")


def _coverage(request, record_id: int) -> CoverageRecord:
    record = CoverageRecord.objects.filter(id=record_id).first()
    if record is None:
        raise NotFound(NOT_FOUND)
    qmb_patient(request, record.patient_id)  # the patient's scope first: no probing
    return record


@login_required
@require_POST
def coverage_end(request, record_id: int):
    record = _coverage(request, record_id)
    end_coverage(record=record, end=parse_day(request.POST.get("end", ""), "end", required=True), by=request.user)
    return redirect(f"{reverse('patient_detail', args=[record.patient_id])}#coverage")


@login_required
@require_POST
def coverage_withdraw(request, record_id: int):
    record = _coverage(request, record_id)
    patient_id = record.patient_id
    withdraw_coverage(record=record, reason=request.POST.get("reason", ""), by=request.user)
    return redirect(f"{reverse('patient_detail', args=[patient_id])}#coverage")


@login_required
@require_POST
def death_record(request, patient_id: int):
    """The date of death (R-COV-2), or clearing a wrong one (an empty date)."""
    patient = qmb_patient(request, patient_id)
    record_death(
        patient=patient,
        on=parse_day(request.POST.get("deceased_on", ""), "deceased_on", required=False),
        source=request.POST.get("source", ""),
        by=request.user,
    )
    return redirect(f"{reverse('patient_detail', args=[patient.id])}#coverage")


@login_required
@require_POST
def condition_confirm(request, condition_id: int):
    """A coder or the practitioner confirms a SNOMED CT problem's ICD-10-CM code for claims (R-DX-3)."""
    condition = PatientCondition.objects.filter(id=condition_id).first()
    if condition is None:
        raise NotFound(NOT_FOUND)
    patient_for_any(request, condition.patient_id, DIAGNOSIS_CONFIRMERS)
    confirm_diagnosis(condition=condition, code=request.POST.get("code", ""), by=request.user)
    return redirect(f"{reverse('patient_detail', args=[condition.patient_id])}#conditions")
