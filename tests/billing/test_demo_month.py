"""The demo's practices close last month into claims pyx12 accepts and a charge CSV matching the decisions."""

import re

import pytest
from django.test import Client
from tests.factories.billing import previous_month
from tests.factories.session import mfa_done

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.billing.review import override
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import Organization, User


def test_demo_closes_last_month_into_valid_claims(demo_activity, db):
    seed_demo(with_activity=True)  # idempotent
    month, _mid = previous_month()
    ben = User.objects.get(username="ben.biller")
    maple = Organization.objects.get(slug=world.MAPLE)
    summary = close_month(practice=maple, month=month, by=ben)
    assert summary.patient_months == 3
    for d in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        override(decision=d, action="bill", reason="Reviewed with the practitioner", by=ben)
    approve_and_close(practice=maple, month=month, by=ben)
    batch = export_837p(practice=maple, month=month, by=ben)
    decisions = {d.patient.family_name: d.decision for d in PatientMonthDecision.objects.filter(practice=maple)}
    # Moen 45 min → 99490+99439; Kohler 64 min → 99490+99439×2; Hartmann 18 min → nothing billable
    assert [(x["code"], x["units"]) for x in decisions["Moen"]["lines"]] == [("99490", 1), ("99439", 1)]
    assert [(x["code"], x["units"]) for x in decisions["Kohler"]["lines"]] == [("99490", 1), ("99439", 2)]
    assert decisions["Hartmann"]["status"] == "nothing_billable"
    assert batch.claims == 2 and batch.lines == ClaimLine.objects.filter(practice=maple, month=month).count() == 4
    csv_text = charges_csv(practice=maple, month=month, by=ben)
    assert csv_text.count("99439") == 2 and "99490" in csv_text


def test_audit_packets_match_the_decisions(demo_activity, db, tmp_path):
    import io
    import zipfile

    from django.core.management import call_command

    from ccmops.billing.packets import render_packet
    from ccmops.patients.models import Patient

    month, _mid = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    close_month(practice=maple, month=month)
    moen = Patient.objects.get(family_name="Moen")
    html = render_packet(moen, month)
    d = PatientMonthDecision.objects.get(patient=moen, month=month)
    assert "99490" in html and "99439" in html
    assert f"clinical staff {d.decision['counted_minutes']['clinical_staff']}" in html
    assert "Nora Lindqvist (RN, Maple Street Family Medicine)" in html
    assert "Cost sharing applies" in html and "version 2" in html
    target = tmp_path / "packets.zip"
    call_command("month", "packets", "--practice", maple.slug, "--month", month, "--out", str(target))
    names = zipfile.ZipFile(io.BytesIO(target.read_bytes())).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 3


def test_billing_api_and_revenue(demo_activity, db, login):
    month, _mid = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    client = login("ben.biller")
    page = client.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    # before any evaluation the page says how revenue is figured (not "$0.00 of a potential $0.00") and that
    # the month is open, so work recorded now is evaluated with it rather than queued as an adjustment
    assert "evaluate the month to see them" in page and "of a potential" not in page
    assert f"{month} is not closed: work recorded now is part of its evaluation" in page
    summary = client.post(f"/api/practices/{maple.id}/months/{month}/close").json()
    assert summary["patient_months"] == 3
    page = client.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert "Captured <strong>$283.58</strong> of a potential <strong>$400.15</strong>" in page
    revenue = client.get(f"/api/practices/{maple.id}/months/{month}/revenue").json()
    # Moen 45 min could still earn a second 99439; Hartmann 18 min could reach 99490
    assert revenue["captured"] == "283.58"
    assert float(revenue["potential"]) == 283.58 + 50.44 + 66.13
    for d in client.get(f"/api/practices/{maple.id}/months/{month}/decisions?review=needs_review").json():
        client.post(
            f"/api/decisions/{d['id']}/override",
            {"action": "bill", "reason": "checked"},
            content_type="application/json",
        )
    assert client.post(f"/api/practices/{maple.id}/months/{month}/approve").json()["status"] == "closed"
    claims = client.post(f"/api/practices/{maple.id}/months/{month}/claims").json()
    assert claims["claims"] == 2 and claims["content"].startswith("ISA*")
    fhir = client.get(f"/api/practices/{maple.id}/months/{month}/claims.fhir.json").json()
    fhir_claims = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "Claim"]
    assert len(fhir_claims) == claims["claims"] and sum(len(c["item"]) for c in fhir_claims) == claims["lines"]
    assert sum(c["total"]["value"] for c in fhir_claims) == pytest.approx(float(claims["total"]))
    assert login("nora.rn").post(f"/api/practices/{maple.id}/months/{month}/close").status_code == 403


