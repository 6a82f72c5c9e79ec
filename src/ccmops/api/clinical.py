"""A patient's clinical picture over the API (issue 33): active medications, allergies, the latest vital signs and
results with their flags, immunizations and what to ask about, the reconciled medication lists and the standard
assessments (each with its FHIR QuestionnaireResponse). Reading it is audited as reading the patient's record."""

from __future__ import annotations

from django.db import transaction
from ninja import Router

from ccmops.clinical.models import AssessmentResponse, Reconciliation
from ccmops.clinical.picture import clinical_picture
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.organizations.engagements import practice_today
from ccmops.patients.scope import request_scope

router = Router(tags=["clinical picture"])


@router.get("/patients/{patient_id}/clinical", response={200: dict, 404: dict})
def get_clinical(request, patient_id: int):
    """The patient's clinical picture as the patient page shows it, with the reconciliations and assessments."""
    patient = request_scope(request).patient(patient_id)
    with transaction.atomic():
        record_audit(
            action=AuditAction.READ, user=request.user, patient=patient, obj=patient, detail={"via": "api clinical"}
        )
    picture = clinical_picture(patient, practice_today(patient.practice))
    return {
        "medications": [
            {"display": m.display, "system": m.system, "code": m.code, "kind": m.kind, "status": m.status,
             "dosage": m.dosage, "start": m.start, "prescriber": m.prescriber, "prescriber_npi": m.prescriber_npi}
            for m in picture.medications
        ],
        "allergies": [
            {"display": a.display, "system": a.system, "code": a.code, "criticality": a.criticality,
             "category": a.category, "reactions": a.reactions, "clinical_status": a.clinical_status}
            for a in picture.allergies
        ],
        "readings": [
            {"loinc": r.code, "label": r.label, "at": r.when, "value": r.value, "unit": r.unit, "text": r.text,
             "flag": r.flag or None, "compared_with": r.compared_with or None}
            for r in picture.readings
        ],
        "immunizations": [{"cvx": i.code, "display": i.display, "on": i.occurred} for i in picture.immunizations],
        "immunizations_to_ask_about": picture.due,
        "reconciliations": [
            {"version": v.number, "at": v.performed_at, "by": str(v.performed_by), "source": v.source,
             "adherence": v.adherence,
             "items": [{"medication": i.display, "answer": i.answer, "detail": i.detail} for i in v.items.all()]}
            for v in Reconciliation.objects.filter(patient=patient).select_related("performed_by")
            .prefetch_related("items")[:12]
        ],
        "assessments": [
            {"instrument": a.instrument, "score": a.score, "band": a.band, "positive": a.positive,
             "at": a.performed_at, "by": str(a.performed_by), "questionnaire_response": a.response}
            for a in AssessmentResponse.objects.filter(patient=patient).select_related("performed_by")[:24]
        ],
    }  # fmt: skip
