"""Monthly execution API: timers, time entries, notes, monthly calls, transitions, tasks, the worklist."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import File, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from ccmops.access.operating_model import Function
from ccmops.documentation.models import Note
from ccmops.documentation.services import add_addendum, save_note
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound
from ccmops.patients.scope import request_scope
from ccmops.timetracking.entries import add_manual_entry, open_timer, restore_entry, void_entry
from ccmops.timetracking.models import TimeEntry, Timer
from ccmops.timetracking.services import (
    discard_timer,
    elapsed_seconds,
    heartbeat,
    pause_timer,
    resolve_idle,
    resume_timer,
    short_stop_notice,
    start_timer,
    stop_timer,
)
from ccmops.timetracking.views import voidable
from ccmops.worklist.adt import import_adt
from ccmops.worklist.models import FollowUpTask
from ccmops.worklist.queries import worklist
from ccmops.worklist.services import complete_task, log_monthly_attempt, record_transition

router = Router(tags=["monthly execution"])


class StartIn(Schema):
    program: str = "ccm"
    activity: str = "care_coordination_call"


class BeatIn(Schema):
    active: bool = True


class StopIn(Schema):
    note: str = ""


class IdleIn(Schema):
    keep: bool


class ManualIn(Schema):
    program: str = "ccm"
    activity: str
    start: dt.datetime
    minutes: int
    reason: str
    note: str = ""


class VoidIn(Schema):
    reason: str


class NoteIn(Schema):
    program: str = "ccm"
    activity: str
    fields: dict[str, str]
    sign: bool = False
    time_entry_id: int | None = None  # the patient's time entry the note documents (the note joins its month)


class AddendumIn(Schema):
    text: str


class CallIn(Schema):
    program: str = "ccm"
    channel: str = "phone"
    outcome: str
    note: str = ""


class TransitionIn(Schema):
    kind: str
    occurred_at: dt.datetime
    facility: str = ""


def timer_json(timer: Timer | None) -> dict:
    if timer is None:
        return {"timer": None}
    return {
        "timer": {
            "id": timer.id,
            "patient_id": timer.patient_id,
            "patient": str(timer.patient),
            "program": timer.program,
            "activity": timer.activity,
            "state": timer.state,
            "elapsed_seconds": elapsed_seconds(timer),
            "idle": (
                {
                    "since": timer.idle_since,
                    "until": timer.idle_until,
                    "minutes": int((timer.idle_until - timer.idle_since).total_seconds() // 60),
                }
                if timer.idle_since
                else None
            ),
            "version": timer.version,
            "server_time": timezone.now(),
        }
    }


def entry_json(e: TimeEntry) -> dict:
    return {
        "id": e.id,
        "patient_id": e.patient_id,
        "staff": e.staff.get_username(),
        "staff_role": e.staff_role,
        "credential": e.credential,
        "employer_id": e.employer_id,
        "program": e.program,
        "activity": e.activity,
        "start": e.start,
        "end": e.end,
        "seconds": e.seconds,
        "minutes": e.minutes,
        "source": e.source,
        "late": e.source == "manual",
        "lag_seconds": e.lag_seconds,
        "late_reason": e.late_reason,
        "note": e.note,
        "overlaps_with": e.overlaps_with,
        "voided_at": e.voided_at,
        "voided_by": e.voided_by.get_username() if e.voided_by_id else None,
        "void_reason": e.void_reason,
        "restored_from": e.restored_from_id,
        "restored_by": e.restored_by.get_username() if e.restored_by_id else None,
        "restore_reason": e.restore_reason,
    }


def _patient(request, patient_id: int, function: Function):
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, function)
    return patient, grant


def _timer(request, timer_id: int) -> Timer:
    """A reference to the caller's timer: each timer operation locks and checks it (no timer of the caller's
    with that id: 404) in its own transaction, so no separate read is needed first."""
    return Timer(pk=timer_id, staff_id=request.user.id)


@router.get("/timer", response=dict)
def current_timer(request):
    """The signed-in user's open timer (every tab shows the same one)."""
    return timer_json(open_timer(request.user))


