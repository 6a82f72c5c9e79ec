"""The patient page (issue 36), for the patient, not the staff: reached from a link sent by text or email, entered
with a one-time code sent to the phone or address on record and the date of birth. The session holds one patient,
lasts fifteen minutes from the last page, and is separate from staff sign-in: a patient signed in here is nobody on
the staff pages. Every page read is audited."""

from __future__ import annotations

import datetime as dt
import functools
import time
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ccmops.careplans.models import CarePlanVersion
from ccmops.careplans.services import record_share
from ccmops.clinical.instruments import INSTRUMENTS
from ccmops.clinical.instruments_es import SPANISH
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Consent
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.patients.models import Patient
from ccmops.portal.checkins import READING_CODES, answer_checkin
from ccmops.portal.models import CheckIn, Message, PatientLink
from ccmops.portal.services import (
    consent_electronically,
    consent_text,
    language_of,
    link_for,
    mark_read,
    message_from_patient,
    send_code,
    settings_of,
    stop_ccm,
    verify,
    zone_of,
)
from ccmops.worklist.models import ScheduledContact

SESSION = "ccmops_patient"
IDLE_SECONDS = 15 * 60


def _signed_in(request, token: str):
    """(link, patient) of the session when it was opened with this link and is still fresh, else None."""
    held = request.session.get(SESSION)
    if not held or held.get("until", 0) < time.time():
        request.session.pop(SESSION, None)
        return None
    link = link_for(token)
    if held.get("link") != link.id:
        return None
    held["until"] = time.time() + IDLE_SECONDS
    request.session[SESSION] = held
    return link, Patient.objects.select_related("practice", "care_manager").get(pk=held["patient"])


def _page(request, template: str, context: dict, status: int = 200):
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the token in the address goes to no other site
    return response


def in_their_language(view):
    """Run the view in the link's patient's language and time zone (restored after: nothing leaks to the next
    request the thread serves)."""

    @functools.wraps(view)
    def wrapped(request, token: str):
        try:
            patient = link_for(token).patient
        except NotFound:
            return view(request, token)
        with translation.override(language_of(patient)), timezone.override(zone_of(patient)):
            response = view(request, token)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response

    return wrapped


@in_their_language
def entry(request, token: str):
    """The link: the sign-in (send a code; enter it with the date of birth), then the patient's page."""
    try:
        link = link_for(token)
    except NotFound as exc:
        return _page(request, "portal/portal_gone.html", {"why": str(exc)}, status=404)
    held = _signed_in(request, token)
    if held is not None:
        return home(request, token, *held)
    error = sent_to = None
    if request.method == "POST" and request.POST.get("action") == "send":
        try:
            sent_to = send_code(link)
        except (Conflict, InvalidInput) as exc:
            error = str(exc)
    elif request.method == "POST":
        try:
            born = dt.date.fromisoformat(request.POST.get("birth_date", ""))
        except ValueError:
            born = None
        if verify(link, request.POST.get("code", ""), born):
            request.session.cycle_key()
            request.session[SESSION] = {"patient": link.patient_id, "link": link.id,
                                        "until": time.time() + IDLE_SECONDS}  # fmt: skip
            return redirect(f"/p/{token}/")
        link.refresh_from_db()
        if link.locked_at:
            return _page(request, "portal/portal_gone.html",
                         {"why": _("Too many wrong tries: this link is locked. Ask your care team for a new one.")},
                         status=403)  # fmt: skip
        error, sent_to = _("That code or date of birth is not right. Check both and try again."), "you"
    return _page(request, "portal/portal_signin.html",
                 {"practice": link.patient.practice, "sent_to": sent_to, "error": error, "token": token},
                 status=422 if error else 200)  # fmt: skip


def home(request, token: str, link: PatientLink, patient: Patient, notice: str = "", error: str = ""):
    """The patient's page: care plan, care team, upcoming calls, consent, check-ins, messages."""
    zone, lang = zone_of(patient), language_of(patient)
    version = (CarePlanVersion.objects.filter(care_plan__patient=patient, status="approved")
               .select_related("care_plan", "approved_by").order_by("-approved_at").first())  # fmt: skip
    consents = list(Consent.objects.filter(patient=patient).select_related("practitioner", "revocation")
                    .order_by("-documented_at"))  # fmt: skip
    in_force = [c for c in consents if not hasattr(c, "revocation")]
    checkins = list(CheckIn.objects.filter(patient=patient, completed_at__isnull=True).select_related("sent_by")
                    .order_by("-sent_at"))  # fmt: skip
    for c in checkins:
        c.forms = [_form(kind, language_of(patient)) for kind in c.kinds if kind not in c.done]
    messages = list(Message.objects.filter(patient=patient).select_related("author").order_by("-created_at")[:30])
    mark_read(patient=patient)
    calls = ScheduledContact.objects.filter(patient=patient, status="scheduled", due_at__gte=timezone.now())[:3]
    record_audit(action=AuditAction.READ, patient=patient, obj=link, username="patient",
                 detail={"page": "patient page"})  # fmt: skip
    if version is not None and not version.shares.filter(method="portal").exists():
        # the patient has the plan in hand: the copy is recorded as given (R-PLAN-3), by the link's sender
        record_share(version=version, method="portal", by=link.sent_by, recipient="patient, on the patient page")
    wants_consent = (link.purpose == "consent" or not consents) and not in_force
    return _page(request, "portal/portal_home.html", {
        "token": token, "patient": patient, "practice": patient.practice, "team": settings_of(patient.practice),
        "version": version, "content": version.content if version else {}, "in_force": in_force,
        "consents": consents, "checkins": checkins, "messages": messages, "calls": calls, "zone": zone,
        "consent_text": consent_text(patient, link.program or "ccm").rendered(patient.billing_practitioner)
        if wants_consent else "", "notice": notice or request.GET.get("notice", ""), "error": error,
        "today": timezone.localdate(timezone=zone), "plan_in_english": version is not None and lang == "es",
        "long_date": "j \\d\\e F \\d\\e Y" if lang == "es" else "F j, Y",
        "short_date": "j M" if lang == "es" else "M j",
    })  # fmt: skip


