"""Patients in the loop (issue 36): links to the patient page, one-time codes, messages, electronic consent,
check-ins and stopping care management — each audited, each notice to the patient a tracked `Delivery`.

What a text message or email says is the minimum: who it is from and that something waits, with the link; never a
diagnosis, a result or a message's words. A patient who answered STOP gets no more texts; their notices go by email
when there is an address, else they wait on the page."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.consent_texts import ensure_texts
from ccmops.enrollment.consents import record_consent, revoke_consent
from ccmops.enrollment.models import Consent, ConsentTextVersion, required_elements
from ccmops.enrollment.services import change_status
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.jobs import service as jobs
from ccmops.organizations.engagements import practice_today
from ccmops.outbox.secrets import seal
from ccmops.portal.models import (
    CheckIn,
    Delivery,
    Message,
    MessagingSettings,
    OptOut,
    PatientLink,
    SignInCode,
    UnmatchedText,
)
from ccmops.worklist.services import open_task

LINK_DAYS = 14
CODE_MINUTES = 10
CODES_PER_HOUR = 5
WRONG_CODES_LOCK = 8  # wrong codes (or birth dates) before a link is locked
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}

READINGS = ("bp", "glucose", "weight")


def _hash(value: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()


def settings_of(practice) -> MessagingSettings:
    return MessagingSettings.objects.get_or_create(practice=practice)[0]


def digits(phone: str) -> str:
    """A US phone number as E.164 (+1 and ten digits), or "" when it is not one."""
    d = re.sub(r"\D", "", phone or "")
    d = d[1:] if len(d) == 11 and d.startswith("1") else d
    return f"+1{d}" if len(d) == 10 else ""


def channel_for(patient, wanted: str = "") -> tuple[str, str]:
    """(channel, address) to reach the patient: the wanted one if it works, else text, else email — never one they
    opted out of.

    Raises:
        InvalidInput: no phone or email on record that may be used.
    """
    out = set(OptOut.objects.filter(patient=patient).values_list("channel", flat=True))
    options = []
    if digits(patient.phone) and "sms" not in out:
        options.append(("sms", digits(patient.phone)))
    if patient.email and "email" not in out:
        options.append(("email", patient.email))
    chosen = [o for o in options if o[0] == wanted] or options
    if not chosen:
        raise InvalidInput(
            "channel: the patient has no mobile number or email on record that may be used"
            + (f" (opted out of {', '.join(sorted(out))})" if out else "")
        )
    return chosen[0]


def _notify(patient, *, kind: str, key: str, channel: str, to: str, body: str) -> Delivery:
    """Queue one notice (once per key) and start the sending job after the caller commits."""
    now = timezone.now()
    delivery, _ = Delivery.objects.get_or_create(
        idempotency_key=key,
        defaults={"practice_id": patient.practice_id, "patient": patient, "kind": kind, "channel": channel, "to": to,
                  "body": body, "next_attempt_at": now, "created_at": now, "updated_at": now},
    )  # fmt: skip
    practice_id = patient.practice_id
    transaction.on_commit(lambda: jobs.start("messages-send", label="Messages to patients", practice_id=practice_id,
                                             params={"practice_id": practice_id},
                                             key=f"messages-send:{practice_id}"))  # fmt: skip
    return delivery


def _new_link(patient, *, by, purpose: str, channel: str, checkin=None, program: str = "") -> tuple[PatientLink, str]:
    """A new link of the patient (kept as its token's hash) and its token, good for LINK_DAYS."""
    token, now = secrets.token_urlsafe(24), timezone.now()
    link = PatientLink.objects.create(
        practice_id=patient.practice_id, patient=patient, purpose=purpose, program=program, checkin=checkin,
        token_hash=_hash(token), channel=channel, sent_by=by, created_at=now,
        expires_at=now + dt.timedelta(days=LINK_DAYS),
    )  # fmt: skip
    return link, token


def _url(request_base: str, token: str) -> str:
    return f"{request_base.rstrip('/')}/p/{token}/"


@transaction.atomic
def send_link(*, patient, by, base_url: str, purpose: str = "page", channel: str = "", program: str = "ccm",
              checkin: CheckIn | None = None) -> PatientLink:  # fmt: skip
    """Send the patient a link (to their page, to consent electronically, or to a check-in) by text or email."""
    if purpose not in dict(PatientLink.PURPOSES):
        raise InvalidInput(f"purpose: expected one of {', '.join(dict(PatientLink.PURPOSES))}")
    channel, to = channel_for(patient, channel)
    link, token = _new_link(patient, by=by, purpose=purpose, channel=channel, checkin=checkin,
                            program=program if purpose == "consent" else "")  # fmt: skip
    practice = patient.practice
    with translation.override(language_of(patient)):
        what = {"page": _("your care page"), "consent": _("a consent form to read"),
                "checkin": _("a short check-in")}[purpose]  # fmt: skip
        body = _("%(practice)s: your care team sent you %(what)s. Open %(url)s") % {
            "practice": practice.name,
            "what": what,
            "url": _url(base_url, token),
        }
        if channel == "sms":
            body += " " + _("Reply STOP to stop texts.")
    _notify(patient, kind="link", key=f"link:{link.id}", channel=channel, to=to, body=body)
    record_audit(action=AuditAction.CREATE, user=by, patient=patient, obj=link,
                 detail={"purpose": purpose, "channel": channel})  # fmt: skip
    return link


def link_for(token: str) -> PatientLink:
    """The link of a token, while it may be used.

    Raises:
        NotFound: no such link, or it expired or was locked (said the same way: nothing to probe).
    """
    link = PatientLink.objects.select_related("patient__practice").filter(token_hash=_hash(token)).first()
    if link is None or link.expires_at < timezone.now() or link.locked_at is not None:
        raise NotFound(_("This link has expired or is not valid. Ask your care team for a new one."))
    return link


@transaction.atomic
def send_code(link: PatientLink) -> str:
    """Send a one-time code to the phone or address the link went to (at most five an hour); returns where, masked.

    Raises:
        Conflict: too many codes this hour.
    """
    link = PatientLink.objects.select_for_update().get(pk=link.pk)
    now = timezone.now()
    if link.codes.filter(created_at__gt=now - dt.timedelta(hours=1)).count() >= CODES_PER_HOUR:
        raise Conflict(_("Too many codes were sent in the last hour. Try again later, or call your care team."))
    channel, to = channel_for(link.patient, link.channel)
    code = f"{secrets.randbelow(10**6):06d}"
    sent = SignInCode.objects.create(link=link, code_hash=_hash(f"{link.id}:{code}"), created_at=now,
                                     expires_at=now + dt.timedelta(minutes=CODE_MINUTES))  # fmt: skip
    with translation.override(language_of(link.patient)):
        body = _("%(practice)s: your code is %(code)s. It works for %(minutes)s minutes.") % {
            "practice": link.patient.practice.name,
            "code": code,
            "minutes": CODE_MINUTES,
        }
    _notify(link.patient, kind="code", key=f"code:{sent.id}", channel=channel, to=to, body=body)
    record_audit(action=AuditAction.CREATE, patient=link.patient, obj=sent, username="patient",
                 detail={"link": link.id, "channel": channel})  # fmt: skip
    if channel == "sms":
        return _("the phone ending %(digits)s") % {"digits": to[-4:]}
    return f"{to[:2]}…@{to.partition('@')[2]}"


@transaction.atomic
def verify(link: PatientLink, code: str, birth_date: dt.date | None) -> bool:
    """Whether the code (unused, unexpired, the link's newest) and the birth date are right; each wrong try counts
    against the link, which locks after eight."""
    link = PatientLink.objects.select_for_update().select_related("patient").get(pk=link.pk)
    now = timezone.now()
    newest = link.codes.filter(used_at__isnull=True, expires_at__gt=now).order_by("-created_at").first()
    good = (newest is not None and hmac.compare_digest(newest.code_hash, _hash(f"{link.id}:{code.strip()}"))
            and birth_date == link.patient.birth_date)  # fmt: skip
    if good:
        newest.used_at = now
        newest.save(update_fields=["used_at"])
    else:
        link.failed_codes += 1
        if link.failed_codes >= WRONG_CODES_LOCK:
            link.locked_at = now
        link.save(update_fields=["failed_codes", "locked_at"])
    record_audit(action=AuditAction.LOGIN, patient=link.patient, obj=link, username="patient",
                 outcome="success" if good else "failure", detail={"link": link.id})  # fmt: skip
    return good


# ---------------------------------------------------------------------------------------------------------- messages


@transaction.atomic
def message_to_patient(*, patient, by, body: str, base_url: str) -> Message:
    """A secure message from the care team: on the patient page, with a notice that it waits."""
    body = body.strip()
    if not body or len(body) > 4000:
        raise InvalidInput("body: write the message (at most 4,000 characters)")
    message = Message.objects.create(practice_id=patient.practice_id, patient=patient, from_patient=False, body=body,
                                     author=by, created_at=timezone.now())  # fmt: skip
    try:
        channel, to = channel_for(patient)
    except InvalidInput:
        channel = ""  # it waits on the page
    if channel:
        _link, token = _new_link(patient, by=by, purpose="page", channel=channel)
        with translation.override(language_of(patient)):
            text = _("%(practice)s: a new message from your care team waits. Read it at %(url)s") % {
                "practice": patient.practice.name,
                "url": _url(base_url, token),
            }
        _notify(patient, kind="waiting", key=f"waiting:{message.id}", channel=channel, to=to, body=text)
    record_audit(action=AuditAction.CREATE, user=by, patient=patient, obj=message, detail={"to_patient": True})
    return message


@transaction.atomic
def message_from_patient(*, patient, body: str, via: str = "page") -> Message:
    """A message the patient sent (on their page, or by text): to the care team's inbox."""
    body = body.strip()
    if not body or len(body) > 4000:
        raise InvalidInput(_("Write your message (at most 4,000 characters)."))
    message = Message.objects.create(practice_id=patient.practice_id, patient=patient, from_patient=True, body=body,
                                     via=via, created_at=timezone.now())  # fmt: skip
    record_audit(action=AuditAction.CREATE, patient=patient, obj=message, username="patient", detail={"via": via})
    return message


def unread_from(patient) -> int:
    """Messages from the patient the care team has not read."""
    return Message.objects.filter(patient=patient, from_patient=True, read_at__isnull=True).count()


@transaction.atomic
def mark_read(*, patient, by=None) -> int:
    """The patient's unread messages from the other side, read now (by the care team member `by`, or the patient)."""
    unread = Message.objects.filter(patient=patient, read_at__isnull=True, from_patient=by is not None)
    return unread.update(read_at=timezone.now(), read_by=by)


# ------------------------------------------------------------------------------------------------------- opt-outs


@transaction.atomic
def inbound_text(*, practice, phone: str, body: str) -> str:
    """A text from a patient: STOP (and its kin) stops texts, START resumes them, anything else is a message to the
    care team. Returns what was done: stopped, started, message, unknown."""
    number = digits(phone)
    patients = [p for p in practice.patients.exclude(phone="") if digits(p.phone) == number] if number else []
    if len(patients) != 1:  # kept for the care team to place: nothing a patient writes is dropped
        UnmatchedText.objects.create(practice=practice, phone=phone[:32], body=body[:4000], received_at=timezone.now(),
                                     candidates=[p.id for p in patients])  # fmt: skip
        return "unknown"
    patient, word = patients[0], body.strip().upper()
    if word in STOP_WORDS:
        try:
            with transaction.atomic():
                OptOut.objects.create(practice=practice, patient=patient, channel="sms", at=timezone.now(),
                                      source=f"replied {word}")  # fmt: skip
        except IntegrityError:
            pass  # stopped already
        Delivery.objects.filter(patient=patient, channel="sms", status="queued").update(
            status="failed", reason="the patient replied STOP", updated_at=timezone.now()
        )
        record_audit(action=AuditAction.UPDATE, patient=patient, username="patient", object_type="OptOut",
                     detail={"channel": "sms", "source": word})  # fmt: skip
        return "stopped"
    if word in START_WORDS:
        OptOut.objects.filter(patient=patient, channel="sms").delete()
        record_audit(action=AuditAction.UPDATE, patient=patient, username="patient", object_type="OptOut",
                     detail={"channel": "sms", "resumed": word})  # fmt: skip
        return "started"
    message_from_patient(patient=patient, body=body, via="sms")
    return "message"


# ------------------------------------------------------------------------------------------------------- consent


def consent_text(patient, program: str = "ccm") -> ConsentTextVersion:
    """The consent script the patient reads: in their language when ccmops has it, else English."""
    ensure_texts(ConsentTextVersion)
    versions = ConsentTextVersion.objects.filter(program=program).order_by("-effective_from")
    return versions.filter(language=language_of(patient)).first() or versions.filter(language="en").first()


def language_of(patient) -> str:
    """The patient's language for their page and messages: es when their preferred language is Spanish, else en."""
    said = (patient.preferred_language or "").strip().lower()
    return "es" if said.startswith(("es", "spa", "españ", "espan")) else "en"


@transaction.atomic
def consent_electronically(*, link: PatientLink, typed_name: str, agree: bool, device: str) -> Consent | None:
    """The patient's answer on the consent page: agreed (their typed name, the time, the device), recorded as an
    electronic consent with every required element — as read to them, the care manager who sent it having obtained
    it; or declined, recorded on the enrollment with the care manager told.

    Raises:
        InvalidInput: the typed name does not match the patient's name.
        Conflict: the patient already has a consent in force for the program.
    """
    patient, program = link.patient, link.program or "ccm"
    if Consent.objects.filter(patient=patient, program=program, revocation__isnull=True).exists():
        raise Conflict(_("You have already given consent; nothing more is needed."))
    if not agree:
        change_status(patient=patient, program=program, to="declined", by=link.sent_by,
                      reason="Declined on the patient page (electronic consent)")  # fmt: skip
        open_task(patient=patient, kind="care_plan_review", due_on=practice_today(patient.practice),
                  title=f"{patient} declined {program.upper()} on the patient page")  # fmt: skip
        return None
    typed = " ".join(typed_name.split()).lower()
    if typed != f"{patient.given_name} {patient.family_name}".lower():
        raise InvalidInput(_("To sign, type your first and last name as your care team has them."))
    practitioner = patient.billing_practitioner or patient.practice.practitioners.filter(active=True).first()
    if practitioner is None:
        raise Conflict(_("Your practice has no practitioner on record to consent to; please call your care team."))
    version = consent_text(patient, program)
    consent = record_consent(
        patient=patient, program=program, practitioner=practitioner, method="electronic",
        documented_at=timezone.now(), elements=[k for k, _label in required_elements(program)],
        obtained_by=link.sent_by, text_version=version,
        note=f"Signed electronically on the patient page by typing “{typed_name.strip()}”; device: {device[:300]}",
    )  # fmt: skip
    record_audit(action=AuditAction.CREATE, patient=patient, obj=consent, username="patient",
                 detail={"signed": typed_name.strip(), "method": "electronic", "device": device[:300]})  # fmt: skip
    return consent


@transaction.atomic
def stop_ccm(*, patient, reason: str) -> list:
    """The patient stops care management on their page: each consent in force revoked as if by phone (effective
    at the end of the month, R-CONS-2), with their words; the care team is told by a task."""
    consents = list(Consent.objects.filter(patient=patient, revocation__isnull=True))
    if not consents:
        raise Conflict(_("There is no consent in force to stop."))
    words = reason.strip() or "no reason given"
    why = f"Stopped by the patient on the patient page: {words}"
    done = [revoke_consent(consent=c, revoked_at=timezone.now(), by=None, reason=why) for c in consents]
    for revocation in done:
        record_audit(action=AuditAction.UPDATE, patient=patient, obj=revocation, username="patient",
                     detail={"stopped": revocation.consent.program, "reason": words})  # fmt: skip
    open_task(patient=patient, kind="care_plan_review", due_on=practice_today(patient.practice),
              title=f"{patient} stopped care management on the patient page: {words}"[:300])  # fmt: skip
    return done


# -------------------------------------------------------------------------------------------------------- check-ins


def zone_of(patient) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(patient.time_zone or patient.practice.time_zone)


MESSAGING_FIELDS = ("sms_provider", "twilio_account_sid", "twilio_from", "email_provider", "smtp_host", "smtp_port",
                    "smtp_user", "from_email", "team_phone", "after_hours")  # fmt: skip
SECRETS = ("twilio_auth_token", "smtp_password")


@transaction.atomic
def save_messaging(*, practice, by, values: dict) -> MessagingSettings:
    """The practice's messaging: providers, credentials (encrypted; left as they are when not given again), the care
    team's phone and after-hours words. Audited without the secrets.

    Raises:
        InvalidInput: an unknown provider, a port that is not a number, a sending number that is not E.164.
    """
    config = settings_of(practice)
    given = {f: str(values.get(f, getattr(config, f)) or "").strip() for f in MESSAGING_FIELDS}
    if given["sms_provider"] not in ("console", "twilio"):
        raise InvalidInput("sms_provider: expected console or twilio")
    if given["email_provider"] not in ("console", "smtp"):
        raise InvalidInput("email_provider: expected console or smtp")
    if not given["smtp_port"].isdigit() or not 1 <= int(given["smtp_port"]) <= 65535:
        raise InvalidInput(f"smtp_port: expected a port number, got {given['smtp_port']!r}")
    if given["twilio_from"] and not re.fullmatch(r"\+[1-9]\d{7,14}", given["twilio_from"]):
        raise InvalidInput(f"twilio_from: expected the number in E.164 form, e.g. +12175550100, got "
                           f"{given['twilio_from']!r}")  # fmt: skip
    for f in MESSAGING_FIELDS:
        setattr(config, f, int(given[f]) if f == "smtp_port" else given[f][:300])
    for f in SECRETS:
        if str(values.get(f) or "").strip():
            setattr(config, f, seal(str(values[f]).strip()))
    if config.sms_provider == "twilio" and not (config.twilio_account_sid and config.twilio_auth_token
                                                 and config.twilio_from):  # fmt: skip
        raise InvalidInput("twilio: give the account SID, the auth token and the sending number")
    config.save()
    record_audit(action=AuditAction.UPDATE, user=by, practice_id=practice.id, obj=config,
                 detail={f: getattr(config, f) for f in ("sms_provider", "email_provider", "twilio_from",
                                                         "smtp_host", "from_email")})  # fmt: skip
    return config


@transaction.atomic
def place_text(*, text: UnmatchedText, patient, by) -> Message | None:
    """Put a text from an unknown or shared number on the patient's thread (`patient` None: set aside as handled)."""
    text = UnmatchedText.objects.select_for_update().get(pk=text.pk)
    if text.handled_at is not None:
        raise Conflict("This text was placed already.")
    message = None
    if patient is not None:
        if patient.practice_id != text.practice_id:
            raise InvalidInput("patient: not a patient of the practice the text was sent to")
        message = Message.objects.create(practice_id=patient.practice_id, patient=patient, from_patient=True,
                                         body=text.body, via="sms", created_at=text.received_at)  # fmt: skip
    text.handled_at, text.handled_by = timezone.now(), by
    text.save(update_fields=["handled_at", "handled_by"])
    record_audit(action=AuditAction.UPDATE, user=by, practice_id=text.practice_id, obj=text,
                 patient=patient, detail={"placed": bool(patient)})  # fmt: skip
    return message
