"""Patients in the loop (issue 36): the care team sends a link (console provider), the patient signs in with the code
sent to the phone on record and their date of birth, reads their plan, consents electronically, completes a check-in
and writes to the team — each landing on the team's side, audited; a patient session reaches nothing else; Twilio's
callbacks are believed only with a valid signature; STOP stops texts."""

import datetime as dt
import re

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from ccmops.clinical.models import Observation
from ccmops.compliance.models import AuditEvent
from ccmops.enrollment.models import Consent, Enrollment
from ccmops.organizations.models import Organization
from ccmops.outbox.secrets import seal
from ccmops.patients.models import Patient
from ccmops.portal.models import CheckIn, Delivery, Message, MessagingSettings, OptOut
from ccmops.portal.providers import console_sent
from ccmops.portal.sending import send_due
from ccmops.worklist.models import FollowUpTask

BASE = "http://testserver/"


@pytest.fixture
def maple(demo_activity, settings, tmp_path):
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    return Organization.objects.get(slug="maple-street-family-medicine")


def a_patient(maple, *, consented: bool) -> Patient:
    with_consent = Patient.objects.filter(
        practice=maple,
        consents__isnull=False,
        consents__revocation__isnull=True,
        care_plans__versions__status="approved",
    ).distinct()
    pool = with_consent if consented else Patient.objects.filter(practice=maple).exclude(consents__isnull=False)
    patient = pool.exclude(care_manager__isnull=True).order_by("id").first()
    Patient.objects.filter(pk=patient.pk).update(phone="217-555-0142")
    patient.refresh_from_db()
    return patient


def last_sent(maple, what: str) -> str:
    send_due(maple.id)
    return next(m["body"] for m in reversed(console_sent(maple)) if what in m["body"])


def sign_in(maple, patient, client: Client, link_text: str) -> str:
    token = re.search(r"/p/([\w-]+)/", link_text).group(1)
    assert "Send me a code" in client.get(f"/p/{token}/").content.decode()
    sent = client.post(f"/p/{token}/", {"action": "send"}).content.decode()
    assert "the phone ending 0142" in sent
    code = re.search(r"your code is (\d{6})", last_sent(maple, "your code is")).group(1)
    page = client.post(f"/p/{token}/", {"action": "verify", "code": code, "birth_date": patient.birth_date.isoformat()})
    assert page.status_code == 302
    return token


def test_a_patient_signs_in_reads_the_plan_writes_and_stops(maple, login):
    patient = a_patient(maple, consented=True)
    nora = login("nora.rn")
    assert nora.post(f"/patients/{patient.id}/reach/", {"action": "link"}).status_code == 302
    text = last_sent(maple, "/p/")
    assert text.startswith("Maple Street Family Medicine: your care team sent you your care page") and "STOP" in text
    assert patient.family_name not in text  # the text says only that something waits
    client = Client()
    token = sign_in(maple, patient, client, text)
    page = client.get(f"/p/{token}/").content.decode()
    assert f"Hello, {patient.given_name}" in page and "Your care plan" in page
    assert "Stop chronic care management" in page
    assert AuditEvent.objects.filter(patient_id=patient.id, username="patient", action="read").exists()
    from ccmops.careplans.models import CarePlanShare

    assert "Version " in page and "What we are working on" in page  # the approved plan, with its version
    client.get(f"/p/{token}/")  # the copy shown is the copy given (R-PLAN-3), recorded once
    assert CarePlanShare.objects.filter(version__care_plan__patient=patient, method="portal").count() == 1
    # a message to the team: in the care manager's inbox, then answered with a notice that something waits
    client.post(f"/p/{token}/act/", {"action": "message", "body": "My ankles are swollen since Tuesday"})
    inbox = nora.get("/inbox/").content.decode()
    assert f"Message from {patient}" in inbox
    thread = nora.get(f"/patients/{patient.id}/reach/").content.decode()
    assert "My ankles are swollen since Tuesday" in thread
    assert Message.objects.get(from_patient=True).read_at is not None  # read by opening the thread
    nora.post(f"/patients/{patient.id}/reach/", {"action": "message", "body": "Please weigh yourself today."})
    waiting = last_sent(maple, "new message")
    assert "Please weigh yourself" not in waiting and "/p/" in waiting
    assert "Please weigh yourself today." in client.get(f"/p/{token}/").content.decode()
    # stopping: the consent revoked as by phone, effective at the month's end; the team told
    client.post(f"/p/{token}/act/", {"action": "stop", "confirm": "yes", "reason": "Too many calls"})
    consent = Consent.objects.filter(patient=patient).order_by("-documented_at").first()
    assert consent.revocation.recorded_by is None and "Too many calls" in consent.revocation.reason
    assert FollowUpTask.objects.filter(patient=patient, title__contains="stopped care management").exists()
    assert "care management ends" in client.get(f"/p/{token}/").content.decode()


