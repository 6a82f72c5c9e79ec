"""Write the clinical picture of a validated Batch: one row per source resource (or panel component), upserted on
patient + source id, so re-importing an export changes nothing and a changed resource updates its row."""

from __future__ import annotations

from collections.abc import Sequence

from ccmops.clinical.models import Allergy, Immunization, Medication, Observation
from ccmops.interop.records import AllergyRec, ImmunizationRec, MedicationRec, ObservationRec
from ccmops.platform.upsert import upsert

MEDICATION = ["kind", "status", "system", "code", "display", "dosage", "start", "end", "prescriber_npi", "prescriber"]
ALLERGY = ["system", "code", "display", "clinical_status", "category", "criticality", "reactions", "recorded"]
OBSERVATION = ["category", "code", "display", "effective", "value", "unit", "value_text", "low", "high"]
IMMUNIZATION = ["code", "display", "status", "occurred"]


def _rows(practice_id: int, recs: Sequence, ids: dict[str, int], fields: list[str]) -> list[tuple]:
    rows = {}
    for r in recs:
        pid = ids[r.patient_ref]
        rows[(pid, r.source_id)] = (practice_id, pid, r.source_id, *(getattr(r, f) for f in fields))
    return list(rows.values())


def _write(model, practice_id: int, recs: Sequence, ids: dict[str, int], fields: list[str]) -> None:
    upsert(
        model,
        ["practice", "patient", "source_id", *fields],
        _rows(practice_id, recs, ids, fields),
        conflict=["patient", "source_id"],
        update=fields,
    )


def write_medications(practice_id: int, recs: Sequence[MedicationRec], ids: dict[str, int]) -> None:
    _write(Medication, practice_id, recs, ids, MEDICATION)


def write_allergies(practice_id: int, recs: Sequence[AllergyRec], ids: dict[str, int]) -> None:
    _write(Allergy, practice_id, recs, ids, ALLERGY)


def write_observations(practice_id: int, recs: Sequence[ObservationRec], ids: dict[str, int]) -> None:
    _write(Observation, practice_id, recs, ids, OBSERVATION)


def write_immunizations(practice_id: int, recs: Sequence[ImmunizationRec], ids: dict[str, int]) -> None:
    _write(Immunization, practice_id, recs, ids, IMMUNIZATION)


WRITERS = {
    "medications": write_medications,
    "allergies": write_allergies,
    "observations": write_observations,
    "immunizations": write_immunizations,
}
