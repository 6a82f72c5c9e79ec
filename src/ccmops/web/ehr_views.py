"""The practice's EHR connection (issue 34): its settings with the key pair and the connection test (Settings →
EHR connection, for the practice's program owner), the JWKS ccmops publishes for the EHR to fetch, and the
integration health page (what was delivered, what waits, what needs a person)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.access.policy import PROGRAM_LEADS
from ccmops.administration.staff import led_organization
from ccmops.ehr import keys
from ccmops.ehr.deliver import resend
from ccmops.ehr.documents import NOTE_TYPES
from ccmops.ehr.models import SyncRun
from ccmops.ehr.services import FIELDS, STRUCTURED, new_key, save_connection, test_connection
from ccmops.errors import NOT_FOUND, Conflict, InvalidInput, NotFound
from ccmops.jobs import service as jobs
from ccmops.organizations.models import Organization
from ccmops.outbox.models import EhrConnection, Outgoing
from ccmops.outbox.services import start_after_commit
from ccmops.patients.scope import request_scope


def _practice(request) -> Organization:
    org = led_organization(request.user, request.POST.get("org") or request.GET.get("org", ""))
    if org.kind != "practice":
        raise InvalidInput("org: an EHR connection belongs to a practice; choose one you lead")
    return org


@login_required
def ehr_settings(request):
    practice = _practice(request)
    connection = EhrConnection.objects.filter(practice=practice).first()
    error = notice = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                values = {f: request.POST.get(f, "") for f in (*FIELDS, "note_type", "algorithm", "sync_mode")}
                values |= {"write_back": request.POST.get("write_back") == "on",
                           "send_pdf": request.POST.get("send_pdf") == "on"}  # fmt: skip
                if "sends_shown" in request.POST:  # the form's checkboxes: none ticked is a choice too
                    values["sends"] = request.POST.getlist("sends")
                    values["structured"] = request.POST.getlist("structured")
                connection = save_connection(practice=practice, by=request.user, values=values)
                notice = "Saved."
            elif action == "generate_key":
                connection = new_key(practice=practice, by=request.user)
                notice = (
                    f"A new key pair ({connection.algorithm}, key id {connection.key_id}): the EHR fetches its public "
                    "key from the JWKS URL."
                )
            elif action == "test":
                result = test_connection(practice=practice, by=request.user)
                connection.refresh_from_db()
                notice = "The connection works." if result["ok"] else "The connection test found problems (below)."
        except (InvalidInput, Conflict, NotFound) as exc:
            error = str(exc)
    return render(
        request,
        "ehr/settings.html",
        {"practice": practice, "c": connection, "error": error, "notice": notice, "note_types": NOTE_TYPES,
         "kinds": [(key, label, connection is None or key in connection.sends) for key, label in Outgoing.KINDS],
         "structured": [(key, label, connection is not None and key in connection.structured)
                        for key, label in STRUCTURED.items()],
         "values": {f: getattr(connection, f) if connection else "" for f in FIELDS}
         | ({} if connection else {"scopes": EhrConnection._meta.get_field("scopes").default}),
         "algorithms": keys.ALGORITHMS,
         "jwks_url": request.build_absolute_uri(reverse("ehr_jwks", args=[practice.id]))},
        status=422 if error else 200,
    )  # fmt: skip


def ehr_jwks(request, practice_id: int):
    """The public key the EHR verifies ccmops's signed assertions with (public by nature: no sign-in)."""
    connection = EhrConnection.objects.filter(practice_id=practice_id).first()
    if connection is None or not connection.public_jwk:
        raise NotFound(NOT_FOUND)
    response = JsonResponse(keys.jwks(connection.public_jwk))
    response["Cache-Control"] = "max-age=300"
    return response


def _health_practice(request, practice_id: int):
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, PROGRAM_LEADS, "Integration health")
    return practice


@login_required
def integration_health(request, practice_id: int):
    practice = _health_practice(request, practice_id)
    rows = Outgoing.objects.filter(practice=practice).select_related("patient")
    counts = {key: rows.filter(status=key).count() for key, _ in Outgoing.STATUSES}
    return render(
        request,
        "ehr/health.html",
        {"practice": practice, "c": EhrConnection.objects.filter(practice=practice).first(), "counts": counts,
         "parked": rows.filter(status="parked").order_by("-created_at")[:100],
         "waiting": rows.filter(status="queued").order_by("next_attempt_at")[:100],
         "recent": rows.filter(status="sent").order_by("-sent_at")[:30], "statuses": dict(Outgoing.STATUSES),
         "syncs": SyncRun.objects.filter(practice=practice).select_related("import_run")[:10]},
    )  # fmt: skip


@login_required
@require_POST
def integration_action(request, practice_id: int):
    practice = _health_practice(request, practice_id)
    if request.POST.get("action") == "sync":
        jobs.start("ehr-sync", label="Sync in from the EHR", practice=practice, by=request.user,
                   params={"practice_id": practice.id}, key=f"ehr-sync:{practice.id}")  # fmt: skip
        return redirect("integration_health", practice_id=practice.id)
    if request.POST.get("action") == "resend":
        row = Outgoing.objects.filter(practice=practice, id=request.POST.get("row") or 0).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        resend(row=row, by=request.user)
    start_after_commit(practice.id)
    return redirect("integration_health", practice_id=practice.id)
