"""A patient's clinical picture over the API (issue 33): active medications, allergies, the latest vital signs and
results with their flags, immunizations and what to ask about, the reconciled medication lists and the standard
assessments (each with its FHIR QuestionnaireResponse); giving an assessment; the patient's whole record as a FHIR
R4 Bundle. Reading is audited as reading the patient's record, the Bundle as an export."""

from __future__ import annotations

from django.db import transaction
from ninja import Router, Schema
from ninja.responses import Status

from ccmops.access.policy import Function
from ccmops.clinical.instruments import INSTRUMENTS, questionnaire
from ccmops.clinical.models import AssessmentResponse, Reconciliation
from ccmops.clinical.picture import clinical_picture
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.documentation.assess import record_assessment
from ccmops.errors import NOT_FOUND, NotFound
from ccmops.interop.fhir_export import patient_bundle
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


class AssessmentIn(Schema):
    answers: dict[str, int | list[int]]  # each item's link id (its LOINC code) -> the answer's value(s)


@router.get("/questionnaires/{instrument}", response={200: dict, 404: dict})
def get_questionnaire(request, instrument: str):
    """A standard instrument as a FHIR R4 Questionnaire: its items (link ids) and the value of each answer are
    what `POST …/assessments/{instrument}` takes."""
    spec = INSTRUMENTS.get(instrument)
    if spec is None:
        raise NotFound(NOT_FOUND)
    out = questionnaire(spec)
    values = {item.link_id: [{"value": v, "code": c, "display": d} for v, c, d in spec.answers_of(item)]
              for item in spec.items}  # fmt: skip
    return {"questionnaire": out, "answer_values": values}


@router.post("/patients/{patient_id}/assessments/{instrument}", response={201: dict, 403: dict, 404: dict, 422: dict})
def post_assessment(request, patient_id: int, instrument: str, payload: AssessmentIn):
    """Give a standard assessment (phq2, phq9, gad7, steadi, hrsn): scored as published, a draft note of the
    month, an urgent task for a PHQ-9 item 9 above 0, a community-resources task for a social need."""
    scope = request_scope(request)
    patient = scope.patient(patient_id)
    grant = scope.require(patient.practice_id, Function.DOCUMENTATION)
    if instrument not in INSTRUMENTS:
        raise NotFound(NOT_FOUND)
    given = record_assessment(
        patient=patient, by=request.user, instrument=instrument, answers=payload.answers,
        party_id=grant.via_organization_id,
    )  # fmt: skip
    return Status(201, {"id": given.id, "score": given.score, "band": given.band, "positive": given.positive,
                        "note_id": given.note_id, "questionnaire_response": given.response})  # fmt: skip


@router.get("/patients/{patient_id}/fhir", response={200: dict, 404: dict})
def get_patient_fhir(request, patient_id: int):
    """The patient's CCM record and clinical picture as a FHIR R4 collection Bundle, validated (an audited
    export)."""
    patient = request_scope(request).patient(patient_id)
    bundle = patient_bundle(patient)
    with transaction.atomic():
        record_audit(action=AuditAction.EXPORT, user=request.user, patient=patient, obj=patient,
                     detail={"format": "fhir-r4", "resources": len(bundle["entry"]), "via": "api"})  # fmt: skip
    return bundle
