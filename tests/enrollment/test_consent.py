"""Consent: structured, complete, never overwritten; revocation and re-consent are separate records."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from tests.factories.enrollment import ALL, an_hour_ago

from ccmops.enrollment.consent_status import consent_status
from ccmops.enrollment.consents import record_consent, revoke_consent
from ccmops.enrollment.models import Consent, ConsentRevocation, Enrollment
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Practitioner


def test_consent_needs_every_element_and_says_which_is_missing(twyla, nora, patel):
    with pytest.raises(InvalidInput) as info:
        record_consent(
            patient=twyla,
            program="ccm",
            practitioner=patel,
            method="verbal",
            documented_at=an_hour_ago(),
            elements=["cost_sharing"],
            obtained_by=nora,
        )
    assert "Only one practitioner can furnish" in str(info.value) and "may stop at any time" in str(info.value)
    assert not Consent.objects.exists()


def test_recorded_consent_moves_the_funnel_and_is_in_force(twyla, nora, patel):
    consent = record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    assert Enrollment.objects.get(patient=twyla, program="ccm").status == "consented"
    status = consent_status(twyla, "ccm")
    assert status.in_force == consent and "time before it does not count" in status.message
    assert consent.text_version.version == "2025.1"
    consent.note = "edited"
    with pytest.raises(ValueError, match="never changed"):
        consent.save()


def test_consent_in_the_future_or_with_half_a_representative_is_refused(twyla, nora, patel):
    with pytest.raises(InvalidInput, match="future"):
        record_consent(
            patient=twyla,
            program="ccm",
            practitioner=patel,
            method="verbal",
            documented_at=timezone.now() + dt.timedelta(days=1),
            elements=ALL,
            obtained_by=nora,
        )
    with pytest.raises(InvalidInput, match="representative"):
        record_consent(
            patient=twyla,
            program="ccm",
            practitioner=patel,
            method="written",
            documented_at=an_hour_ago(),
            elements=ALL,
            obtained_by=nora,
            representative_name="Sam Moen",
        )


def test_revocation_and_reconsent_are_separate_records(twyla, nora, patel):
    first = record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    revocation = revoke_consent(consent=first, revoked_at=timezone.now(), reason="Patient asked to stop", by=nora)
    local = timezone.localtime(revocation.revoked_at, timezone=zoneinfo.ZoneInfo("America/Chicago"))
    effective = timezone.localtime(revocation.effective_at, timezone=local.tzinfo)
    assert (effective.day, effective.hour, effective.minute) == (1, 0, 0)  # midnight starting next month
    assert (effective.month - local.month) % 12 == 1
    assert consent_status(twyla, "ccm").revocation_pending == revocation  # this month still counts
    assert Enrollment.objects.get(patient=twyla, program="ccm").status == "disenrolled"
    second = record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="written",
        documented_at=timezone.now(),
        elements=ALL,
        obtained_by=nora,
    )
    assert list(Consent.objects.filter(patient=twyla).order_by("id")) == [first, second]
    assert ConsentRevocation.objects.get().consent == first
    assert Enrollment.objects.get(patient=twyla, program="ccm").status == "consented"
    history = [e.to_status for e in Enrollment.objects.get(patient=twyla, program="ccm").events.all()]
    assert history == ["consented", "disenrolled", "consented"]


def test_change_of_billing_practitioner_needs_reconsent(twyla, nora, patel):
    record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    other = Practitioner.objects.create(
        practice=twyla.practice, npi="1003000043", first_name="Lena", last_name="Ortiz", credential="NP"
    )
    twyla.billing_practitioner = other
    twyla.save()
    status = consent_status(twyla, "ccm")
    assert status.in_force is None and status.needs_reconsent and "R-CONS-3" in status.message


def local_input(instant) -> str:
    """What a Chicago care manager types into the datetime field (forms read practice-local time)."""
    return instant.astimezone(zoneinfo.ZoneInfo("America/Chicago")).strftime("%Y-%m-%dT%H:%M")


def test_consent_pages_and_pdf(login, twyla):
    client = login("nora.rn")
    response = client.post(
        f"/patients/{twyla.id}/consents/new/",
        {
            "program": "ccm",
            "practitioner": twyla.billing_practitioner_id,
            "method": "verbal",
            "documented_at": local_input(an_hour_ago()),
            "elements": ALL,
        },
    )
    consent = Consent.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/consents/{consent.id}/"
    page = client.get(f"/consents/{consent.id}/").content.decode()
    assert "Only one practitioner can furnish" in page and "text version" in page.lower()
    pdf = client.get(f"/consents/{consent.id}/?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    refused = client.post(
        f"/patients/{twyla.id}/consents/new/",
        {
            "program": "ccm",
            "practitioner": twyla.billing_practitioner_id,
            "method": "verbal",
            "documented_at": local_input(an_hour_ago()),
            "elements": ["cost_sharing"],
        },
    )
    assert "must be told" in refused.content.decode() and Consent.objects.count() == 1


def test_partner_cannot_record_consent_for_hybrid_practice(login, demo):
    """Riverbend keeps enrollment and consent in the hybrid model: Summit's care manager may not record it."""
    from ccmops.patients.models import Patient

    lemke = Patient.objects.get(family_name="Lemke")
    assert login("pat.rn").get(f"/patients/{lemke.id}/consents/new/").status_code == 403
    assert login("maya.ma").get(f"/patients/{lemke.id}/consents/new/").status_code == 200


def test_the_consent_text_names_the_practitioner_on_the_form_and_in_the_record(twyla, nora, patel, login):
    """The script as read names the practitioner (no literal placeholder), and the stored record keeps it."""
    consent = record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    assert "{practitioner}" not in consent.text and f"from {patel}?" in consent.text
    client = login("nora.rn")
    form = client.get(f"/patients/{twyla.id}/consents/new/").content.decode()
    assert "{practitioner}" not in form and str(patel) in form
    record = client.get(f"/consents/{consent.id}/").content.decode()
    assert "{practitioner}" not in record and f"from {patel}?" in record


def test_bhi_consent_records_permission_to_consult_specialists(twyla, nora, patel):
    """R-CONS-7: without the specialist-consultation element a BHI consent is refused, naming it; the BHI text
    version of 2026 says it."""
    with pytest.raises(InvalidInput, match="Permission to consult relevant specialists"):
        record_consent(
            patient=twyla,
            program="bhi",
            practitioner=patel,
            method="verbal",
            documented_at=an_hour_ago(),
            elements=ALL,
            obtained_by=nora,
        )
    consent = record_consent(
        patient=twyla,
        program="bhi",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=[*ALL, "specialist_consultation"],
        obtained_by=nora,
    )
    assert "specialist_consultation" in consent.elements and "consult relevant specialists" in consent.text