def test_electronic_consent_and_a_check_in_land_on_the_team_side(maple, login):
    patient = a_patient(maple, consented=False)
    nora = login("nora.rn")
    nora.post(f"/patients/{patient.id}/reach/", {"action": "consent", "program": "ccm"})
    client = Client()
    token = sign_in(maple, patient, client, last_sent(maple, "consent form"))
    page = client.get(f"/p/{token}/").content.decode()
    assert "your consent" in page and "I agree to chronic care management" in page
    wrong = client.post(f"/p/{token}/act/", {"action": "consent", "answer": "agree", "name": "Someone Else"})
    assert "type your first and last name" in wrong.content.decode()
    client.post(f"/p/{token}/act/", {"action": "consent", "answer": "agree",
                                     "name": f"{patient.given_name} {patient.family_name}"})  # fmt: skip
    consent = Consent.objects.get(patient=patient)
    assert consent.method == "electronic" and consent.obtained_by.username == "nora.rn"
    assert "Signed electronically on the patient page" in consent.note and consent.text
    assert Enrollment.objects.get(patient=patient, program="ccm").status in ("consented", "active")
    # a check-in: PHQ-9 with thoughts of self-harm, and a blood pressure in the crisis range
    nora.post(f"/patients/{patient.id}/reach/", {"action": "checkin", "kinds": ["phq9", "bp"]})
    checkin = CheckIn.objects.get(patient=patient)
    form = {"action": "checkin", "checkin": checkin.id, "kind": "phq9"}
    from ccmops.clinical.instruments import INSTRUMENTS

    for item in INSTRUMENTS["phq9"].items:
        form[item.link_id] = "1"
    assert client.post(f"/p/{token}/act/", form).status_code == 302
    assert FollowUpTask.objects.filter(patient=patient, kind="urgent", title__contains="PHQ-9 item 9").exists()
    client.post(f"/p/{token}/act/", {"action": "checkin", "checkin": checkin.id, "kind": "bp", "systolic": "186",
                                     "diastolic": "104"})  # fmt: skip
    assert FollowUpTask.objects.filter(patient=patient, kind="urgent", title__contains="186/104").exists()
    assert Observation.objects.filter(patient=patient, code="8480-6", value=186).exists()
    checkin.refresh_from_db()
    assert checkin.completed_at is not None
    note = patient.notes.filter(activity="standard_assessment").first()
    assert note.signed_at is None and "completed by the patient" in note.fields["assessment"]


