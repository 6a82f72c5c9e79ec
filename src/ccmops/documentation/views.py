from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.clinical.instruments import INSTRUMENTS
from ccmops.clinical.models import ReconciledItem, Reconciliation
from ccmops.documentation.assess import record_assessment
from ccmops.documentation.models import Note
from ccmops.documentation.note_templates import TEMPLATES
from ccmops.documentation.reconcile import Answer, list_to_reconcile, reconcile
from ccmops.documentation.services import add_addendum, save_note
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound
from ccmops.patients.scope import request_scope
from ccmops.timetracking.models import ACTIVITIES, TimeEntry
from ccmops.timetracking.queries import time_months


@login_required
def note_new(request, patient_id: int):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, Function.DOCUMENTATION)
    activity = request.POST.get("activity") or request.GET.get("activity") or "care_coordination_call"
    if activity not in TEMPLATES:
        raise InvalidInput(f"activity: expected one of {', '.join(TEMPLATES)}")
    error = None
    values = {k: request.POST.get(k, "") for k, _label, _req in TEMPLATES[activity]}
    entries = documentable_entries(patient)
    chosen = request.POST.get("time_entry") or request.GET.get("time_entry") or ""
    entry = None
    if chosen:
        entry = next((e for e in entries if str(e.id) == chosen), None)
        if entry is None:
            raise InvalidInput(
                f"time_entry: {chosen} is not one of {patient}'s entries of this or last month that stand (a voided "
                "entry documents nothing)"
            )
    if request.method == "POST":
        try:
            save_note(
                patient=patient,
                author=request.user,
                party_id=grant.via_organization_id,
                program=request.POST.get("program", "ccm"),
                activity=activity,
                fields=values,
                time_entry=entry,
                sign="sign" in request.POST,
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect("patient_detail", patient_id=patient.id)
    fields = [(k, label, req, values.get(k, "")) for k, label, req in TEMPLATES[activity]]
    return render(
        request,
        "documentation/note_form.html",
        {
            "patient": patient,
            "activity": activity,
            "activities": ACTIVITIES,
            "fields": fields,
            "error": error,
            "entries": entries,
            "entry": entry,
        },
    )


NEAR = dt.timedelta(hours=1)  # a draft written within the hour after an entry ended documents that work


@login_required
def note_edit(request, note_id: int):
    """Finish a draft note and sign it — the one a reconciliation or an assessment drafted, or one saved as a
    draft. Only its author edits it; it may be tied to the time entry it documents (the timer that ran while the
    work was done is offered first)."""
    note = Note.objects.filter(id=note_id).select_related("time_entry").first()
    if note is None:
        raise NotFound(NOT_FOUND)
    scope = request_scope(request)
    patient = scope.patient(note.patient_id)
    grant = scope.require(patient.practice_id, Function.DOCUMENTATION)
    if note.signed_at is not None:
        return redirect(f"{reverse('patient_detail', args=[patient.id])}#note-{note.id}")
    if note.author_id != request.user.id:
        raise Conflict(f"Only the author ({note.author}) finishes and signs this draft note.")
    entries = documentable_entries(patient)
    chosen = request.POST.get("time_entry", "") if request.method == "POST" else str(note.time_entry_id or "")
    if request.method == "GET" and not chosen:
        worked = next(
            (e for e in entries if e.staff_id == note.author_id and e.start - NEAR <= note.created_at <= e.end + NEAR),
            None,
        )  # fmt: skip
        chosen = str(worked.id) if worked else ""
    entry = next((e for e in entries if str(e.id) == chosen), None) if chosen else None
    if chosen and entry is None:
        raise InvalidInput(f"time_entry: {chosen} is not one of {patient}'s entries of this or last month that stand")
    values = dict(note.fields)
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k, _label, _req in TEMPLATES[note.activity]}
        try:
            save_note(
                patient=patient, author=request.user, party_id=grant.via_organization_id, program=note.program,
                activity=note.activity, fields=values, note=note, time_entry=entry, sign="sign" in request.POST,
            )  # fmt: skip
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect(f"{reverse('patient_detail', args=[patient.id])}#note-{note.id}")
    fields = [(k, label, req, values.get(k, "")) for k, label, req in TEMPLATES[note.activity]]
    return render(
        request,
        "documentation/note_form.html",
        {"patient": patient, "note": note, "activity": note.activity, "activities": ACTIVITIES, "fields": fields,
         "error": error, "entries": entries, "entry": entry},
        status=422 if error else 200,
    )  # fmt: skip


