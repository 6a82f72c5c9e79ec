"""FHIR R4 Claim resources for a closed month: the same claims as the month's 837P, for a clearinghouse, payer
or data warehouse that takes FHIR. One Claim per billed patient-month (claim id `<patient id>-<month>`, as in
CLM01), with the billing provider, the Medicare contractor, the rendering practitioner, the patient and the
Medicare coverage they refer to; the whole collection Bundle is validated with fhir.resources R4B models
before it leaves."""

from __future__ import annotations

import calendar
import uuid
from decimal import Decimal

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from ccmops.billing.x12 import claims_to_send
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.interop.fhir_export import ICD10CM, patient_resource
from ccmops.organizations.charges import charge_of

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"  # HCPCS Level II (the G codes)
NPI = "http://hl7.org/fhir/sid/us-npi"
MBI = "http://hl7.org/fhir/sid/us-mbi"
TIN = "urn:oid:2.16.840.1.113883.4.4"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CLAIM_ID = "urn:ccmops:claim-id"  # the 837P's CLM01: `<patient id>-<month>`
PAYER_ID = "urn:ccmops:x12-payer-id"  # the Medicare contractor's id as the 837P names the payer (NM1*PR … PI)
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
_NAMESPACE = uuid.UUID("9b0f3c52-7a7e-4d1e-8a43-5c2f1d6e0b7a")  # of the fullUrls below


def _url(*parts: object) -> str:
    """A stable fullUrl for a resource of this export (the same object gets the same one in every export)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join(map(str, parts)))}"


def _money(value: Decimal) -> dict:
    return {"value": float(value), "currency": "USD"}  # a JSON number, as FHIR's decimal; cents survive a float


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"coding": [{"system": system, "code": code, **({"display": display} if display else {})}]}


def _address(o) -> list[dict]:
    return [{"line": [o.address_line], "city": o.city, "state": o.state, "postalCode": o.postal_code}]


def claims_bundle(*, practice, month: str, by=None) -> dict:
    """The month's claims as a FHIR R4 collection Bundle (a dict ready for JSON).

    Raises:
        Conflict: the month is not closed.
        InvalidInput: nothing to bill, or practice or patient data the claims need are missing (each named).
    """
    by_patient, _held = claims_to_send(practice, month, for_837p=False)
    now = timezone.now()
    year, mon = map(int, month.split("-"))
    period = {"start": f"{month}-01", "end": f"{month}-{calendar.monthrange(year, mon)[1]:02d}"}
    provider = {"reference": _url("organization", practice.id)}
    payer = {"reference": _url("payer", practice.id, practice.medicare_contractor_id)}
    resources = [
        (
            provider["reference"],
            {
                "resourceType": "Organization",
                "identifier": [{"system": NPI, "value": practice.npi}, {"system": TIN, "value": practice.tin}],
                "active": True,
                "type": [_coding(f"{TERMINOLOGY}/organization-type", "prov", "Healthcare Provider")],
                "name": practice.name,
                "address": _address(practice),
            },
        ),
        (
            payer["reference"],
            {
                "resourceType": "Organization",
                "identifier": [{"system": PAYER_ID, "value": practice.medicare_contractor_id}],
                "active": True,
                "type": [_coding(f"{TERMINOLOGY}/organization-type", "pay", "Payer")],
                "name": practice.medicare_contractor_name,
            },
        ),
    ]
    practitioners: set[int] = set()
    claims = []
    for lines in by_patient.values():
        p, rendering = lines[0].patient, lines[0].billing_practitioner
        patient_ref = {"reference": _url("patient", p.id)}
        coverage_ref = {"reference": _url("coverage", p.id)}
        rendering_ref = {"reference": _url("practitioner", rendering.id)}
        patient = patient_resource(p)
        del patient["id"]  # referred to by fullUrl in this bundle
        patient["identifier"].append({"system": MBI, "value": p.medicare_id})
        patient["address"] = _address(p)
        resources += [
            (patient_ref["reference"], patient),
            (
                coverage_ref["reference"],
                {
                    "resourceType": "Coverage",
                    "status": "active",
                    "type": {"text": "Medicare Part B"},
                    "subscriberId": p.medicare_id,
                    "beneficiary": patient_ref,
                    "relationship": _coding(f"{TERMINOLOGY}/subscriber-relationship", "self"),
                    "payor": [payer],
                },
            ),
        ]
        if rendering.id not in practitioners:
            practitioners.add(rendering.id)
            resources.append(
                (
                    rendering_ref["reference"],
                    {
                        "resourceType": "Practitioner",
                        "identifier": [{"system": NPI, "value": rendering.npi}],
                        "name": [{"family": rendering.last_name, "given": [rendering.first_name]}],
                    },
                )
            )
        dx = list(dict.fromkeys(c for x in lines for c in x.diagnosis_codes))[:12]  # as the 837P's HI
        pointers = list(range(1, min(4, len(dx)) + 1))
        charges = {x.code: charge_of(practice, x.code) * x.units for x in lines}  # the practice's (R-CLM-CHG-1)
        total = sum(charges.values(), Decimal("0.00"))
        claims.append(
            (
                _url("claim", p.id, month),
                {
                    "resourceType": "Claim",
                    "identifier": [{"system": CLAIM_ID, "value": f"{p.id}-{month}"}],
                    "status": "active",
                    "type": _coding(f"{TERMINOLOGY}/claim-type", "professional"),
                    "use": "claim",
                    "patient": patient_ref,
                    "billablePeriod": period,
                    "created": now.isoformat(),
                    "provider": provider,
                    "priority": _coding(f"{TERMINOLOGY}/processpriority", "normal"),
                    "insurer": payer,
                    "careTeam": [
                        {
                            "sequence": 1,
                            "provider": rendering_ref,
                            "role": _coding(f"{TERMINOLOGY}/claimcareteamrole", "primary"),
                        }
                    ],
                    "diagnosis": [
                        {
                            "sequence": i,
                            "diagnosisCodeableConcept": _coding(ICD10CM, code),
                            **({"type": [_coding(f"{TERMINOLOGY}/ex-diagnosistype", "principal")]} if i == 1 else {}),
                        }
                        for i, code in enumerate(dx, start=1)
                    ],
                    "insurance": [{"sequence": 1, "focal": True, "coverage": coverage_ref}],
                    "item": [
                        {
                            "sequence": i,
                            "careTeamSequence": [1],
                            "diagnosisSequence": pointers,
                            "productOrService": _coding(HCPCS if line.code[0].isalpha() else CPT, line.code),
                            "servicedDate": line.date_of_service.isoformat(),
                            "locationCodeableConcept": _coding(POS, practice.place_of_service),
                            "quantity": {"value": line.units},
                            "unitPrice": _money(charge_of(practice, line.code)),
                            "net": _money(charges[line.code]),
                        }
                        for i, line in enumerate(lines, start=1)
                    ],
                    "total": _money(total),
                },
            )
        )
    raw = {
        "resourceType": "Bundle",
        "identifier": {"system": CLAIM_ID, "value": f"{practice.slug}-{month}"},
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [{"fullUrl": url, "resource": r} for url, r in resources + claims],
    }
    Bundle.model_validate(raw)  # raises if any of it would not be valid FHIR R4
    record_audit(
        action=AuditAction.EXPORT,
        user=by,
        practice_id=practice.id,
        object_type="fhir_claims",
        object_id=month,
        detail={"claims": len(claims), "lines": sum(len(r["item"]) for _, r in claims)},
    )
    return raw
