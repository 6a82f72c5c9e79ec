"""The practice's EHR connection over the API (issue 34): read and change it, a new key pair, the connection test,
the outbox with resend, a sync in now — for the practice's program owner, as Settings → EHR connection; audited."""

from __future__ import annotations

from ninja import Router, Schema
from ninja.responses import Status

from ccmops.administration.staff import lead_organizations
from ccmops.ehr.deliver import resend
from ccmops.ehr.models import SyncRun
from ccmops.ehr.services import connection_of, new_key, save_connection, test_connection
from ccmops.errors import NOT_FOUND, NotFound, PermissionDenied
from ccmops.jobs import service as jobs
from ccmops.outbox.models import Outgoing
from ccmops.outbox.services import start_after_commit
from ccmops.patients.scope import request_scope

router = Router(tags=["EHR connection"])


class ConnectionIn(Schema):
    base_url: str
    client_id: str
    token_url: str = ""
    scopes: str = ""
    group_id: str = ""
    algorithm: str = "ES384"
    note_type: str = "11506-3"
    write_back: bool = False
    send_pdf: bool = False
    sends: list[str] | None = None  # the kinds of document the EHR takes (unchanged when absent)
    structured: list[str] | None = None  # also sent as their own resource: care_plan, consent (unchanged when absent)
    sync_mode: str = ""  # bulk | search (unchanged when empty)


def _led_practice(request, practice_id: int):
    practice = request_scope(request).practice(practice_id)
    if practice.id not in {o.id for o in lead_organizations(request.user)}:
        raise PermissionDenied("The EHR connection is the practice's program owner's to set.")
    return practice


def _json(c) -> dict:
    return {
        "base_url": c.base_url, "client_id": c.client_id, "token_url": c.token_url, "scopes": c.scopes,
        "group_id": c.group_id, "algorithm": c.algorithm, "note_type": c.note_type, "write_back": c.write_back,
        "send_pdf": c.send_pdf, "key_id": c.key_id or None, "jwks_path": f"/ehr/{c.practice_id}/jwks.json",
        "sends": c.sends, "structured": c.structured, "sync_mode": c.sync_mode, "last_test_at": c.last_test_at,
        "last_test": c.last_test or None,
    }  # fmt: skip


@router.get("/practices/{practice_id}/ehr", response={200: dict, 403: dict, 404: dict})
def get_connection(request, practice_id: int):
    return _json(connection_of(_led_practice(request, practice_id)))


@router.put("/practices/{practice_id}/ehr", response={200: dict, 403: dict, 404: dict, 422: dict})
def put_connection(request, practice_id: int, payload: ConnectionIn):
    practice = _led_practice(request, practice_id)
    values = payload.dict()
    for optional in ("sends", "structured"):
        if values[optional] is None:
            del values[optional]
    return _json(save_connection(practice=practice, by=request.user, values=values))


@router.post("/practices/{practice_id}/ehr/key", response={200: dict, 403: dict, 404: dict})
def post_key(request, practice_id: int):
    return _json(new_key(practice=_led_practice(request, practice_id), by=request.user))


@router.post("/practices/{practice_id}/ehr/test", response={200: dict, 403: dict, 404: dict})
def post_test(request, practice_id: int):
    result = test_connection(practice=_led_practice(request, practice_id), by=request.user)
    return {"ok": result["ok"], "lines": [{"ok": ok, "text": text} for ok, text in result["lines"]]}


@router.get("/practices/{practice_id}/ehr/outbox", response={200: dict, 403: dict, 404: dict})
def get_outbox(request, practice_id: int, status: str = ""):
    practice = _led_practice(request, practice_id)
    rows = Outgoing.objects.filter(practice=practice).order_by("-created_at")
    rows = rows.filter(status=status) if status else rows
    return {
        "counts": {k: Outgoing.objects.filter(practice=practice, status=k).count() for k, _ in Outgoing.STATUSES},
        "items": [{"id": o.id, "kind": o.kind, "object_id": o.object_id, "patient_id": o.patient_id,
                   "status": o.status, "attempts": o.attempts, "next_attempt_at": o.next_attempt_at,
                   "last_error": o.last_error or None, "sent_at": o.sent_at, "in_ehr_as": o.location or None}
                  for o in rows[:200]],
        "syncs": [{"started_at": r.started_at, "since": r.since, "status": r.status, "files": r.files,
                   "error": r.error or None} for r in SyncRun.objects.filter(practice=practice)[:10]],
    }  # fmt: skip


@router.post("/outbox/{item_id}/resend", response={200: dict, 403: dict, 404: dict, 409: dict})
def post_resend(request, item_id: int):
    row = Outgoing.objects.filter(id=item_id).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    practice = _led_practice(request, row.practice_id)
    row = resend(row=row, by=request.user)
    start_after_commit(practice.id)
    return {"id": row.id, "status": row.status}


@router.post("/practices/{practice_id}/ehr/sync", response={202: dict, 403: dict, 404: dict})
def post_sync(request, practice_id: int):
    practice = _led_practice(request, practice_id)
    connection_of(practice)
    job = jobs.start("ehr-sync", label="Sync in from the EHR", practice=practice, by=request.user,
                     params={"practice_id": practice.id}, key=f"ehr-sync:{practice.id}")  # fmt: skip
    return Status(202, {"job": str(job.id)})
