from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.patients.scope import request_scope
from ccmops.timetracking.entries import add_manual_entry, restore_entry, void_entry
from ccmops.timetracking.models import TimeEntry


@login_required
@require_POST
def manual_entry(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    scope.require(patient.practice_id, Function.TIME_TRACKING)
    p = request.POST
    try:
        start = timezone.make_aware(dt.datetime.fromisoformat(p.get("start", "")))
        minutes = int(p.get("minutes", "0"))
    except ValueError:
        raise InvalidInput("start and minutes: expected a date and time and a whole number of minutes") from None
    add_manual_entry(
        patient=patient,
        staff=request.user,
        program=p.get("program", "ccm"),
        activity=p.get("activity", ""),
        start=start,
        minutes=minutes,
        reason=p.get("reason", ""),
        note=p.get("note", ""),
    )
    return redirect("patient_detail", patient_id=patient.id)


def voidable(request, entry_id: int) -> tuple[TimeEntry, bool]:
    """The entry, if the user may void it: their own (with time tracking at its practice) or, as billing staff
    of the practice, anyone's. Returns (entry, whether voided as billing staff). Out of scope: 404."""
    entry = TimeEntry.objects.filter(id=entry_id).first()
    if entry is None:
        raise NotFound(NOT_FOUND)
    scope = request_scope(request)
    scope.patient(entry.patient_id)
    if entry.staff_id == request.user.id:
        scope.require(entry.practice_id, Function.TIME_TRACKING)
        return entry, False
    scope.require(entry.practice_id, Function.BILLING)
    return entry, True


@login_required
@require_POST
def void(request, entry_id: int):
    entry, as_billing = voidable(request, entry_id)
    void_entry(entry=entry, by=request.user, reason=request.POST.get("reason", ""), as_billing=as_billing)
    return redirect("patient_detail", patient_id=entry.patient_id)


@login_required
@require_POST
def restore(request, entry_id: int):
    """Undo a mistaken void (who may void may restore)."""
    entry, as_billing = voidable(request, entry_id)
    restore_entry(entry=entry, by=request.user, reason=request.POST.get("reason", ""), as_billing=as_billing)
    return redirect("patient_detail", patient_id=entry.patient_id)