@router.post("/patients/{patient_id}/timer/start", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_start(request, patient_id: int, payload: StartIn):
    patient, _ = _patient(request, patient_id, Function.TIME_TRACKING)
    return timer_json(
        start_timer(patient=patient, staff=request.user, program=payload.program, activity=payload.activity)
    )


@router.post("/timer/{timer_id}/heartbeat", response={200: dict, 404: dict, 409: dict})
def post_heartbeat(request, timer_id: int, payload: BeatIn):
    return timer_json(heartbeat(timer=_timer(request, timer_id), staff=request.user, active=payload.active))


@router.post("/timer/{timer_id}/pause", response={200: dict, 404: dict, 409: dict})
def post_pause(request, timer_id: int):
    return timer_json(pause_timer(timer=_timer(request, timer_id), staff=request.user))


@router.post("/timer/{timer_id}/resume", response={200: dict, 404: dict, 409: dict})
def post_resume(request, timer_id: int):
    return timer_json(resume_timer(timer=_timer(request, timer_id), staff=request.user))


@router.post("/timer/{timer_id}/idle", response={200: dict, 404: dict, 409: dict})
def post_idle(request, timer_id: int, payload: IdleIn):
    return timer_json(resolve_idle(timer=_timer(request, timer_id), staff=request.user, keep=payload.keep))


@router.post("/timer/{timer_id}/stop", response={200: dict, 404: dict, 409: dict})
def post_stop(request, timer_id: int, payload: StopIn):
    timer = _timer(request, timer_id)
    entry = stop_timer(timer=timer, staff=request.user, note=payload.note)
    if entry is None:  # under a minute: nothing recorded, and the page says why
        stopped = Timer.objects.select_related("practice").get(pk=timer.pk)
        return {"timer": None, "entry": None, "notice": short_stop_notice(elapsed_seconds(stopped))}
    return {"timer": None, "entry": entry_json(entry)}


@router.post("/timer/{timer_id}/discard", response={200: dict, 404: dict, 409: dict})
def post_discard(request, timer_id: int):
    discard_timer(timer=_timer(request, timer_id), staff=request.user)
    return {"timer": None}


@router.post("/patients/{patient_id}/time-entries", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_manual(request, patient_id: int, payload: ManualIn):
    patient, _ = _patient(request, patient_id, Function.TIME_TRACKING)
    entry = add_manual_entry(patient=patient, staff=request.user, **payload.dict())
    return Status(201, entry_json(entry))


@router.get("/patients/{patient_id}/time-entries", response=list[dict])
def list_entries(request, patient_id: int):
    """The patient's entries, newest first, voided ones included (with who voided them, when and why)."""
    patient = request_scope(request).patient(patient_id)
    entries = TimeEntry.objects.filter(patient=patient).select_related("staff", "voided_by", "restored_by")[:500]
    return [entry_json(e) for e in entries]


@router.post("/time-entries/{entry_id}/void", response={200: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_void(request, entry_id: int, payload: VoidIn):
    """Void a mistaken entry (kept on record, counted nowhere): the staff member's own, or anyone's by billing
    staff. An entry of a closed month goes to its adjustment queue."""
    entry, as_billing = voidable(request, entry_id)
    return entry_json(void_entry(entry=entry, by=request.user, reason=payload.reason, as_billing=as_billing))


@router.post("/time-entries/{entry_id}/restore", response={201: dict, 403: dict, 404: dict, 409: dict, 422: dict})
def post_restore(request, entry_id: int, payload: VoidIn):
    """Undo a void made by mistake: a new entry with the voided one's segments, source and time of record, linked
    to it (`restored_from`); the voided entry stays on record. Same permissions as voiding."""
    entry, as_billing = voidable(request, entry_id)
    restored = restore_entry(entry=entry, by=request.user, reason=payload.reason, as_billing=as_billing)
    return Status(201, entry_json(restored))


@router.post("/patients/{patient_id}/notes", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_note(request, patient_id: int, payload: NoteIn):
    patient, grant = _patient(request, patient_id, Function.DOCUMENTATION)
    data = payload.dict()
    entry_id = data.pop("time_entry_id")
    entry = None
    if entry_id is not None:
        entry = TimeEntry.objects.filter(id=entry_id, patient=patient, voided_at__isnull=True).first()
        if entry is None:
            raise InvalidInput(f"time_entry_id: {entry_id} is not a time entry of this patient (or it was voided)")
    note = save_note(patient=patient, author=request.user, party_id=grant.via_organization_id, time_entry=entry, **data)
    return Status(
        201,
        {
            "id": note.id,
            "signed": bool(note.signed_at),
            "completeness": note.completeness,
            "time_entry_id": note.time_entry_id,
            "month": note.month,
        },
    )


@router.post("/notes/{note_id}/addenda", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_addendum(request, note_id: int, payload: AddendumIn):
    note = Note.objects.filter(id=note_id).first()
    if note is None:
        raise NotFound(NOT_FOUND)
    _patient(request, note.patient_id, Function.DOCUMENTATION)
    a = add_addendum(note=note, author=request.user, text=payload.text)
    return Status(201, {"id": a.id, "note_id": note.id})


@router.post("/patients/{patient_id}/calls", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_call(request, patient_id: int, payload: CallIn):
    patient, grant = _patient(request, patient_id, Function.MONTHLY_OUTREACH)
    attempt, nxt = log_monthly_attempt(
        patient=patient, by=request.user, party_id=grant.via_organization_id, **payload.dict()
    )
    return Status(
        201,
        {
            "attempt_id": attempt.id,
            "next_call": nxt.due_at if nxt else None,
            "next_call_reason": nxt.reason if nxt else None,
        },
    )


@router.post("/patients/{patient_id}/transitions", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_transition(request, patient_id: int, payload: TransitionIn):
    patient, _ = _patient(request, patient_id, Function.CARE_COORDINATION)
    t = record_transition(patient=patient, by=request.user, **payload.dict())
    return Status(
        201, {"id": t.id, "tasks": [{"id": x.id, "title": x.title, "due_on": x.due_on} for x in t.tasks.all()]}
    )


@router.post("/practices/{practice_id}/adt", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_adt(request, practice_id: int, file: UploadedFile = File(...)):  # noqa: B008
    """Import an HL7 v2 ADT file (A01, A03, A04); all or nothing."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require(practice.id, Function.CARE_COORDINATION)
    n = import_adt(
        practice=practice, text=file.read().decode("utf-8", "replace"), file_label=file.name, by=request.user
    )
    return Status(201, {"transitions": n})


@router.post("/tasks/{task_id}/done", response={200: dict, 403: dict, 404: dict, 409: dict})
def post_task_done(request, task_id: int):
    task = FollowUpTask.objects.filter(id=task_id).first()
    if task is None:
        raise NotFound(NOT_FOUND)
    _patient(request, task.patient_id, Function.CARE_COORDINATION)
    complete_task(task=task, by=request.user)
    return {"id": task.id, "status": "done"}


@router.get("/worklist", response=list[dict])
def get_worklist(
    request,
    team: bool = False,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=100_000_000),
):
    """The caller's worklist (or the team's), most urgent first, a page at a time."""
    rows = worklist(
        request_scope(request), request.user, on=timezone.localdate(), mine=not team, limit=limit, offset=offset
    )
    return [
        {
            "patient_id": r.enrollment.patient_id,
            "patient": str(r.enrollment.patient),
            "program": r.enrollment.program,
            "care_manager": str(r.enrollment.patient.care_manager or ""),
            "minutes": r.standing.minutes,
            "next_threshold": r.standing.next_threshold,
            "next_code": r.standing.next_code,
            "days_left": r.standing.days_left,
            "last_contact": r.last_contact,
            "next_call": r.next_call.due_at if r.next_call else None,
            "reasons": r.reasons,
            "score": round(r.score, 2),
        }
        for r in rows
    ]
