"""The patient's CCM record exports as FHIR R4 that fhir.resources validates."""

from fhir.resources.R4B.bundle import Bundle
from tests.factories.enrollment import ALL, an_hour_ago

from ccmops.enrollment.consents import record_consent
from ccmops.interop.fhir_export import patient_bundle


def test_export_validates_and_holds_consent_careplan_and_goals(twyla, nora, patel, approved_plan):
    record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    raw = patient_bundle(twyla)
    bundle = Bundle.model_validate(raw)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1 and "Consent" in kinds and "CarePlan" in kinds
    assert kinds.count("Goal") == len(approved_plan.in_force.content["goals"])
    assert kinds.count("Condition") == twyla.conditions.count()
    careplan = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "CarePlan")
    assert careplan.status == "active" and len(careplan.goal) == kinds.count("Goal")


def test_export_endpoint_is_scoped_and_audited(login, twyla):
    from ccmops.compliance.models import AuditEvent

    response = login("nora.rn").get(f"/patients/{twyla.id}/fhir.json")
    assert response.status_code == 200 and response.json()["resourceType"] == "Bundle"
    assert AuditEvent.objects.filter(action="export", patient=twyla).exists()
    assert login("pat.rn").get(f"/patients/{twyla.id}/fhir.json").status_code == 404
