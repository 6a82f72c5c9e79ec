from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.access.scope import request_scope
from ccmops.errors import InvalidInput
from ccmops.timetracking.services import add_manual_entry


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
