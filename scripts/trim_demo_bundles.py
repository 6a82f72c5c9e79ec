"""Rebuild the demo's trimmed Synthea bundles (src/ccmops/demo/data/synthea/) from ../shared/data/synthea/fhir-r4/.

Kept, each resource unchanged (whitespace removed): Patient, Condition, Encounter, Practitioner, Organization, the
three most recent ExplanationOfBenefit entries (they carry the payer), and the clinical picture — every
MedicationRequest, AllergyIntolerance and Immunization, and the vital-sign and laboratory Observations of the
three years before the patient's last one (older results add nothing a care manager reads).

    python scripts/trim_demo_bundles.py
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "synthea" / "fhir-r4"
TARGET = ROOT / "src" / "ccmops" / "demo" / "data" / "synthea"
KEPT = {"Patient", "Condition", "Encounter", "Practitioner", "Organization"}
CLINICAL = {"MedicationRequest", "AllergyIntolerance", "Immunization"}
OBSERVED_YEARS = 3


def _when(resource: dict) -> str:
    return resource.get("effectiveDateTime") or resource.get("issued") or ""


def trim(bundle: dict) -> dict:
    entries = bundle["entry"]
    eobs = sorted(
        (e for e in entries if e["resource"]["resourceType"] == "ExplanationOfBenefit"),
        key=lambda e: e["resource"].get("created", ""),
    )[-3:]
    observations = [
        e
        for e in entries
        if e["resource"]["resourceType"] == "Observation"
        and any(c["code"] in ("vital-signs", "laboratory") for cat in e["resource"].get("category", []) for c in
                cat.get("coding", []))
    ]  # fmt: skip
    last = max((_when(e["resource"]) for e in observations), default="")
    since = ""
    if last:
        end = dt.date.fromisoformat(last[:10])
        since = end.replace(year=end.year - OBSERVED_YEARS).isoformat()
    kept = [
        e
        for e in entries
        if e["resource"]["resourceType"] in KEPT | CLINICAL
        or e in eobs
        or (e in observations and _when(e["resource"])[:10] >= since)
    ]
    return {**bundle, "entry": kept}


def main() -> None:
    for target in sorted(TARGET.glob("*.json")):
        bundle = json.loads((SOURCE / target.name).read_text())
        target.write_text(json.dumps(trim(bundle), separators=(",", ":")))
        print(target.name, len(json.loads(target.read_text())["entry"]))


if __name__ == "__main__":
    main()