def documentable_entries(patient) -> list[TimeEntry]:
    """The patient's time entries a note may document: this month's and last month's that stand (not voided),
    newest first, as the patient page lists them — a call late on the 31st is often written up on the 2nd."""
    return [e for _month, _label, entries in time_months(patient) for e in entries if e.voided_at is None]


@login_required
@require_POST
def addendum(request, note_id: int):
    note = Note.objects.filter(id=note_id).first()
    if note is None:
        raise NotFound(NOT_FOUND)
    scope = request_scope(request)
    scope.patient(note.patient_id)
    scope.require(note.practice_id, Function.DOCUMENTATION)
    add_addendum(note=note, author=request.user, text=request.POST.get("text", ""))
    return redirect("patient_detail", patient_id=note.patient_id)


@login_required
def reconcile_medications(request, patient_id: int):
    """Walk the active medication list with the patient; the result is a new reconciled list version, a draft
    note of the month and a task per discrepancy (`documentation.reconcile`)."""
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, Function.DOCUMENTATION)
    meds = list_to_reconcile(patient)
    error, given = None, request.POST
    if request.method == "POST":
        answers = [Answer(m.id, given.get(f"answer-{m.id}", ""), given.get(f"detail-{m.id}", "")) for m in meds]
        for k in range(NEW_ROWS):
            name = given.get(f"new-{k}", "").strip()
            if name:
                answers.append(Answer(None, "new", given.get(f"new-detail-{k}", ""), name))
        try:
            version = reconcile(
                patient=patient,
                by=request.user,
                answers=answers,
                source=given.get("source", ""),
                adherence=given.get("adherence", ""),
                party_id=grant.via_organization_id,
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect(f"{reverse('patient_detail', args=[patient.id])}?reconciled={version.number}#clinical")
    rows = [
        {"m": m, "answer": given.get(f"answer-{m.id}", "taking"), "detail": given.get(f"detail-{m.id}", "")}
        for m in meds
    ]
    return render(
        request,
        "documentation/reconcile.html",
        {
            "patient": patient,
            "rows": rows,
            "answers": ReconciledItem.ANSWERS,
            "new_rows": [(k, given.get(f"new-{k}", ""), given.get(f"new-detail-{k}", "")) for k in range(NEW_ROWS)],
            "source": given.get("source", ""),
            "adherence": given.get("adherence", ""),
            "error": error,
            "history": Reconciliation.objects.filter(patient=patient).prefetch_related("items")[:6],
        },
        status=422 if error else 200,
    )


NEW_ROWS = 3  # rows for medications new to the list, per submission


@login_required
def assessment(request, patient_id: int, instrument: str):
    """Give a standard assessment (PHQ-2, PHQ-9, GAD-7, STEADI, AHC social needs) with the patient; the result goes
    on the patient's record with a draft note (`documentation.assess`)."""
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, Function.DOCUMENTATION)
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise NotFound(NOT_FOUND)
    error = None
    if request.method == "POST":
        try:
            record_assessment(
                patient=patient,
                by=request.user,
                instrument=instrument,
                answers={
                    i.link_id: request.POST.getlist(i.link_id) if i.multiple else request.POST.get(i.link_id)
                    for i in spec.items
                },
                party_id=grant.via_organization_id,
            )
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect(f"{reverse('patient_detail', args=[patient.id])}#assessments")
    items = [
        {
            "n": n,
            "item": item,
            "answers": spec.answers_of(item),
            "chosen": set(request.POST.getlist(item.link_id)),
            "heading": item.domain if item.domain and (n == 1 or item.domain != spec.items[n - 2].domain) else "",
        }
        for n, item in enumerate(spec.items, start=1)
    ]
    return render(
        request,
        "documentation/assessment.html",
        {"patient": patient, "spec": spec, "items": items, "error": error},
        status=422 if error else 200,
    )
