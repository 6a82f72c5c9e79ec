"""The care team's side of the patient page (issue 36): send the patient a link to their page, a consent to give
electronically or a check-in; read and answer their messages; see every text and email with its delivery status
and the channels the patient stopped. And Twilio's callbacks: delivery status and inbound texts, each verified by
its signature with the practice's auth token."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ccmops.access.operating_model import Function
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import ConfigurationError, Conflict, InvalidInput
from ccmops.organizations.models import Organization
from ccmops.outbox.secrets import unseal
from ccmops.patients.models import Patient
from ccmops.patients.scope import practice_for
from ccmops.patients.views import patient_for_any
from ccmops.portal.checkins import send_checkin
from ccmops.portal.models import CheckIn, Delivery, Message, MessagingSettings, OptOut, PatientLink, UnmatchedText
from ccmops.portal.services import inbound_text, mark_read, message_to_patient, place_text, send_link

FUNCTIONS = (Function.MONTHLY_OUTREACH, Function.CARE_COORDINATION, Function.ENROLLMENT_CONSENT,
             Function.DOCUMENTATION)  # fmt: skip


def _base(request) -> str:
    return request.build_absolute_uri("/")


@login_required
def reach(request, patient_id: int):
    """The patient's page as the care team runs it: links, consent, check-ins, messages, deliveries."""
    patient = patient_for_any(request, patient_id, FUNCTIONS)
    if request.method == "POST":
        action, notice, error = request.POST.get("action", ""), "", ""
        try:
            if action == "link":
                link = send_link(patient=patient, by=request.user, base_url=_base(request),
                                 channel=request.POST.get("channel", ""))  # fmt: skip
                notice = f"A link to the patient page went by {link.get_channel_display().lower()}."
            elif action == "consent":
                link = send_link(
                    patient=patient,
                    by=request.user,
                    base_url=_base(request),
                    purpose="consent",
                    channel=request.POST.get("channel", ""),
                    program=request.POST.get("program", "ccm"),
                )
                notice = f"The consent went by {link.get_channel_display().lower()}: the patient reads and answers it."
            elif action == "checkin":
                send_checkin(patient=patient, by=request.user, kinds=request.POST.getlist("kinds"),
                             base_url=_base(request), channel=request.POST.get("channel", ""))  # fmt: skip
                notice = "The check-in was sent."
            elif action == "message":
                message_to_patient(patient=patient, by=request.user, body=request.POST.get("body", ""),
                                   base_url=_base(request))  # fmt: skip
                notice = "Sent: the patient is told a message waits (the message itself stays on their page)."
            else:
                raise InvalidInput("action: unknown")
        except (InvalidInput, Conflict) as exc:
            error = str(exc)
        query = urlencode({"notice": notice} if notice else {"error": error})
        return redirect(f"/patients/{patient.id}/reach/?{query}")
    read = mark_read(patient=patient, by=request.user)
    record_audit(action=AuditAction.READ, user=request.user, patient=patient, object_type="Message",
                 detail={"page": "patient page and messages", "marked_read": read})  # fmt: skip
    return render(request, "portal/reach.html", {
        "patient": patient,
        "messages": Message.objects.filter(patient=patient).select_related("author").order_by("-created_at")[:50],
        "deliveries": Delivery.objects.filter(patient=patient).order_by("-created_at")[:30],
        "links": PatientLink.objects.filter(patient=patient).select_related("sent_by").order_by("-created_at")[:10],
        "checkins": CheckIn.objects.filter(patient=patient).select_related("sent_by").order_by("-sent_at")[:10],
        "opt_outs": OptOut.objects.filter(patient=patient), "kinds": CheckIn.KINDS,
        "notice": request.GET.get("notice", ""), "error": request.GET.get("error", ""),
    })  # fmt: skip


def _twilio_ok(request, practice_id: int) -> bool:
    """Whether the request carries Twilio's signature for this practice's auth token (tenant-scoped: another
    practice's token does not open it)."""
    from twilio.request_validator import RequestValidator  # twilio loads only where a hook or a send needs it

    config = MessagingSettings.objects.filter(practice_id=practice_id, sms_provider="twilio").first()
    signature = request.headers.get("X-Twilio-Signature", "")
    if config is None or not config.twilio_auth_token or not signature:
        return False
    try:
        token = unseal(config.twilio_auth_token, "the Twilio auth token cannot be read")
    except ConfigurationError:
        return False
    return RequestValidator(token).validate(request.build_absolute_uri(), request.POST.dict(), signature)


STATUS = {"queued": "queued", "accepted": "queued", "sending": "sent", "sent": "sent", "delivered": "delivered",
          "undelivered": "failed", "failed": "failed", "read": "delivered"}  # fmt: skip


@csrf_exempt
@require_POST
def twilio_status(request, practice_id: int):
    """Twilio's status callback: the delivery's status (and the error code of a failure) from the provider."""
    if not _twilio_ok(request, practice_id):
        return HttpResponseForbidden("signature not valid")
    row = Delivery.objects.filter(practice_id=practice_id, provider_id=request.POST.get("MessageSid", "")).first()
    status = STATUS.get(request.POST.get("MessageStatus", ""), "")
    if row is not None and status and not (row.status == "delivered" and status != "failed"):
        code = request.POST.get("ErrorCode", "")
        row.status, row.updated_at = status, timezone.now()
        row.reason = f"Twilio error {code}" if status == "failed" and code else row.reason
        row.save(update_fields=["status", "reason", "updated_at"])
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request, practice_id: int):
    """A text from a patient to the practice's number: STOP stops texts, START resumes, anything else is a message
    to the care team. Answered with empty TwiML (ccmops replies through the patient page, not by text)."""
    if not _twilio_ok(request, practice_id):
        return HttpResponseForbidden("signature not valid")
    practice = Organization.objects.get(pk=practice_id)
    inbound_text(practice=practice, phone=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml")


@login_required
def unmatched_texts(request, practice_id: int):
    """Texts to the practice's number from a number no patient has (or several share): the care team places each on
    a patient's thread — one of those sharing the number, or the patient with the MRN given — or sets it aside."""
    practice = practice_for(request, practice_id, Function.CARE_COORDINATION)
    error = ""
    if request.method == "POST":
        text = UnmatchedText.objects.filter(pk=request.POST.get("text") or 0, practice=practice).first()
        try:
            if text is None:
                raise InvalidInput("text: not one of the practice's texts")
            patient = None
            if request.POST.get("action") != "aside":
                chosen = request.POST.get("patient") or ""
                mrn = request.POST.get("mrn", "").strip()
                found = Patient.objects.filter(practice=practice)
                if chosen.isdigit():
                    patient = found.filter(pk=int(chosen)).first()
                elif mrn:
                    patient = found.filter(mrn=mrn).first()
                if patient is None:
                    raise InvalidInput("patient: choose one of the patients, or give the MRN of the patient who wrote")
            place_text(text=text, patient=patient, by=request.user)
            return redirect(f"/practices/{practice.id}/texts/")
        except (InvalidInput, Conflict) as exc:
            error = str(exc)
    waiting = list(UnmatchedText.objects.filter(practice=practice, handled_at__isnull=True)[:100])
    names = {p.id: p for p in Patient.objects.filter(pk__in={c for t in waiting for c in t.candidates})}
    for t in waiting:
        t.sharing = [names[c] for c in t.candidates if c in names]
    return render(request, "portal/texts.html", {"practice": practice, "waiting": waiting, "error": error},
                  status=422 if error else 200)  # fmt: skip
