"""The clinical picture as FHIR R4 resources for the export (issue 33): MedicationRequest or MedicationStatement,
AllergyIntolerance, Observation (one per stored value: a blood pressure's two components are two Observations),
Immunization, and the QuestionnaireResponse of each standard assessment. Codes go out with the systems and
displays they came in with; `ccmops import bulk` reads every one of them back but the QuestionnaireResponses."""

from __future__ import annotations

from ccmops.clinical.models import AssessmentResponse
from ccmops.interop.fhir_values import CVX, LOINC, NDC, RXNORM, SNOMED

SYSTEM_URLS = {"rxnorm": RXNORM, "ndc": NDC, "snomed": SNOMED, "loinc": LOINC, "cvx": CVX}
NPI = "http://hl7.org/fhir/sid/us-npi"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ALLERGY_STATUS = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
REQUEST_STATUSES = {"active", "on-hold", "cancelled", "completed", "stopped", "draft", "unknown"}
STATEMENT_STATUSES = {"active", "completed", "intended", "stopped", "on-hold", "unknown", "not-taken"}


def _concept(system: str, code: str, display: str) -> dict:
    if system in SYSTEM_URLS and code:
        return {"coding": [{"system": SYSTEM_URLS[system], "code": code, "display": display}], "text": display}
    return {"text": display}


def _number(value) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def medication(m, ref: dict) -> dict:
    concept = _concept(m.system, m.code, m.display)
    if m.kind == "request":
        resource = {
            "resourceType": "MedicationRequest",
            "id": f"medication-{m.id}",
            "status": m.status if m.status in REQUEST_STATUSES else "unknown",
            "intent": "order",
            "medicationCodeableConcept": concept,
            "subject": ref,
        }
        if m.start:
            resource["authoredOn"] = m.start.isoformat()
        if m.dosage:
            resource["dosageInstruction"] = [{"text": m.dosage}]
        if m.prescriber_npi or m.prescriber:
            resource["requester"] = {
                **({"reference": f"Practitioner?identifier={NPI}|{m.prescriber_npi}"} if m.prescriber_npi else {}),
                **({"display": m.prescriber} if m.prescriber else {}),
            }
        if m.end:
            resource["dispenseRequest"] = {"validityPeriod": {"end": m.end.isoformat()}}
        return resource
    resource = {
        "resourceType": "MedicationStatement",
        "id": f"medication-{m.id}",
        "status": m.status if m.status in STATEMENT_STATUSES else "unknown",
        "medicationCodeableConcept": concept,
        "subject": ref,
    }
    if m.start or m.end:
        resource["effectivePeriod"] = {
            **({"start": m.start.isoformat()} if m.start else {}),
            **({"end": m.end.isoformat()} if m.end else {}),
        }
    if m.dosage:
        resource["dosage"] = [{"text": m.dosage}]
    return resource


def allergy(a, ref: dict) -> dict:
    resource = {"resourceType": "AllergyIntolerance", "id": f"allergy-{a.id}", "patient": ref,
                "code": _concept(a.system, a.code, a.display)}  # fmt: skip
    if a.clinical_status in ("active", "inactive", "resolved"):
        resource["clinicalStatus"] = {"coding": [{"system": ALLERGY_STATUS, "code": a.clinical_status}]}
    if a.category in ("food", "medication", "environment", "biologic"):
        resource["category"] = [a.category]
    if a.criticality in ("low", "high", "unable-to-assess"):
        resource["criticality"] = a.criticality
    if a.reactions:
        resource["reaction"] = [{"manifestation": [{"text": r.strip()}]} for r in a.reactions.split(",") if r.strip()]
    if a.recorded:
        resource["recordedDate"] = a.recorded.isoformat()
    return resource


def observation(o, ref: dict) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": f"observation-{o.id}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": o.code, "display": o.display}], "text": o.display},
        "subject": ref,
        "effectiveDateTime": o.effective.isoformat(),
    }
    if o.category:
        resource["category"] = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": o.category}]}]
    if o.value is not None:
        quantity = {"value": _number(o.value)}
        if o.unit:
            quantity |= {"unit": o.unit, "system": UCUM, "code": o.unit}
        resource["valueQuantity"] = quantity
    elif o.value_text:
        resource["valueString"] = o.value_text
    if o.low is not None or o.high is not None:
        bounds = {}
        for key, value in (("low", o.low), ("high", o.high)):
            if value is not None:
                bounds[key] = {"value": _number(value), **({"unit": o.unit} if o.unit else {})}
        resource["referenceRange"] = [bounds]
    return resource


def immunization(i, ref: dict) -> dict:
    return {
        "resourceType": "Immunization",
        "id": f"immunization-{i.id}",
        "status": i.status if i.status in ("completed", "entered-in-error", "not-done") else "completed",
        "vaccineCode": _concept("cvx", i.code, i.display),
        "patient": ref,
        "occurrenceDateTime": i.occurred.isoformat(),
    }


def assessment(a: AssessmentResponse, ref: dict) -> dict:
    """The stored QuestionnaireResponse, with the export's ids."""
    return {**a.response, "id": f"assessment-{a.id}", "subject": ref}


def clinical_resources(patient, ref: dict) -> list[dict]:
    return [
        *(medication(m, ref) for m in patient.medications.all()),
        *(allergy(a, ref) for a in patient.allergies.all()),
        *(observation(o, ref) for o in patient.observations.all()),
        *(immunization(i, ref) for i in patient.immunizations.all()),
        *(assessment(a, ref) for a in patient.assessments.all()),
    ]
