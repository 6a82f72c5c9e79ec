from __future__ import annotations

import datetime as dt
import zoneinfo
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.months.standings import days_left, decided
from ccmops.patients.scope import request_scope
from ccmops.platform.numerals import ascii_digits
from ccmops.rules.years import operational_rule_set_for
from ccmops.worklist.models import ContactWindow, FollowUpTask
from ccmops.worklist.queries import PAGE, practices_for, worklist, worklist_size
from ccmops.worklist.rows import rows_html
from ccmops.worklist.services import complete_task, log_monthly_attempt, record_transition


@login_required
def my_worklist(request):
    mine = request.GET.get("team") != "1"
    scope = request_scope(request)
    raw = request.GET.get("practice", "")
    if raw and not ascii_digits(raw):
        raise InvalidInput(f"practice: expected a practice id, got {raw!r}")
    practice = scope.practice(int(raw)) if raw else None
    page = request.GET.get("page", "1")
    if not ascii_digits(page) or int(page) < 1:
        raise InvalidInput(f"page: expected a page number from 1, got {page!r}")
    page = int(page)
    chosen = practice.id if practice else None
    rows = worklist(
        scope, request.user, on=timezone.localdate(), mine=mine, practice=chosen, limit=PAGE, offset=(page - 1) * PAGE
    )
    total = rows[0].panel_size if rows else worklist_size(scope, request.user, mine=mine, practice=chosen)
    choices = scope.practices().filter(id__in=practices_for(scope)).order_by("name")
    query = {"team": "1"} if not mine else {}
    if practice:
        query["practice"] = practice.id
    rules, provisional = operational_rule_set_for(timezone.localdate().year)
    return render(
        request,
        "worklist/worklist.html",
        {
            "provisional_rules": rules.year if provisional else None,
            "rows": rows,
            "rows_html": rows_html(rows),
            "mine": mine,
            "today": timezone.localdate(),
            "days_left": days_left(timezone.localdate()),
            "practice": practice,
            "choices": choices,
            "total": total,
            "page_size": PAGE,
            "first": (page - 1) * PAGE + 1,
            "last": (page - 1) * PAGE + len(rows),
            "previous": urlencode(query | {"page": page - 1}) if page > 1 else None,
            "next": urlencode(query | {"page": page + 1}) if page * PAGE < total else None,
        },
    )


@login_required
@require_POST
def log_call(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, Function.MONTHLY_OUTREACH)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(patient.practice.time_zone))
    standing = decided([patient], {}, today)[patient.id]
    log_monthly_attempt(
        patient=patient,
        program=request.POST.get("program", "ccm"),
        channel=request.POST.get("channel", "phone"),
        outcome=request.POST.get("outcome", ""),
        note=request.POST.get("note", ""),
        by=request.user,
        party_id=grant.via_organization_id,
        minutes_this_month=standing.minutes,
    )
    return redirect("patient_detail", patient_id=patient.id)


@login_required
@require_POST
def new_transition(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    scope.require(patient.practice_id, Function.CARE_COORDINATION)
    try:
        when = timezone.make_aware(dt.datetime.fromisoformat(request.POST.get("occurred_at", "")))
    except ValueError:
        raise InvalidInput("occurred_at: expected a date and time") from None
    record_transition(
        patient=patient,
        kind=request.POST.get("kind", ""),
        occurred_at=when,
        facility=request.POST.get("facility", ""),
        by=request.user,
    )
    return redirect("patient_detail", patient_id=patient.id)


@login_required
@require_POST
def task_done(request, task_id: int):
    task = FollowUpTask.objects.filter(id=task_id).first()
    if task is None:
        raise NotFound(NOT_FOUND)
    scope = request_scope(request)
    scope.patient(task.patient_id)
    scope.require(task.practice_id, Function.CARE_COORDINATION)
    complete_task(task=task, by=request.user)
    return redirect(request.POST.get("next") or "worklist")


@login_required
@require_POST
def add_window(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    scope.require(patient.practice_id, Function.MONTHLY_OUTREACH)
    try:
        weekday = int(request.POST.get("weekday", ""))
        start = dt.time.fromisoformat(request.POST.get("start", ""))
        end = dt.time.fromisoformat(request.POST.get("end", ""))
    except ValueError:
        raise InvalidInput("window: expected a weekday and start/end times HH:MM") from None
    if not 0 <= weekday <= 6 or end <= start:
        raise InvalidInput("window: the end must be after the start, on a weekday 0–6")
    ContactWindow.objects.create(
        practice_id=patient.practice_id, patient=patient, weekday=weekday, start=start, end=end
    )
    return redirect("patient_detail", patient_id=patient.id)