def test_a_patient_session_reaches_nothing_else(maple, login):
    patient = a_patient(maple, consented=True)
    other = Patient.objects.filter(practice=maple).exclude(pk=patient.pk).exclude(care_manager__isnull=True).first()
    Patient.objects.filter(pk=other.pk).update(phone="217-555-0199")
    nora = login("nora.rn")
    nora.post(f"/patients/{patient.id}/reach/", {"action": "link"})
    client = Client()
    token = sign_in(maple, patient, client, last_sent(maple, "/p/"))
    assert client.get(f"/patients/{patient.id}/").status_code == 302  # staff pages: to the staff sign-in
    assert client.get("/inbox/").status_code == 302
    assert client.get(f"/api/patients/{patient.id}").status_code in (401, 403)
    nora.post(f"/patients/{other.id}/reach/", {"action": "link"})
    other_token = re.search(r"/p/([\w-]+)/", last_sent(maple, "/p/")).group(1)
    assert other_token != token
    assert "Send me a code" in client.get(f"/p/{other_token}/").content.decode()  # the other's page asks again
    nora.post(f"/patients/{other.id}/reach/", {"action": "checkin", "kinds": ["bp"]})
    theirs = CheckIn.objects.get(patient=other)
    refused = client.post(f"/p/{token}/act/", {"action": "checkin", "checkin": theirs.id, "kind": "bp",
                                                "systolic": "120", "diastolic": "80"})  # fmt: skip
    assert "That check-in is not yours" in refused.content.decode()
    assert not Observation.objects.filter(patient=other, value_text="reported by the patient").exists()
    # a link tried with wrong codes locks
    stranger = Client()
    stranger.post(f"/p/{other_token}/", {"action": "send"})
    for _ in range(8):
        last = stranger.post(f"/p/{other_token}/", {"action": "verify", "code": "000000", "birth_date": "1950-01-01"})
    assert last.status_code == 403 and "locked" in last.content.decode()
    assert stranger.get(f"/p/{other_token}/").status_code == 404


def _signed(url: str, params: dict, token: str) -> str:
    return RequestValidator(token).compute_signature(url, params)


def test_twilio_callbacks_are_believed_only_when_signed_and_stop_stops_texts(maple, login):
    patient = a_patient(maple, consented=True)
    MessagingSettings.objects.update_or_create(practice=maple, defaults={
        "sms_provider": "twilio", "twilio_account_sid": "AC123", "twilio_auth_token": seal("secret-token"),
        "twilio_from": "+12175550100"})  # fmt: skip
    delivery = Delivery.objects.create(practice=maple, patient=patient, kind="link", channel="sms", to="+12175550142",
                                       body="x", idempotency_key="test:1", status="sent", provider_id="SM1",
                                       next_attempt_at=dt.datetime.now(dt.UTC), created_at=dt.datetime.now(dt.UTC),
                                       updated_at=dt.datetime.now(dt.UTC))  # fmt: skip
    url = f"http://testserver/hooks/twilio/{maple.id}/status/"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    client = Client()
    forged = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=_signed(url, params, "another-token"))
    assert forged.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert client.post(url, params, HTTP_X_TWILIO_SIGNATURE=_signed(url, params, "secret-token")).status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    riverbend = Organization.objects.get(slug="riverbend-internal-medicine")
    elsewhere = f"http://testserver/hooks/twilio/{riverbend.id}/status/"  # another practice's hook: no token there
    assert client.post(elsewhere, params, HTTP_X_TWILIO_SIGNATURE=_signed(elsewhere, params, "secret-token")
                       ).status_code == 403  # fmt: skip
    inbound = f"http://testserver/hooks/twilio/{maple.id}/inbound/"
    said = {"From": "+12175550142", "Body": "Can I move my call to Friday?"}
    assert client.post(inbound, said, HTTP_X_TWILIO_SIGNATURE=_signed(inbound, said, "bad")).status_code == 403
    assert client.post(inbound, said, HTTP_X_TWILIO_SIGNATURE=_signed(inbound, said, "secret-token")).status_code == 200
    assert Message.objects.get(patient=patient, from_patient=True).via == "sms"
    stop = {"From": "+12175550142", "Body": "STOP"}
    client.post(inbound, stop, HTTP_X_TWILIO_SIGNATURE=_signed(inbound, stop, "secret-token"))
    assert OptOut.objects.filter(patient=patient, channel="sms").exists()
    # the next text is not sent: no other channel on record, so the care team is told why
    nora = login("nora.rn")
    refused = nora.post(f"/patients/{patient.id}/reach/", {"action": "link"}, follow=True).content.decode()
    assert "opted out of sms" in refused
    MessagingSettings.objects.filter(practice=maple).update(sms_provider="console")
    Patient.objects.filter(pk=patient.pk).update(email="patient@example.org")
    nora.post(f"/patients/{patient.id}/reach/", {"action": "link"})
    send_due(maple.id)
    assert console_sent(maple)[-1]["channel"] == "email"  # it goes by email instead


