"""In Chromium, by clicks: the care manager opens a patient from the worklist, reads the clinical picture the
import brought (medications, results with flags, trend charts with their values), and reconciles the medications
with the patient; the page then says when and by whom, and the draft note waits to be signed (issue 33)."""

import pytest

from ccmops.clinical.models import Medication, Observation, Reconciliation
from ccmops.demo.seed import seed_demo
from ccmops.documentation.models import Note
from ccmops.patients.models import Patient

pytestmark = pytest.mark.browser


def test_the_clinical_picture_and_a_reconciliation(page, sign_in, live_demo, screenshot):
    seed_demo(with_activity=True)  # the demo's Synthea patients, imported with their medications and results
    moen = Patient.objects.get(family_name="Moen", practice__slug="maple-street-family-medicine")
    assert Medication.objects.filter(patient=moen).exists() and Observation.objects.filter(patient=moen).exists()
    sign_in("nora.rn")
    page.click("nav >> text=Worklist")
    page.click(f"main a[href='/patients/{moen.id}/']")
    clinical = page.locator("#clinical")
    clinical.scroll_into_view_if_needed()
    assert page.locator("#readings tbody tr").count() >= 5
    assert page.locator("figure.chart-card svg.chart").count() >= 1  # a trend, with its values as text
    page.locator("figure.chart-card summary").first.click()
    assert page.locator("figure.chart-card details[open] p").first.inner_text().count("-") >= 2
    screenshot("clinical-picture")
    page.click("text=Reconcile with the patient")
    page.fill("#f-source", "the patient's bottles, on the phone")
    page.locator("select[name^=answer-]").first.select_option("differently")
    page.locator("input[name^=detail-]").first.fill("half a tablet: dizzy in the mornings")
    page.fill("input[name=new-0]", "Aspirin 81 MG daily")
    page.fill("input[name=new-detail-0]", "over the counter, since the summer")
    page.fill("#f-adherence", "Weekly pill box; no missed doses")
    screenshot("reconciliation-form")
    page.click("button:has-text('Save the reconciled list')")
    page.wait_for_selector("text=last reconciled")
    version = Reconciliation.objects.get(patient=moen)
    assert version.number == 1 and version.items.filter(answer="new").count() == 1
    note = Note.objects.get(reconciliations=version)
    assert note.signed_at is None and "Aspirin 81 MG daily" in note.fields["discrepancies"]
    assert "(version 1, 2 discrepancies)" in page.inner_text("main")
    assert "Medication discrepancy" in page.inner_text("main")  # the tasks, on the patient's page
    screenshot("reconciliation-saved")
