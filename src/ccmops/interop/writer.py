"""Write a validated Batch into a practice's registry with idempotent upserts (match on practice + MRN for
patients; patient + source id for encounters and coverage; patient + system|code|onset for conditions; patient +
first day for QMB periods)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from django.db import transaction
from django.utils import timezone

from ccmops.interop.clinical_writer import WRITERS
from ccmops.interop.records import Batch, ConditionRec, CoverageRec, EncounterRec, PatientRec, Problem, QmbRec
from ccmops.patients.models import CoverageRecord, Encounter, Patient, PatientCondition, QmbPeriod, condition_key
from ccmops.platform.upsert import upsert

CHUNK = 2000


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def resolve_patients(batch: Batch, practice_id: int, file_label: str) -> dict[str, int] | list[Problem]:
    """Map every patient reference in the batch to an existing or to-be-created patient; problems if unknown.

    References are FHIR ids (or MRNs for CSV). Patients of this batch resolve after they are written, so
    this returns the set of references that must be found in the registry already.
    """
    own = {p.source_id for p in batch.patients} | {p.mrn for p in batch.patients}
    refs = {r.patient_ref for r in (*batch.conditions, *batch.encounters, *batch.coverages)}
    refs |= {r.patient_ref for records in batch.clinical for r in records}
    outside = refs - own
    known: dict[str, int] = {}
    if outside:
        for pid, source in (
            Patient.objects.filter(practice_id=practice_id)
            .filter(source_identifier__in=outside)
            .values_list("id", "source_identifier")
        ):
            known[source] = pid
        for pid, mrn in Patient.objects.filter(practice_id=practice_id, mrn__in=outside - set(known)).values_list(
            "id", "mrn"
        ):
            known[mrn] = pid
    missing = sorted(outside - set(known))
    if missing:
        return [
            Problem(
                file_label,
                "",
                "subject",
                f"references patient {ref!r}, which is neither in this input nor in the practice's registry",
            )
            for ref in missing[:50]
        ]
    return known


def _latest_payers(batch: Batch) -> dict[str, str]:
    """Each patient reference's current payer: its most recent coverage in the whole input (whatever chunk the
    coverage records fall in)."""
    latest: dict[str, str] = {}
    for r in sorted(batch.coverages, key=lambda c: c.start or dt.date.min):
        latest[r.patient_ref] = r.payer
    return latest


def _write_patients(practice_id: int, recs: Sequence[PatientRec], payers: dict[str, str]) -> dict[str, int]:
    """Upsert the patients with their current payer (from the input's coverage, else the CSV's payer column);
    an input that names no payer, phone, language, address or MBI for a patient keeps the one on record."""
    now = timezone.now()
    columns = [
        "practice",
        "mrn",
        "source_identifier",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "deceased_on",
        "phone",
        "preferred_language",
        "medicare_coverage",
        "created_at",
        "updated_at",
        "time_zone",
        "address_line",
        "city",
        "state",
        "postal_code",
        "medicare_id",
    ]
    update = [
        "source_identifier",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "deceased_on",
        "phone",
        "preferred_language",
        "updated_at",
        "address_line",
        "city",
        "state",
        "postal_code",
        "medicare_coverage",
    ]
    if any(r.medicare_id for r in recs):
        update.append("medicare_id")
    rows = [
        (
            practice_id,
            r.mrn,
            r.source_id,
            r.given_name,
            r.family_name,
            r.birth_date,
            r.sex,
            r.deceased_on,
            r.phone,
            r.language,
            payers.get(r.source_id) or payers.get(r.mrn) or r.payer,
            now,
            now,
            "",
            r.address_line[:200],
            r.city[:100],
            r.state[:2],
            r.postal_code[:10],
            r.medicare_id[:11],
        )
        for r in recs
    ]
    written = upsert(
        Patient,
        columns,
        rows,
        conflict=["practice", "mrn"],
        update=update,
        # an input that does not say keeps what is on record (a phone a care manager corrected, say)
        keep_when_blank=[
            "medicare_coverage",
            "phone",
            "preferred_language",
            "address_line",
            "city",
            "state",
            "postal_code",
        ],
        returning=["id", "mrn", "source_identifier"],
    ).rows
    if written is None:  # written row by row: read the ids back
        written = Patient.objects.filter(practice_id=practice_id, mrn__in=[r.mrn for r in recs]).values_list(
            "id", "mrn", "source_identifier"
        )
    ids = {}
    for pid, mrn, source in written:
        ids[mrn] = pid
        ids[source] = pid
    return ids


def _write_conditions(practice_id: int, recs: Sequence[ConditionRec], ids: dict[str, int]) -> None:
    rows = {}
    for r in recs:
        pid = ids[r.patient_ref]
        key = condition_key(r.system, r.code, r.onset)
        rows[(pid, key)] = (practice_id, pid, r.system, r.code, r.display[:300], r.onset, r.abated, key)
    upsert(
        PatientCondition,
        ["practice", "patient", "system", "code", "display", "onset", "abated", "key"],
        list(rows.values()),
        conflict=["patient", "key"],
        update=["display", "abated"],
    )


def _write_encounters(practice_id: int, recs: Sequence[EncounterRec], ids: dict[str, int]) -> None:
    rows = {}
    for r in recs:
        pid = ids[r.patient_ref]
        rows[(pid, r.source_id)] = (
            practice_id,
            pid,
            r.source_id,
            r.start,
            r.end,
            r.setting,
            r.visit_kind,
            r.code,
            r.display[:300],
            r.practitioner_npi[:10],
            False,
        )
    upsert(
        Encounter,
        [
            "practice",
            "patient",
            "source_id",
            "start",
            "end",
            "setting",
            "visit_kind",
            "code",
            "display",
            "practitioner_npi",
            "care_management_discussed",
        ],
        list(rows.values()),
        conflict=["patient", "source_id"],
        update=["start", "end", "setting", "visit_kind", "code", "display", "practitioner_npi"],
    )


def _write_coverages(
    practice_id: int, recs: Sequence[CoverageRec], ids: dict[str, int], payers: dict[str, str], known: dict[str, int]
) -> None:
    """The coverage records; the current payer of a patient this input does not carry (`known`: one already in
    the registry) is set here, the input's own patients got theirs when they were written."""
    rows = {}
    for r in recs:
        pid = ids[r.patient_ref]
        rows[(pid, r.source_id)] = (practice_id, pid, r.source_id, r.payer, r.start, r.end)
    upsert(
        CoverageRecord,
        ["practice", "patient", "source_id", "payer", "start", "end"],
        list(rows.values()),
        conflict=["patient", "source_id"],
        update=["payer", "start", "end"],
    )
    by_payer: dict[str, set[int]] = {}
    for r in recs:
        if r.patient_ref in known:
            by_payer.setdefault(payers[r.patient_ref], set()).add(ids[r.patient_ref])
    for payer, pids in by_payer.items():
        for chunk in _chunks(sorted(pids), 900):
            Patient.objects.filter(id__in=chunk).update(medicare_coverage=payer)