def test_a_notice_starts_the_sending_job_after_its_commit(maple, login, django_capture_on_commit_callbacks):
    from ccmops.jobs.models import Job

    patient = a_patient(maple, consented=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        login("nora.rn").post(f"/patients/{patient.id}/reach/", {"action": "link"})
    assert callbacks and Job.objects.filter(kind="messages-send", practice_id=maple.id).count() == 1


def test_the_program_owner_sets_messaging_with_secrets_kept_encrypted(maple, login):
    owner = login("olivia.owner")
    page = owner.get(f"/settings/messaging/?org={maple.slug}").content.decode()
    assert "Console (no texts leave ccmops)" in page and f"/hooks/twilio/{maple.id}/inbound/" in page
    bad = owner.post("/settings/messaging/", {"org": maple.slug, "sms_provider": "twilio", "email_provider": "console",
                                              "smtp_port": "587", "twilio_from": "217-555-0100"})  # fmt: skip
    assert bad.status_code == 422 and "E.164" in bad.content.decode()
    form = {"org": maple.slug, "sms_provider": "twilio", "email_provider": "console", "smtp_port": "587",
            "twilio_account_sid": "AC1", "twilio_from": "+12175550100", "twilio_auth_token": "tok-123",
            "team_phone": "217-555-0100"}  # fmt: skip
    saved = owner.post("/settings/messaging/", form)
    assert saved.status_code == 200 and "Saved." in saved.content.decode() and "tok-123" not in saved.content.decode()
    config = MessagingSettings.objects.get(practice=maple)
    assert config.twilio_auth_token and "tok-123" not in config.twilio_auth_token  # sealed
    owner.post("/settings/messaging/", {"org": maple.slug, "sms_provider": "twilio", "email_provider": "console",
                                        "smtp_port": "587", "twilio_account_sid": "AC1", "twilio_from": "+12175550100",
                                        "after_hours": "Call the on-call nurse"})  # fmt: skip
    config.refresh_from_db()
    assert config.twilio_auth_token and config.after_hours == "Call the on-call nurse"  # the token kept
    assert login("nora.rn").get(f"/settings/messaging/?org={maple.slug}").status_code in (403, 404)


def test_a_spanish_speaking_patient_reads_spanish_and_the_staff_keep_english(maple, login):
    patient = a_patient(maple, consented=True)
    Patient.objects.filter(pk=patient.pk).update(preferred_language="Español")
    patient.refresh_from_db()
    nora = login("nora.rn")
    nora.post(f"/patients/{patient.id}/reach/", {"action": "link"})
    text = last_sent(maple, "/p/")
    assert "su equipo de atención le envió su página de atención" in text and "Responda STOP" in text
    token = re.search(r"/p/([\w-]+)/", text).group(1)
    client = Client()
    assert "Envíenme un código" in client.get(f"/p/{token}/").content.decode()
    assert "el teléfono que termina en 0142" in client.post(f"/p/{token}/", {"action": "send"}).content.decode()
    code = re.search(r"su código es (\d{6})", last_sent(maple, "su código es")).group(1)
    client.post(f"/p/{token}/", {"action": "verify", "code": code, "birth_date": patient.birth_date.isoformat()})
    page = client.get(f"/p/{token}/").content.decode()
    assert f"Hola, {patient.given_name}" in page and "Dejar la gestión de atención crónica" in page
    assert '<html lang="es">' in page
    # the staff pages served after it are still in English
    staff = nora.get(f"/patients/{patient.id}/reach/").content.decode()
    assert "Patient page and messages" in staff and "Hola" not in staff


def test_the_compiled_spanish_catalog_matches_its_source():
    import ast
    import gettext
    from pathlib import Path

    import ccmops.portal

    folder = Path(ccmops.portal.__file__).parent / "locale" / "es" / "LC_MESSAGES"
    source, msgid = {}, None
    for line in (folder / "django.po").read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = ast.literal_eval(line[6:])
        elif line.startswith("msgstr ") and msgid:
            source[msgid] = ast.literal_eval(line[7:])
    with open(folder / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    assert {k: v for k, v in catalog.items() if k} == source  # recompile: django-admin compilemessages
    assert all(source.values())  # every string translated


def test_calls_are_reminded_once_in_the_patients_language_outside_quiet_hours(maple):
    from ccmops.portal.reminders import remind_calls
    from ccmops.worklist.models import ScheduledContact

    patient = a_patient(maple, consented=True)
    Patient.objects.filter(pk=patient.pk).update(preferred_language="es", time_zone="America/Chicago")
    ScheduledContact.objects.filter(patient=patient).delete()
    evening = dt.datetime(2026, 12, 7, 4, 30, tzinfo=dt.UTC)  # 22:30 in Chicago: quiet
    call = ScheduledContact.objects.create(practice=maple, patient=patient, due_at=evening + dt.timedelta(hours=16),
                                           reason="monthly call", created_at=evening)  # fmt: skip
    assert remind_calls(maple, now=evening) == 0
    morning = evening + dt.timedelta(hours=10)  # 08:30 in Chicago
    assert remind_calls(maple, now=morning) == 1
    assert remind_calls(maple, now=morning + dt.timedelta(hours=1)) == 0  # once per call
    body = Delivery.objects.get(idempotency_key=f"reminder:{call.id}").body
    assert "su equipo de atención planea llamarle el lunes 7 de diciembre cerca de las 2:30 PM" in body


def test_a_text_from_an_unknown_or_shared_number_is_kept_and_placed(maple, login):
    from ccmops.portal.models import UnmatchedText
    from ccmops.portal.services import inbound_text

    patient = a_patient(maple, consented=True)
    assert inbound_text(practice=maple, phone="+12175550777", body="Is this Dr Patel's office?") == "unknown"
    spouse = Patient.objects.filter(practice=maple).exclude(pk=patient.pk).first()
    Patient.objects.filter(pk=spouse.pk).update(phone="217-555-0142")  # the same number as the patient
    assert inbound_text(practice=maple, phone="+12175550142", body="Please call me back") == "unknown"
    shared = UnmatchedText.objects.get(body="Please call me back")
    assert sorted(shared.candidates) == sorted([patient.id, spouse.id])
    nora = login("nora.rn")
    assert "2 texts from unknown numbers" in nora.get("/inbox/").content.decode()
    page = nora.get(f"/practices/{maple.id}/texts/").content.decode()
    assert "Is this Dr Patel&#x27;s office?" in page and f"MRN {spouse.mrn}" in page
    nora.post(f"/practices/{maple.id}/texts/", {"text": shared.id, "patient": patient.id, "action": "place"})
    assert Message.objects.filter(patient=patient, body="Please call me back", via="sms").exists()
    unknown = UnmatchedText.objects.get(body__startswith="Is this")
    wrong = nora.post(f"/practices/{maple.id}/texts/", {"text": unknown.id, "mrn": "no-such", "action": "place"})
    assert wrong.status_code == 422
    nora.post(f"/practices/{maple.id}/texts/", {"text": unknown.id, "action": "aside"})
    assert not UnmatchedText.objects.filter(handled_at__isnull=True).exists()
    assert "texts from unknown numbers" not in nora.get("/inbox/").content.decode()
