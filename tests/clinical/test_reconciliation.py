"""Medication reconciliation as a monthly activity (issue 33): a new list version each time (history kept), a draft
note of the month filled from what was recorded, a follow-up task for each discrepancy, audited; bad input is named
and writes nothing."""

import datetime as dt

import pytest

from ccmops.clinical.models import Medication, ReconciledItem, Reconciliation
from ccmops.compliance.models import AuditEvent
from ccmops.documentation.models import Note
from ccmops.documentation.reconcile import Answer, reconcile
from ccmops.documentation.services import save_note
from ccmops.errors import InvalidInput
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.worklist.models import FollowUpTask


@pytest.fixture
def listed(demo):
    twyla = Patient.objects.get(family_name="Moen")
    Medication.objects.filter(patient=twyla).delete()  # only the list this test makes
    common = {"practice": twyla.practice, "patient": twyla, "kind": "request", "system": "rxnorm", "status": "active"}
    a = Medication.objects.create(**common, source_id="m1", code="197361", display="Amlodipine 5 MG Oral Tablet",
                                  start=dt.date(2026, 2, 1))  # fmt: skip
    b = Medication.objects.create(**common, source_id="m2", code="860975", display="Metformin 500 MG Oral Tablet",
                                  start=dt.date(2025, 6, 1), dosage="1 tablet twice a day")  # fmt: skip
    return twyla, a, b, User.objects.get(username="nora.rn")


def test_a_reconciliation_is_a_version_a_draft_note_and_tasks_for_the_practitioner(listed):
    twyla, amlodipine, metformin, nora = listed
    v1 = reconcile(
        patient=twyla,
        by=nora,
        source="the patient's bottles, on the phone",
        adherence="Misses the evening metformin about twice a week",
        answers=[
            Answer(amlodipine.id, "taking"),
            Answer(metformin.id, "differently", "one tablet a day, not two: stomach upset"),
            Answer(None, "new", "Cardiology, since October", "Atorvastatin 40 MG"),
        ],
    )
    assert v1.number == 1 and v1.performed_by == nora
    items = {i.display: (i.answer, i.detail) for i in v1.items.all()}
    assert items == {
        "Amlodipine 5 MG Oral Tablet": ("taking", ""),
        "Metformin 500 MG Oral Tablet": ("differently", "one tablet a day, not two: stomach upset"),
        "Atorvastatin 40 MG": ("new", "Cardiology, since October"),
    }
    note = v1.note
    assert note.activity == "medication_reconciliation" and note.signed_at is None and note.author == nora
    assert "3 medications reviewed" in note.fields["medications_reviewed"]
    assert "Metformin 500 MG Oral Tablet: taking differently" in note.fields["discrepancies"]
    assert "Atorvastatin 40 MG: new, from another prescriber" in note.fields["discrepancies"]
    assert str(twyla.billing_practitioner) in note.fields["changes_communicated"]
    # The draft is complete: its author signs it as is (R-DOC-1's signed record of the time it took).
    signed = save_note(patient=twyla, author=nora, program="ccm", activity=note.activity, fields=note.fields,
                       note=note, sign=True)  # fmt: skip
    assert signed.signed_at is not None
    tasks = FollowUpTask.objects.filter(patient=twyla, kind="medication", status="open")
    assert sorted(t.title.split(" — ")[0] for t in tasks) == [
        "Medication discrepancy: Atorvastatin 40 MG",
        "Medication discrepancy: Metformin 500 MG Oral Tablet",
    ]
    assert AuditEvent.objects.filter(object_type__icontains="reconciliation", patient=twyla).exists()
    # A second reconciliation is a new version; the first stays as it was.
    v2 = reconcile(patient=twyla, by=nora, source="pharmacy fill list", adherence="Takes them all now",
                   answers=[Answer(amlodipine.id, "taking"), Answer(metformin.id, "taking")])  # fmt: skip
    assert v2.number == 2 and v2.items.count() == 2 and not any(i.discrepancy for i in v2.items.all())
    assert v2.note.fields["discrepancies"] == "No discrepancies: every medication taken as prescribed"
    assert Reconciliation.objects.get(number=1).items.count() == 3
    assert FollowUpTask.objects.filter(patient=twyla, kind="medication").count() == 2  # none for version 2


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"source": " "}, "source:"),
        ({"adherence": ""}, "adherence:"),
        ({"answers": "stopped-without-detail"}, "detail: say how (Metformin"),
        ({"answers": "unknown-answer"}, "answer: expected one of"),
        ({"answers": "new-without-name"}, "new medication: give its name"),
        ({"answers": "another-patients"}, "is not on Moen, Twyla's list"),
    ],
)
def test_bad_input_is_named_and_writes_nothing(listed, change, named):
    twyla, amlodipine, metformin, nora = listed
    other = Medication.objects.create(
        practice=twyla.practice, patient=Patient.objects.get(family_name="Kohler"), source_id="x", kind="request",
        system="rxnorm", status="active", display="Lisinopril",
    )  # fmt: skip
    answers = {
        "stopped-without-detail": [Answer(metformin.id, "stopped")],
        "unknown-answer": [Answer(metformin.id, "sometimes")],
        "new-without-name": [Answer(None, "new", "from the ED")],
        "another-patients": [Answer(other.id, "taking")],
    }
    kwargs = {"source": "bottles", "adherence": "fine", "answers": [Answer(amlodipine.id, "taking")]}
    kwargs.update({k: answers.get(v, v) for k, v in change.items()})
    with pytest.raises(InvalidInput, match=named.replace("(", r"\(")):
        reconcile(patient=twyla, by=nora, **kwargs)
    assert not Reconciliation.objects.exists() and not ReconciledItem.objects.exists()
    assert not Note.objects.filter(activity="medication_reconciliation").exists()
    assert not FollowUpTask.objects.filter(kind="medication").exists()