def qmb_problems(batch: Batch, practice_id: int, file_label: str) -> list[Problem]:
    """QMB periods of the batch that overlap another period of the same patient — in the file, or recorded
    in the registry with a different first day (a period with the same first day is the same period: its end
    is updated). The import is refused with each one named, as a QMB period entered by hand would be."""
    if not batch.qmb:
        return []
    mrns = {q.patient_ref for q in batch.qmb}
    recorded: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
    for mrn, start, end in QmbPeriod.objects.filter(practice_id=practice_id, patient__mrn__in=mrns).values_list(
        "patient__mrn", "start", "end"
    ):
        recorded.setdefault(mrn, []).append((start, end))
    problems, seen = [], {}
    far = dt.date.max
    for q in batch.qmb:
        for start, end in [*recorded.get(q.patient_ref, []), *seen.get(q.patient_ref, [])]:
            if start != q.start and start <= (q.end or far) and q.start <= (end or far):
                problems.append(
                    Problem(
                        file_label,
                        q.where,
                        "qmb_from",
                        f"the QMB period from {q.start} overlaps the one from {start}"
                        + (f" to {end}" if end else " (still open)")
                        + "; end that one first, or give only the days it does not cover",
                    )
                )
                break
        seen.setdefault(q.patient_ref, []).append((q.start, q.end))
    return problems


def _write_qmb(practice_id: int, recs: Sequence[QmbRec], ids: dict[str, int]) -> None:
    """One period per patient and first day: a new one is recorded, a known one gets the file's end (and source)
    when that changed; re-importing the same file changes nothing."""
    pids = {ids[q.patient_ref] for q in recs}
    known = {(p.patient_id, p.start): p for p in QmbPeriod.objects.filter(patient_id__in=pids)}
    now = timezone.now()
    for q in recs:
        pid = ids[q.patient_ref]
        period = known.get((pid, q.start))
        if period is None:
            known[(pid, q.start)] = QmbPeriod.objects.create(
                practice_id=practice_id, patient_id=pid, start=q.start, end=q.end, source=q.source, recorded_at=now
            )
        elif period.end != q.end:
            period.end, period.source, period.recorded_at = q.end, q.source, now
            period.save(update_fields=["end", "source", "recorded_at"])


def write_batch(
    batch: Batch,
    practice_id: int,
    *,
    start_at: int = 0,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Upsert the batch, CHUNK records per transaction; `on_chunk(done)` records the checkpoint inside the
    same transaction. Records before `start_at` were written by an earlier attempt. Callers wanting all or
    nothing wrap the call in one transaction."""
    steps: list[tuple[str, Sequence]] = [
        ("patients", batch.patients),
        ("coverages", batch.coverages),
        ("encounters", batch.encounters),
        ("conditions", batch.conditions),
        ("qmb", batch.qmb),
        ("medications", batch.medications),
        ("allergies", batch.allergies),
        ("observations", batch.observations),
        ("immunizations", batch.immunizations),
    ]
    known = resolve_patients(batch, practice_id, "")
    known = known if isinstance(known, dict) else {}  # references to patients already in the registry
    payers = _latest_payers(batch)
    ids: dict[str, int] = dict(known)
    if batch.patients and start_at > 0:
        # ids of this batch's patients that an earlier attempt already wrote (a fresh run learns each chunk's
        # ids as it writes it)
        for pid, mrn, source in Patient.objects.filter(
            practice_id=practice_id, mrn__in=[p.mrn for p in batch.patients]
        ).values_list("id", "mrn", "source_identifier"):
            ids[mrn] = pid
            ids[source] = pid
    offset = 0
    for kind, items in steps:
        for chunk in _chunks(items, CHUNK):
            end = offset + len(chunk)
            if end <= start_at:
                offset = end
                continue
            skip = max(0, start_at - offset)
            part = chunk[skip:]
            with transaction.atomic():
                if kind == "patients":
                    ids.update(_write_patients(practice_id, part, payers))
                elif kind == "coverages":
                    _write_coverages(practice_id, part, ids, payers, known)
                elif kind == "encounters":
                    _write_encounters(practice_id, part, ids)
                elif kind == "qmb":
                    _write_qmb(practice_id, part, ids)
                elif kind in WRITERS:
                    WRITERS[kind](practice_id, part, ids)
                else:
                    _write_conditions(practice_id, part, ids)
                if on_chunk is not None:
                    on_chunk(end)
            offset = end
