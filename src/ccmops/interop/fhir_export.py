"""FHIR R4 export of a patient's CCM record: Patient, Conditions, Encounters, Consents, CarePlan with Goals, and
the clinical picture (`fhir_export_clinical`: medications, allergies, observations, immunizations, assessments),
validated with fhir.resources R4B models before it leaves."""

from __future__ import annotations

import json
from pathlib import Path

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from ccmops.careplans.models import CarePlan
from ccmops.enrollment.models import Consent
from ccmops.errors import InvalidInput
from ccmops.interop.fhir_export_clinical import clinical_resources
from ccmops.patients.models import Patient

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
PROGRAM_NAMES = {
    "ccm": "Chronic Care Management",
    "pcm": "Principal Care Management",
    "apcm": "Advanced Primary Care Management",
    "bhi": "Behavioral Health Integration",
}


def patient_resource(p) -> dict:
    """A Patient resource (id `patient-<id>`) with the practice's MRN, MBI, name, birth date, sex, death, phone,
    address and language."""
    resource = {
        "resourceType": "Patient",
        "id": f"patient-{p.id}",
        "identifier": [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": f"urn:ccmops:practice:{p.practice_id}:mrn",
                "value": p.mrn,
            }
        ],
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "birthDate": p.birth_date.isoformat(),
    }
    if p.sex in ("male", "female", "other", "unknown"):
        resource["gender"] = p.sex
    if p.deceased_on:
        resource["deceasedDateTime"] = p.deceased_on.isoformat()
    if p.phone:
        resource["telecom"] = [{"system": "phone", "value": p.phone}]
    if p.medicare_id:
        resource["identifier"].append({"system": "http://hl7.org/fhir/sid/us-mbi", "value": p.medicare_id})
    if p.address_line or p.city:
        address = {"use": "home", "line": [p.address_line] if p.address_line else None, "city": p.city or None}
        address |= {"state": p.state or None, "postalCode": p.postal_code or None}
        resource["address"] = [{k: v for k, v in address.items() if v}]
    if p.preferred_language:
        resource["communication"] = [{"language": {"text": p.preferred_language}}]
    return resource


ENCOUNTER_CLASSES = {"ambulatory": "AMB", "emergency": "EMER", "inpatient": "IMP"}  # v3 ActCode


def _encounter(e, ref: dict) -> dict:
    """An Encounter (visits, ED visits, stays; "other" settings have no class to say it and are left out)."""
    resource = {
        "resourceType": "Encounter",
        "id": f"encounter-{e.id}",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": ENCOUNTER_CLASSES[e.setting]},
        "subject": ref,
        "period": {"start": e.start.isoformat(), **({"end": e.end.isoformat()} if e.end else {})},
    }
    if e.code or e.display:
        resource["type"] = [{"coding": [{"code": e.code}] if e.code else None, "text": e.display or e.code}]
        resource["type"] = [{k: v for k, v in resource["type"][0].items() if v}]
    if e.practitioner_npi:
        npi = f"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|{e.practitioner_npi}"
        resource["participant"] = [{"individual": {"reference": npi}}]
    return resource


