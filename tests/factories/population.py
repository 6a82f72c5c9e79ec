"""Import inputs in tests: FHIR bundles, a patient and a condition resource, files written for an import."""

from __future__ import annotations

import json

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "birthDate": "1950-02-03",
    "gender": "female",
    "name": [{"use": "official", "family": "Okafor", "given": ["Ada"]}],
    "identifier": [
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "value": "MRN-77",
        }
    ],
}


def bundle(*resources, type_="collection") -> str:
    return json.dumps({"resourceType": "Bundle", "type": type_, "entry": [{"resource": r} for r in resources]})


def condition(cid, code="I10", system="http://hl7.org/fhir/sid/icd-10-cm", subject="Patient/p1"):
    c = {"resourceType": "Condition", "id": cid, "code": {"coding": [{"system": system, "code": code}]}}
    if subject:
        c["subject"] = {"reference": subject}
    return c


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path