def test_the_care_manager_reconciles_from_the_patient_page(listed, login):
    twyla, amlodipine, metformin, _nora = listed
    client = login("nora.rn")
    page = client.get(f"/patients/{twyla.id}/").content.decode()
    assert f'href="/patients/{twyla.id}/medications/reconcile/"' in page
    form = {
        "source": "bottles",
        "adherence": "Fine",
        f"answer-{amlodipine.id}": "taking",
        f"answer-{metformin.id}": "stopped",
        f"detail-{metformin.id}": "",
        "new-0": "Aspirin 81 MG",
        "new-detail-0": "over the counter",
    }
    refused = client.post(f"/patients/{twyla.id}/medications/reconcile/", form)
    body = refused.content.decode()
    assert refused.status_code == 422 and 'id="reconcile-error"' in body and "Aspirin 81 MG" in body  # kept
    done = client.post(
        f"/patients/{twyla.id}/medications/reconcile/", {**form, f"detail-{metformin.id}": "by Dr. Patel"}
    )
    assert done.status_code == 302 and done["Location"].endswith("?reconciled=1#clinical")
    page = client.get(done["Location"]).content.decode()
    assert "version 1, 2 discrepancies" in page
    assert "Medication discrepancy: Metformin 500 MG Oral Tablet — stopped (by Dr. Patel)" in page
    assert login("ben.biller").get(f"/patients/{twyla.id}/medications/reconcile/").status_code in (403, 404)
    # The discrepancies wait in the billing practitioner's inbox, not the care manager's.
    title = "Medication discrepancy: Metformin 500 MG Oral Tablet"
    assert title in login("dr.patel").get("/api/inbox").content.decode()
    assert title not in login("nora.rn").get("/api/inbox").content.decode()


def test_the_care_plan_takes_the_reconciled_medications_and_the_latest_readings(listed, login):
    from django.utils import timezone

    from ccmops.careplans.models import CarePlan
    from ccmops.careplans.services import create_from_template
    from ccmops.clinical.models import Observation
    from ccmops.clinical.picture import care_plan_lines

    twyla, amlodipine, metformin, nora = listed
    Observation.objects.filter(patient=twyla).delete()
    Observation.objects.create(
        practice=twyla.practice, patient=twyla, source_id="bp#8480-6", category="vital-signs", code="8480-6",
        display="Systolic", effective=timezone.now(), value=152, unit="mm[Hg]",
    )  # fmt: skip
    medications, readings = care_plan_lines(twyla, timezone.localdate())
    assert medications.startswith("Medications on the EHR's list (not yet reconciled with the patient)")
    assert "Metformin 500 MG Oral Tablet, 1 tablet twice a day" in medications
    assert readings.startswith("Latest readings: Systolic blood pressure 152 mmHg (") and "above range" in readings
    reconcile(patient=twyla, by=nora, source="bottles", adherence="fine",
              answers=[Answer(amlodipine.id, "taking"), Answer(metformin.id, "stopped", "by Dr. Patel")])  # fmt: skip
    medications, _ = care_plan_lines(twyla, timezone.localdate())
    assert "as reconciled with the patient" in medications and "(version 1, against bottles)" in medications
    assert "Amlodipine" in medications and "Metformin" not in medications  # stopped: not on the plan
    # A plan drafted now starts from it; the editor brings it in on request into an existing plan.
    CarePlan.objects.filter(patient=twyla).delete()
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    assert plan.latest.content["medication_management"].startswith("Medications as reconciled with the patient")
    assert plan.latest.content["symptom_management"].startswith("Latest readings: Systolic blood pressure 152")
    page = login("nora.rn").get(f"/care-plans/{plan.id}/edit/?pull=1").content.decode()
    assert 'id="pulled"' in page and "as reconciled with the patient" in page and "Latest readings" in page