def test_the_demo_holds_a_second_ccm_payee_for_review(demo_activity, db):
    """Riverbend's biller finds Lemke held last month: the patient told her care manager that another practice's
    nurse calls her monthly, recorded as a known CCM of another practitioner."""
    seed_demo(with_activity=True)  # recorded once
    month, _mid = previous_month()
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    summary = close_month(practice=riverbend, month=month, by=User.objects.get(username="rick.biller"))
    held = PatientMonthDecision.objects.filter(practice=riverbend, month=month, review="needs_review")
    assert summary.needs_review == 1 and [d.patient.family_name for d in held] == [world.KNOWN_ELSEWHERE[0]]
    assert "CCM.DUPLICATE.OTHER_PRACTITIONER" in {f["code"] for f in held[0].reasons}
    assert held[0].patient.known_services.get().source == world.KNOWN_ELSEWHERE[2]
    message = next(f["message"] for f in held[0].reasons if f["code"] == "CCM.DUPLICATE.OTHER_PRACTITIONER")
    assert message.startswith(f"Another practitioner (npi-{world.KNOWN_ELSEWHERE[1]}) is known to bill CCM (99490)")
    # the page offers no approval while the review queue holds anything, and says why
    client = Client()
    client.force_login(User.objects.get(username="rick.biller"))
    page = mfa_done(client).get(f"/practices/{riverbend.id}/months/{month}/").content.decode()
    assert "Approval waits for the review queue: 1 patient-month to override" in page
    assert f"Approve and close {month}" not in page
    override(decision=held[0], action="bill", reason="She confirmed it is a cardiology device check", by=None)
    page = client.get(f"/practices/{riverbend.id}/months/{month}/").content.decode()
    assert f"Approve and close {month}" in page and "Approval waits" not in page


def test_the_demo_holds_the_month_whose_minutes_lack_a_signed_note(demo_activity, db):
    """R-DOC-1: Kohler's last call of last month is a draft note: her month holds, naming the entry, and the month
    page links to the draft; Moen's, every call signed, bills. The packet shows each entry's note, the supervising
    practitioner and the practice's time zone."""
    from ccmops.billing.packets import render_packet
    from ccmops.patients.models import Patient

    month, _mid = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    close_month(practice=maple, month=month)
    kohler = PatientMonthDecision.objects.get(practice=maple, month=month, patient__family_name="Kohler")
    moen = PatientMonthDecision.objects.get(practice=maple, month=month, patient__family_name="Moen")
    assert (kohler.status, kohler.review) == ("hold", "needs_review") and moen.status == "ready"
    assert [f["code"] for f in kohler.reasons if f["severity"] == "hold"] == ["DOC.UNSIGNED_TIME"]
    (undocumented,) = kohler.decision["undocumented_time"]
    assert undocumented["minutes"] == world.ACTIVE_CCM[1][2][world.UNSIGNED_NOTE[1]]
    client = Client()
    client.force_login(User.objects.get(username="ben.biller"))
    page = mfa_done(client).get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert "Time without a signed note" in page and "sign the draft note" in page
    assert not re.search(r"\bte-[0-9]+-[0-9]+\b|\buser-[0-9]+\b", page)  # the facts' ids read as entries, people
    html = render_packet(Patient.objects.get(family_name="Moen"), month)
    assert "note signed" in html and "by Nora Lindqvist" in html and "no note" not in html
    assert (
        "Supervising (billing) practitioner" in html
        and f"Times are in the practice's time zone, {maple.time_zone}" in html
    )
