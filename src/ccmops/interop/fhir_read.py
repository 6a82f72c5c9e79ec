"""Read FHIR R4 Bundles (transaction, collection, batch, searchset) and Bulk Data `$export` NDJSON into records.

Every resource of a type we use is validated with `fhir.resources` (R4B models); problems name the file, the
line or bundle entry, the resource id and the field.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import gzip
import json
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ccmops.interop.fhir_clinical import ClinicalReading
from ccmops.interop.fhir_values import as_date as _date
from ccmops.interop.fhir_values import as_datetime as _as_datetime
from ccmops.interop.fhir_values import ref_id as _ref_id
from ccmops.interop.records import Batch, ConditionRec, CoverageRec, EncounterRec, PatientRec, Problem
from ccmops.patients.vocabulary import normalize_payer, payer_from_sopt, state_code
from ccmops.platform.forked import die_with_parent

SNOMED = "http://snomed.info/sct"
ICD10CM = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10-cm/")
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
USED = (
    "Patient",
    "Condition",
    "Encounter",
    "Coverage",
    "ExplanationOfBenefit",
    "Practitioner",
    *ClinicalReading.READS,
)
SETTINGS = {
    "AMB": "ambulatory",
    "EMER": "emergency",
    "IMP": "inpatient",
    "ACUTE": "inpatient",
    "HH": "other",
    "VR": "other",
    "OBSENC": "inpatient",
    "SS": "ambulatory",
    "PRENC": "other",
}
# SNOMED encounter types that are annual wellness visits or welcome-to-Medicare visits
AWV_TYPES = {"410620009", "444971000124105", "456201000124103"}
_MODELS: dict[str, type] = {}
REQUIRED_WHY = {
    ("Condition", "subject"): "the patient this condition belongs to",
    ("Encounter", "subject"): "the patient of this encounter",
    ("Encounter", "status"): "the encounter's status",
    ("Encounter", "class"): "the encounter class (AMB, EMER, IMP …)",
    ("Coverage", "beneficiary"): "the patient covered",
    ("Coverage", "status"): "the coverage status",
    ("MedicationRequest", "subject"): "the patient the medication is prescribed for",
    ("MedicationRequest", "status"): "the prescription's status (active, completed, stopped …)",
    ("MedicationRequest", "intent"): "the prescription's intent (order, plan …)",
    ("MedicationStatement", "subject"): "the patient taking the medication",
    ("MedicationStatement", "status"): "the statement's status (active, completed, stopped …)",
    ("AllergyIntolerance", "patient"): "the patient with the allergy",
    ("Observation", "status"): "the observation's status (final, amended …)",
    ("Observation", "code"): "what was observed (a LOINC code)",
    ("Immunization", "patient"): "the patient immunized",
    ("Immunization", "status"): "the immunization's status (completed …)",
    ("Immunization", "vaccineCode"): "the vaccine (a CVX code)",
    ("Immunization", "occurrenceDateTime"): "the date the vaccine was given",
    ("MedicationRequest", "medicationCodeableConcept"): "the medication (an RxNorm code and name)",
    ("MedicationStatement", "medicationCodeableConcept"): "the medication (an RxNorm code and name)",
}


def _model(resource_type: str):
    if resource_type not in _MODELS:
        _MODELS[resource_type] = get_fhir_model_class(resource_type)
    return _MODELS[resource_type]


class FhirReader(ClinicalReading):
    """Accumulates records and problems from resources, in any order; references resolve at the end."""

    def __init__(self, file_label: str):
        self.file = file_label
        self.batch = Batch()
        self._practitioner_npi: dict[str, str] = {}
        self._practitioner_name: dict[str, str] = {}  # id -> name, for the prescribers of medications
        self._raw_encounters: list[tuple[str, object]] = []

    def problem(self, where: str, field: str, message: str) -> None:
        self.batch.problems.append(Problem(self.file, where, field, message))

    def add(self, raw: object, where: str) -> None:
        if not isinstance(raw, dict) or "resourceType" not in raw:
            self.problem(where, "resourceType", "expected a FHIR resource object with a resourceType")
            return
        kind = raw["resourceType"]
        if not isinstance(kind, str) or not kind:
            self.problem(where, "resourceType", f"expected a resource type name, got {kind!r}")
            return
        self.batch.resources_read += 1
        if kind not in USED:
            self.batch.skip(kind)
            return
        label = f"{where} {kind}/{raw.get('id', '?')}"
        try:
            resource = _model(kind).model_validate(raw)
        except ValidationError as exc:
            for e in exc.errors()[:10]:
                field = ".".join(str(p) for p in e["loc"]) or kind
                msg = e["msg"].removeprefix("Value error, ")
                choices = re.findall(r"'(\w+)'", msg) if msg.startswith("Expect any of field value") else []
                if choices:  # a required choice (medication[x], occurrence[x]): name its forms
                    field = " or ".join(choices)
                    msg = "required: " + REQUIRED_WHY.get((kind, choices[0]), "one of them")
                elif e["type"] == "missing":
                    msg = "required: " + REQUIRED_WHY.get((kind, field), "the FHIR specification requires it")
                self.problem(label, field, msg)
            return
        getattr(self, f"_{kind.lower()}")(resource, label)

    def _patient(self, r, where: str) -> None:
        mrn = ""
        for ident in r.identifier or []:
            codes = {c.code for c in (ident.type.coding if ident.type and ident.type.coding else [])}
            if "MR" in codes and ident.value:
                mrn = ident.value
                break
        if not r.id and not mrn:
            self.problem(where, "identifier", "a patient needs an id or an MRN identifier to be matched on re-import")
            return
        if r.birthDate is None:
            self.problem(where, "birthDate", "required: the birth date decides Medicare age and risk")
            return
        names = r.name or []
        name = next((n for n in names if n.use == "official"), names[0] if names else None)
        given = " ".join(filter(None, name.given or [])) if name else ""  # FHIR allows nulls in arrays
        family = (name.family or "") if name else ""
        if not family and not given:
            self.problem(where, "name", "required: at least a family or given name")
            return
        deceased = _date(r.deceasedDateTime) if r.deceasedDateTime else None
        if deceased is None and r.deceasedBoolean:
            deceased = dt.date.min
        phone = next((t.value for t in r.telecom or [] if t.system == "phone" and t.value), "")
        address = (r.address or [None])[0]
        mbi = next((i.value for i in r.identifier or [] if i.system == MBI_SYSTEM and i.value), "")
        language = ""
        for c in r.communication or []:
            language = (c.language.text or (c.language.coding[0].display if c.language.coding else "")) or language
        self.batch.patients.append(
            PatientRec(
                source_id=r.id or mrn,
                mrn=mrn or r.id,
                given_name="".join(ch for ch in given if not ch.isdigit()).strip(),
                family_name="".join(ch for ch in family if not ch.isdigit()).strip(),
                birth_date=_date(r.birthDate),
                sex=r.gender or "",
                deceased_on=None if deceased == dt.date.min else deceased,
                phone=phone,
                language=language,
                address_line=" ".join(filter(None, address.line or [])) if address else "",
                city=(address.city or "") if address else "",
                state=state_code(address.state or "") if address else "",
                postal_code=(address.postalCode or "")[:10] if address else "",
                medicare_id=mbi,
            )
        )
        if deceased == dt.date.min:
            self.batch.warnings.append(f"{where}: deceased without a date; recorded as deceased on its import date")

    def _condition(self, r, where: str) -> None:
        if r.subject is None or not r.subject.reference:
            self.problem(where, "subject", "required: the patient this condition belongs to")
            return
        verification = (
            r.verificationStatus.coding[0].code if r.verificationStatus and r.verificationStatus.coding else ""
        )
        if verification in ("entered-in-error", "refuted"):
            self.batch.skip(f"Condition ({verification})")
            return
        codings = r.code.coding if r.code and r.code.coding else []
        if not codings:
            self.problem(where, "code.coding", "required: a SNOMED CT or ICD-10-CM code")
            return
        chosen = None
        for c in codings:
            if c.system in ICD10CM and c.code:
                chosen = ("icd10cm", c)
                break
            if c.system == SNOMED and c.code and chosen is None:
                chosen = ("snomed", c)
        if chosen is None:
            systems = ", ".join(sorted({c.system or "(none)" for c in codings}))
            self.problem(
                where,
                "code.coding.system",
                f"unknown code system {systems}; expected {SNOMED} or {ICD10CM[0]}",
            )
            return
        system, coding = chosen
        status = r.clinicalStatus.coding[0].code if r.clinicalStatus and r.clinicalStatus.coding else ""
        abated = _date(r.abatementDateTime) if r.abatementDateTime else None
        if abated is None and status in ("resolved", "inactive", "remission"):
            abated = _date(r.recordedDate) or _date(r.onsetDateTime) or dt.date.today()
        self.batch.conditions.append(
            ConditionRec(
                patient_ref=_ref_id(r.subject.reference),
                system=system,
                code=coding.code,
                display=coding.display or (r.code.text or ""),
                onset=_date(r.onsetDateTime) or _date(r.recordedDate),
                abated=abated,
                source_id=r.id or "",
            )
        )

    def _practitioner(self, r, where: str) -> None:
        npi = next((i.value for i in r.identifier or [] if i.system == NPI_SYSTEM and i.value), "")
        if r.id and npi:
            self._practitioner_npi[r.id] = npi
        name = r.name[0] if r.name else None
        if r.id and name is not None:
            words = [*(name.prefix or []), *(name.given or []), name.family or ""]
            self._practitioner_name[r.id] = (name.text or " ".join(w for w in words if w))[:200]

    def _encounter(self, r, where: str) -> None:
        if r.subject is None or not r.subject.reference:
            self.problem(where, "subject", "required: the patient of this encounter")
            return
        if r.period is None or r.period.start is None:
            self.problem(where, "period.start", "required: when the encounter happened")
            return
        self._raw_encounters.append((where, r))

    def _finish_encounter(self, r) -> EncounterRec:
        klass = r.class_fhir.code if r.class_fhir else ""
        setting = SETTINGS.get(klass or "", "other")
        coding = r.type[0].coding[0] if r.type and r.type[0].coding else None
        code = coding.code if coding else ""
        visit_kind = ""
        if setting == "ambulatory":
            visit_kind = "awv" if code in AWV_TYPES else "em"
        npi = ""
        for p in r.participant or []:
            ref = p.individual.reference if p.individual else ""
            if ref and "us-npi|" in ref:
                npi = ref.split("us-npi|", 1)[1]
            elif ref:
                # resolved now if the Practitioner was read already, else when all files are merged
                npi = self._practitioner_npi.get(_ref_id(ref), f"ref:{_ref_id(ref)}")
            if npi:
                break
        return EncounterRec(
            patient_ref=_ref_id(r.subject.reference),
            source_id=r.id or "",
            start=_as_datetime(r.period.start),
            end=_as_datetime(r.period.end),
            setting=setting,
            visit_kind=visit_kind,
            code=code,
            display=(coding.display if coding else "") or "",
            practitioner_npi=npi,
        )

    def _coverage(self, r, where: str) -> None:
        if r.beneficiary is None or not r.beneficiary.reference:
            self.problem(where, "beneficiary", "required: the patient covered")
            return
        if r.status in ("cancelled", "entered-in-error"):
            self.batch.warnings.append(f"{where}: coverage {r.status}; ignored")
            return
        payer = None
        for coding in (r.type.coding or []) if r.type else []:
            system = (coding.system or "").lower()
            if "sopt" in system or system.endswith("2.16.840.1.113883.3.221.5"):
                payer = payer_from_sopt(coding.code or "")
        if payer is None:
            words = [r.type.text if r.type else "", *(p.display or "" for p in r.payor or [])]
            if r.type and r.type.coding:
                words += [c.display or c.code or "" for c in r.type.coding]
            words += [f"{c.name or ''} {c.value or ''}" for c in getattr(r, "class_fhir", None) or []]
            payer = normalize_payer(" ".join(filter(None, words)))
        if payer is None:
            self.batch.warnings.append(f"{where}: no payer name or type; coverage ignored")
            return
        if payer == "unknown":
            self.batch.warnings.append(
                f"{where}: an insurer's Medicare plan (Medicare Advantage or Part D, the name does not say) is "
                "recorded as unknown coverage; its months are held until someone records the coverage on the "
                "patient's page"
            )
        self.batch.coverages.append(
            CoverageRec(
                patient_ref=_ref_id(r.beneficiary.reference),
                source_id=r.id or "",
                payer=payer,
                start=_date(r.period.start) if r.period else None,
                end=_date(r.period.end) if r.period else None,
            )
        )

    def _explanationofbenefit(self, r, where: str) -> None:
        texts = [r.insurer.display if r.insurer else ""]
        for ins in r.insurance or []:
            texts.append(ins.coverage.display if ins.coverage else "")
        for c in r.contained or []:
            if c.get_resource_type() == "Coverage" and c.type is not None:
                texts.append(c.type.text or "")
        payer = next((p for p in (normalize_payer(t) for t in texts if t) if p), None)
        if payer is None or r.patient is None:
            return
        when = _date(r.billablePeriod.start if r.billablePeriod and r.billablePeriod.start else r.created)
        self.batch.coverages.append(
            CoverageRec(patient_ref=_ref_id(r.patient.reference), source_id=f"eob:{r.id}", payer=payer, start=when)
        )

    def finish(self) -> Batch:
        self.batch.encounters.extend(self._finish_encounter(r) for _, r in self._raw_encounters)
        self._raw_encounters.clear()
        self.batch.encounters = [
            replace(e, practitioner_npi=self._practitioner_npi.get(e.practitioner_npi[4:], ""))
            if e.practitioner_npi.startswith("ref:")
            else e
            for e in self.batch.encounters
        ]
        self.finish_clinical()
        return self.batch

    def merge(self, part: Batch, practitioners: dict[str, str], names: dict[str, str]) -> None:
        """Fold in what a worker process read from a slice of a file."""
        b = self.batch
        b.patients += part.patients
        b.conditions += part.conditions
        b.encounters += part.encounters
        b.coverages += part.coverages
        for mine, theirs in zip(b.clinical, part.clinical, strict=True):
            mine += theirs
        b.problems += part.problems
        b.warnings += part.warnings
        b.resources_read += part.resources_read
        for kind, n in part.skipped.items():
            b.skipped[kind] = b.skipped.get(kind, 0) + n
        self._practitioner_npi.update(practitioners)
        self._practitioner_name.update(names)


def read_bundle_text(text: str, file_label: str) -> Batch:
    """A FHIR Bundle JSON document."""
    reader = FhirReader(file_label)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.problem(f"line {exc.lineno}, column {exc.colno}", "", f"not valid JSON: {exc.msg}")
        return reader.finish()
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        reader.problem("", "resourceType", "expected a FHIR Bundle")
        return reader.finish()
    if raw.get("type") not in ("transaction", "collection", "batch", "searchset", "document"):
        reader.problem("", "type", f"expected a transaction or collection Bundle, got {raw.get('type')!r}")
        return reader.finish()
    entries = raw.get("entry") or []
    if not isinstance(entries, list):
        reader.problem("", "entry", "expected a list of entries")
        return reader.finish()

    # Practitioners first so encounter participants resolve to NPIs whatever the entry order.
    def is_practitioner(entry: object) -> bool:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        return isinstance(resource, dict) and resource.get("resourceType") == "Practitioner"

    ordered = sorted(enumerate(entries), key=lambda ie: not is_practitioner(ie[1]))
    for i, entry in ordered:
        if not isinstance(entry, dict) or "resource" not in entry:
            reader.problem(f"entry[{i}]", "resource", "expected an entry with a resource")
            continue
        reader.add(entry["resource"], f"entry[{i}]")
    return reader.finish()


def read_ndjson_lines(
    lines: Iterable[str], file_label: str, reader: FhirReader | None = None, first_line: int = 1
) -> FhirReader:
    """Bulk Data NDJSON: one resource per line; blank lines are ignored."""
    reader = reader or FhirReader(file_label)
    previous = reader.file
    reader.file = file_label
    for lineno, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            reader.problem(f"line {lineno}, column {exc.colno}", "", f"not valid JSON: {exc.msg}")
            continue
        reader.add(raw, f"line {lineno}")
    reader.file = previous
    return reader


def _read_slice(args: tuple[str, int, list[str]]) -> tuple[Batch, dict[str, str], dict[str, str]]:
    """Worker process: validate a slice of an NDJSON file (encounters keep unresolved practitioner refs)."""
    file_label, first_line, lines = args
    reader = read_ndjson_lines(lines, file_label, first_line=first_line)
    reader.batch.encounters.extend(reader._finish_encounter(r) for _, r in reader._raw_encounters)
    return reader.batch, reader._practitioner_npi, reader._practitioner_name


PARALLEL_MIN_LINES = 20_000
SLICE = 10_000


def read_bulk(files: list[Path], label: str, *, named_by_file: bool, workers: int) -> Batch:
    """Read a Bulk export; big files are validated by `workers` processes in slices, problems keep their lines.

    The slices of every big file go through one pool with a few slices always queued, so the workers do not
    wait at a file's end for its last slice; small files are read here meanwhile. Results are merged in file
    and line order, and at most one file's lines (and the queued slices) are in memory at a time."""
    reader = FhirReader(label)
    if not files:
        reader.problem("", "", "no .ndjson files found")

    def work():  # ("slice", args) for a worker or ("here", (lines, name)) to read in this process, in order
        for f in files:
            name = f.name if named_by_file else label
            lines = list(iter_lines(f))
            if workers > 1 and len(lines) >= PARALLEL_MIN_LINES:
                for start in range(0, len(lines), SLICE):
                    yield "slice", (name, start + 1, lines[start : start + SLICE])
            else:
                yield "here", (lines, name)

    with contextlib.ExitStack() as stack:
        pool = None  # started at the first big file (starting one is costly: bench/README.md), then serves every file
        queued: collections.deque = collections.deque()

        def merge_first() -> None:
            kind, item = queued.popleft()
            if kind == "slice":
                reader.merge(*item.result())
            else:
                read_ndjson_lines(*item, reader)

        for kind, args in work():
            if kind == "slice":
                if pool is None:
                    pool = stack.enter_context(
                        ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=die_with_parent)
                    )
                queued.append(("slice", pool.submit(_read_slice, args)))
            else:
                queued.append(("here", args))
            while len(queued) > 2 * workers or (queued and queued[0][0] == "here"):
                merge_first()
        while queued:
            merge_first()
    return reader.finish()


BULK_ORDER = ("Practitioner", "Patient", "Coverage", "ExplanationOfBenefit", "Encounter", "Condition")


def bulk_files(path: Path) -> list[Path]:
    """The NDJSON files of a Bulk export directory (or the single file given), Practitioners and Patients first."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix in (".ndjson", ".jsonl") or p.name.endswith(".ndjson.gz"))

    def rank(p: Path) -> int:
        for i, name in enumerate(BULK_ORDER):
            if p.name.startswith(name):
                return i
        return len(BULK_ORDER)

    return sorted(files, key=lambda p: (rank(p), p.name))


def iter_lines(path: Path) -> Iterator[str]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            yield from fh
    else:
        with path.open(encoding="utf-8") as fh:
            yield from fh
