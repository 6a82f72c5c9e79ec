"""The patient page in Chromium at phone size (issue 36): a patient receives a link (console provider), signs in with
the code sent to the phone on record and their birth date, reads the care plan, gives electronic consent, completes
a PHQ-9 and a blood-pressure check-in, sends a message and stops CCM — each landing on the care team's side and
audited — in English, and in Spanish for a patient whose preferred language is Spanish (the page, the consent text,
the published Spanish PHQ-9, the texts)."""

import re

import pytest

from ccmops.clinical.instruments import INSTRUMENTS
from ccmops.compliance.models import AuditEvent
from ccmops.enrollment.models import Consent
from ccmops.organizations.models import Organization, User
from ccmops.patients.models import Patient
from ccmops.portal.checkins import send_checkin
from ccmops.portal.models import Message
from ccmops.portal.providers import console_sent
from ccmops.portal.sending import send_due
from ccmops.portal.services import send_link
from ccmops.worklist.models import FollowUpTask

pytestmark = pytest.mark.browser


def latest(maple, words: str) -> str:
    send_due(maple.id)
    return next(m["body"] for m in reversed(console_sent(maple)) if words in m["body"])


WORDS = {
    "en": {"language": "English", "consent form": "consent form", "your code": "your code is",
           "phone": "the phone ending", "send code": "Send me a code", "open": "Open my page", "hello": "Hello",
           "plan": "Your care plan",
           "answer": "Send my answer", "recorded": "your consent is recorded", "phq": "PHQ-9",
           "bp": "blood pressure", "alerted": "your care team has been alerted", "item1": "Little interest or pleasure",
           "stop": "Stop chronic care management", "stopped": "stops at the end of this month", "consent text":
           "Do you agree to receive Chronic Care Management"},
    "es": {"language": "Spanish", "consent form": "formulario de consentimiento", "your code": "su código es",
           "phone": "el teléfono que termina en", "send code": "Envíenme un código", "open": "Abrir mi página",
           "hello": "Hola", "plan": "Su plan de atención", "answer": "Enviar mi respuesta",
           "recorded": "su consentimiento quedó registrado", "phq": "PHQ-9", "bp": "presión arterial",
           "alerted": "ya avisamos a su equipo de atención", "item1": "Poco interés o placer en hacer cosas",
           "stop": "Dejar la gestión de atención crónica", "stopped": "termina al final de este mes",
           "consent text": "¿Acepta recibir Gestión de Atención Crónica (CCM)"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_patient_does_everything_on_a_phone(page, live_demo, screenshot, settings, tmp_path, language):
    w = WORDS[language]
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    page.set_viewport_size({"width": 390, "height": 844})
    maple = Organization.objects.get(slug="maple-street-family-medicine")
    patient = Patient.objects.filter(practice=maple, consents__isnull=True).exclude(care_manager__isnull=True).first()
    Patient.objects.filter(pk=patient.pk).update(phone="217-555-0142", preferred_language=w["language"])
    patient.refresh_from_db()
    nora = User.objects.get(username="nora.rn")
    send_link(patient=patient, by=nora, base_url=live_demo.url, purpose="consent")
    link = latest(maple, w["consent form"])
    assert re.search(r"/p/[\w-]+/", link) and patient.family_name not in link
    page.goto(re.search(r"(http://\S+/p/[\w-]+/)", link).group(1))
    page.click(f"text={w['send code']}")
    assert f"{w['phone']} 0142" in page.content()
    code = re.search(rf"{w['your code']} (\d{{6}})", latest(maple, w["your code"])).group(1)
    page.fill("#code", code)
    page.fill("#born", patient.birth_date.isoformat())
    screenshot(f"portal-sign-in-phone-{language}")
    page.click(f"text={w['open']}")
    page.wait_for_load_state()
    assert f"{w['hello']}, {patient.given_name}" in page.content() and w["plan"] in page.content()
    assert w["consent text"] in page.content()
    screenshot(f"portal-consent-phone-{language}")
    page.check("input[name=answer][value=agree]")
    page.fill("#sign-name", f"{patient.given_name} {patient.family_name}")
    page.click(f"text={w['answer']}")
    page.wait_for_load_state()
    assert w["recorded"] in page.locator("#notice").inner_text()
    consent = Consent.objects.get(patient=patient)
    assert consent.method == "electronic" and "Signed electronically" in consent.note
    assert w["consent text"] in consent.text  # the text as the patient read it

    send_checkin(patient=patient, by=nora, kinds=["phq9", "bp"], base_url=live_demo.url)
    page.reload()
    assert w["item1"] in page.content()
    for item in INSTRUMENTS["phq9"].items:
        page.check(f"input[name='{item.link_id}'][value='0']")
    page.locator("form.checkin", has_text=w["phq"]).locator("button").click()
    page.wait_for_load_state()
    page.fill("#bp-systolic", "188")
    page.fill("#bp-diastolic", "102")
    page.locator("form.checkin", has_text=w["bp"]).locator("button").click()
    page.wait_for_load_state()
    assert w["alerted"] in page.locator("#notice").inner_text()
    assert FollowUpTask.objects.filter(patient=patient, kind="urgent", title__contains="188/102").exists()
    assert patient.notes.filter(activity="standard_assessment", signed_at__isnull=True).exists()

    page.fill("#message-body", "Dizzy this morning after my new pill")
    page.click("#messages button[type=submit]")
    page.wait_for_load_state()
    assert Message.objects.filter(patient=patient, from_patient=True, body__contains="Dizzy").exists()
    screenshot(f"portal-home-phone-{language}")

    page.click(f"text={w['stop']}")
    page.fill("#stop-reason", "Moving away")
    page.check("input[name=confirm]")
    page.click("#your-consent button[type=submit]")
    page.wait_for_load_state()
    assert w["stopped"] in page.locator("#notice").inner_text()
    consent.refresh_from_db()
    assert consent.revocation.recorded_by is None and "Moving away" in consent.revocation.reason
    assert {"read", "create", "update", "login"} <= set(
        AuditEvent.objects.filter(patient_id=patient.id, username="patient").values_list("action", flat=True)
    )