def patient_bundle(patient) -> dict:
    """A collection Bundle; raises pydantic's ValidationError if anything would not be valid FHIR R4."""
    ref = {"reference": f"Patient/patient-{patient.id}"}
    entries = [patient_resource(patient)]
    for c in patient.conditions.all():
        condition = {
            "resourceType": "Condition",
            "id": f"condition-{c.id}",
            "subject": ref,
            "code": {
                "coding": [
                    {
                        "system": SNOMED if c.system == "snomed" else ICD10CM,
                        "code": c.code,
                        **({"display": c.display} if c.display else {}),
                    }
                ],
                "text": c.display or c.code,
            },
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "resolved" if c.abated else "active",
                    }
                ]
            },
        }
        if c.onset:
            condition["onsetDateTime"] = c.onset.isoformat()
        if c.abated:
            condition["abatementDateTime"] = c.abated.isoformat()
        entries.append(condition)
    entries.extend(_encounter(e, ref) for e in patient.encounters.all() if e.setting in ENCOUNTER_CLASSES)
    for c in Consent.objects.filter(patient=patient).select_related("practitioner", "revocation"):
        revoked = getattr(c, "revocation", None)
        entries.append(
            {
                "resourceType": "Consent",
                "id": f"consent-{c.id}",
                "status": "inactive" if revoked and revoked.effective_at <= timezone.now() else "active",
                "scope": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]
                },
                "category": [
                    {
                        "coding": [{"system": "http://loinc.org", "code": "59284-0"}],
                        "text": f"{PROGRAM_NAMES[c.program]} consent ({c.get_method_display().lower()})",
                    }
                ],
                "patient": ref,
                "dateTime": c.documented_at.isoformat(),
                "performer": [ref],
                "organization": [{"display": patient.practice.name}],
                "policyRule": {
                    "text": f"CMS {c.program.upper()} consent; text version {c.text_version.version}; "
                    f"billing practitioner NPI {c.practitioner.npi}"
                },
                "provision": {
                    "type": "permit",
                    "period": {
                        "start": c.documented_at.isoformat(),
                        **({"end": revoked.effective_at.isoformat()} if revoked else {}),
                    },
                },
            }
        )
    for plan in CarePlan.objects.filter(patient=patient):
        version = plan.in_force or plan.latest
        if version is None:
            continue
        goal_refs = []
        for i, g in enumerate(version.content.get("goals", []), start=1):
            gid = f"goal-{plan.id}-{version.number}-{i}"
            goal_refs.append({"reference": f"Goal/{gid}"})
            goal = {
                "resourceType": "Goal",
                "id": gid,
                "lifecycleStatus": "active",
                "subject": ref,
                "description": {"text": g.get("description", "")},
                "target": [{"measure": {"text": g.get("measure", "")}, "detailString": str(g.get("target", ""))}],
            }
            entries.append(goal)
        entries.append(
            {
                "resourceType": "CarePlan",
                "id": f"careplan-{plan.id}",
                "status": "active" if version.status == "approved" else "draft",
                "intent": "plan",
                "subject": ref,
                "title": f"{plan.get_kind_display()} care plan, version {version.number}",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                                "code": "assess-plan",
                            }
                        ]
                    }
                ],
                "created": version.created_at.isoformat(),
                "description": version.content.get("expected_outcomes", "") or "Care plan",
                "goal": goal_refs,
                "activity": [
                    {
                        "detail": {
                            "status": "scheduled",
                            "description": f"{a.get('description')} — responsible: {a.get('responsible')}",
                        }
                    }
                    for a in version.content.get("interventions", [])
                ],
            }
        )
    entries.extend(clinical_resources(patient, ref))
    raw = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": f"urn:ccmops:{r['resourceType']}/{r['id']}", "resource": r} for r in entries],
    }
    Bundle.model_validate(raw)
    return json.loads(json.dumps(raw))


BULK_TYPES = (
    "Patient",
    "Condition",
    "Encounter",
    "Consent",
    "CarePlan",
    "Goal",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Observation",
    "Immunization",
    "QuestionnaireResponse",
)


def export_practice(practice, folder, *, progress=None) -> dict[str, int]:
    """Write the practice's CCM record as a Bulk Data export (one NDJSON file per resource type: `BULK_TYPES`),
    every patient's resources validated as FHIR R4 first. `ccmops import bulk` reads the Patients, Conditions,
    Encounters and the clinical picture back. Returns the count per type. The files are
    written under temporary names and renamed once complete, so a folder never holds a half-written export."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(BULK_TYPES, 0)
    parts = {t: folder / f".{t}.ndjson.part" for t in BULK_TYPES}
    files = {t: path.open("w", encoding="utf-8") for t, path in parts.items()}
    try:
        ids = list(Patient.objects.filter(practice=practice).order_by("id").values_list("id", flat=True))
        for done, pid in enumerate(ids, start=1):
            patient = Patient.objects.select_related("practice").get(pk=pid)
            try:
                bundle = patient_bundle(patient)
            except ValidationError as exc:
                raise InvalidInput(f"patient MRN {patient.mrn}: not valid FHIR R4: {exc.errors()[0]['msg']}") from None
            for entry in bundle["entry"]:
                resource = entry["resource"]
                files[resource["resourceType"]].write(json.dumps(resource, separators=(",", ":")) + "\n")
                counts[resource["resourceType"]] += 1
            if progress is not None:
                progress(done, len(ids))
    except BaseException:
        for fh in files.values():
            fh.close()
        for path in parts.values():
            path.unlink(missing_ok=True)
        raise
    for fh in files.values():
        fh.close()
    for t in BULK_TYPES:
        (folder / f".{t}.ndjson.part").replace(folder / f"{t}.ndjson")
    return counts
