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


def die_inside_an_import_chunk(services, chunk: int = 7) -> None:
    """Make this process SIGKILL itself inside the `chunk`th chunk's transaction of its next import, before that
    chunk commits (the fault tests' worker processes)."""
    import os
    import signal

    original = services.write_batch

    def write_then_die(batch, practice_id, *, start_at=0, on_chunk=None):
        calls = {"n": 0}

        def checkpoint(done):
            on_chunk(done)
            calls["n"] += 1
            if calls["n"] == chunk:
                os.kill(os.getpid(), signal.SIGKILL)

        return original(batch, practice_id, start_at=start_at, on_chunk=checkpoint)

    services.write_batch = write_then_die