TITLES = {"bp": gettext_lazy("Your blood pressure today"), "glucose": gettext_lazy("Your blood sugar today"),
          "weight": gettext_lazy("Your weight today")}  # fmt: skip
FIELD_NAMES = {"systolic": gettext_lazy("Systolic (the top number)"),
               "diastolic": gettext_lazy("Diastolic (the bottom number)"),
               "glucose": gettext_lazy("Blood sugar"), "weight": gettext_lazy("Weight")}  # fmt: skip
UNITS = {"mm[Hg]": "mm Hg"}


def _form(kind: str, language: str) -> dict:
    """What the page asks for one part of a check-in: an instrument's questions (in Spanish where the published
    Spanish wording is kept: `clinical.instruments_es`), or a reading's fields."""
    if kind in INSTRUMENTS:
        spec = INSTRUMENTS[kind]
        words = SPANISH.get(kind, {}) if language == "es" else {}
        items = [
            {
                "link_id": i.link_id,
                "text": words.get("items", {}).get(i.link_id, i.text),
                "multiple": i.multiple,
                "answers": [(value, words.get("answers", {}).get(value, display))
                            for value, _code, display in spec.answers_of(i)],
            }
            for i in spec.items
        ]  # fmt: skip
        english_only = language == "es" and not words
        return {"kind": kind, "title": words.get("title", spec.title), "items": items, "fields": [],
                "preamble": words.get("preamble", spec.preamble),
                "note": _("This questionnaire is only in English for now.") if english_only else ""}  # fmt: skip
    fields = [(f, FIELD_NAMES.get(f, display), UNITS.get(unit, unit))
              for f, _code, display, unit, _low, _high in READING_CODES[kind]]  # fmt: skip
    return {"kind": kind, "title": TITLES[kind], "preamble": "", "items": [], "fields": fields, "note": ""}


def _held(request, token: str):
    try:
        held = _signed_in(request, token)
    except NotFound:
        held = None
    return held


@require_POST
@in_their_language
def act(request, token: str):
    """What the patient does on their page: consent (or decline), stop CCM, answer a check-in, send a message."""
    held = _held(request, token)
    if held is None:
        return redirect(f"/p/{token}/")
    link, patient = held
    action, notice, error = request.POST.get("action", ""), "", ""
    try:
        if action == "consent":
            device = f"{request.META.get('HTTP_USER_AGENT', '')[:200]}; {request.META.get('REMOTE_ADDR', '')}"
            agreed = consent_electronically(link=link, typed_name=request.POST.get("name", ""),
                                            agree=request.POST.get("answer") == "agree", device=device)  # fmt: skip
            notice = (_("Thank you: your consent is recorded. You can stop at any time on this page.") if agreed
                      else _("You declined. Your care team has been told; nothing more will happen."))  # fmt: skip
        elif action == "stop":
            if request.POST.get("confirm") != "yes":
                raise InvalidInput(_("Tick the box to confirm you want to stop."))
            stop_ccm(patient=patient, reason=request.POST.get("reason", ""))
            notice = _("Care management stops at the end of this month. Your care team has been told.")
        elif action == "checkin":
            checkin = CheckIn.objects.filter(pk=request.POST.get("checkin") or 0, patient=patient).first()
            if checkin is None:
                raise NotFound(_("That check-in is not yours."))
            kind = request.POST.get("kind", "")
            if kind in INSTRUMENTS:
                spec = INSTRUMENTS[kind]
                answers = {i.link_id: (request.POST.getlist(i.link_id) if i.multiple else request.POST.get(i.link_id))
                           for i in spec.items}  # fmt: skip
                answers = {k: ([int(x) for x in v] if isinstance(v, list) else int(v)) for k, v in answers.items()
                           if v not in (None, "", [])}  # fmt: skip
            else:
                answers = dict(request.POST.items())
            notice = answer_checkin(checkin=checkin, kind=kind, answers=answers)
        elif action == "message":
            message_from_patient(patient=patient, body=request.POST.get("body", ""))
            notice = _("Sent. Your care team will answer here.")
        else:
            raise InvalidInput(_("This page cannot do that."))
    except (InvalidInput, Conflict, NotFound, ValueError) as exc:
        error = str(exc) if not isinstance(exc, ValueError) else _("Choose an answer for every question.")
        return home(request, token, link, patient, error=error)
    return redirect(f"/p/{token}/?{urlencode({'notice': notice})}")


@require_POST
@in_their_language
def sign_out(request, token: str):
    request.session.pop(SESSION, None)
    return _page(request, "portal/portal_gone.html", {"why": _("You are signed out. Close this page.")})
