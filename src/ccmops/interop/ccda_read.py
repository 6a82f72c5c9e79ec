"""C-CDA documents (CCD, Progress Note, Discharge Summary … the format most EHRs export) read through
`ccda-to-fhir` (NurraHealth, MIT: it implements HL7's C-CDA on FHIR mapping and fails loudly on what it cannot
map) into a FHIR Bundle, then through the same FHIR reader as any Bundle: problems, medications, allergies,
results, vital signs, immunizations, encounters and coverage land where a FHIR import puts them.

What the converter could not map (an allergy without its allergen, a supply without a medication code …) is not
silently dropped: each of its warnings is in the import report."""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid

from ccmops.interop.fhir_read import read_bundle_text
from ccmops.interop.records import Batch, Problem

CONVERTER_LOGGER = "ccda_to_fhir"
SSN = ("http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1")
MR_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
IDS = uuid.UUID("6c1f0a52-6f3e-4f5b-9a0e-2d7c3c1a9b41")  # the namespace of ccmops's ids for converted resources
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _stable(bundle: dict) -> tuple[str, str]:
    """The converted Bundle as JSON with ids that are the same every time the same document is converted (the
    converter draws new random ids each time, so a re-import would duplicate everything), and the patient's
    MRN marked: the document's first patient identifier that is not a Social Security number. A problem instead
    when the patient has no such identifier (ccmops matches patients on their MRN and never keeps an SSN)."""
    resources = [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
    random_ids = {r["id"] for r in resources if isinstance(r.get("id"), str)}
    for r in resources:
        if r.get("resourceType") != "Patient":
            continue
        ids = [i for i in r.get("identifier") or [] if i.get("value") and i.get("system") not in SSN]
        if not ids:
            return "", (
                "the patient has no identifier but a Social Security number; ccmops matches patients on the EHR's "
                "patient identifier (MRN): export the document with it in recordTarget/patientRole/id"
            )
        if not any("MR" in {c.get("code") for c in (i.get("type") or {}).get("coding", [])} for i in ids):
            ids[0]["type"] = MR_TYPE
        r["identifier"] = [i for i in r.get("identifier") or [] if i.get("system") not in SSN]  # never kept
    seen: dict[str, int] = {}
    renamed = {}
    for r in resources:
        if not isinstance(r.get("id"), str):
            continue
        content = _UUID.sub("·", json.dumps({k: v for k, v in r.items() if k != "id"}, sort_keys=True))
        n = seen[content] = seen.get(content, 0) + 1
        renamed[r["id"]] = str(uuid.uuid5(IDS, f"{content}#{n}"))
    text = json.dumps(bundle)
    return _UUID.sub(
        lambda m: renamed.get(m.group(0), m.group(0)) if m.group(0) in random_ids else m.group(0), text
    ), ""


class _Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().splitlines()[0] if record.getMessage() else ""
        if record.exc_info and record.exc_info[1] is not None:
            text = f"{text}: {record.exc_info[1]}".strip(": ")
        if text and text not in self.messages:
            self.messages.append(text)


@functools.cache
def _converter():
    """`ccda_to_fhir.convert_document`, its module loggers made to pass their records up to ours: the library
    gives each of its loggers a handler printing INFO lines to standard output (it would write into the CLI's
    output and the server's), so that handler is not added, and those already added are taken off."""
    from ccda_to_fhir import logging_config  # loaded only for C-CDA imports, as below

    logging_config.ConversionLogger._setup_default_handler = lambda self: None
    from ccda_to_fhir import convert_document  # imported here: lxml and its models load only for C-CDA imports

    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith(CONVERTER_LOGGER) and isinstance(logger, logging.Logger) and name != CONVERTER_LOGGER:
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
    return convert_document


def read_ccda_text(text: str, file_label: str) -> Batch:
    """A C-CDA XML document; a document the converter rejects is one problem naming why."""
    convert_document = _converter()
    logger = logging.getLogger(CONVERTER_LOGGER)
    collected = _Collected()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(collected)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # its tracebacks belong in the import report, not in the server's log
    try:
        result = convert_document(text)
    except Exception as exc:  # noqa: BLE001 — the converter raises many kinds; each is a reason to refuse the file
        batch = Batch()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        batch.problems.append(
            Problem(file_label, "", "ClinicalDocument", f"not a C-CDA document ccmops can read: {message}")
        )
        return batch
    finally:
        logger.removeHandler(collected)
        logger.setLevel(level)
        logger.propagate = propagate
    bundle, problem = _stable(result["bundle"])
    if problem:
        batch = Batch()
        batch.problems.append(Problem(file_label, "recordTarget/patientRole", "id", problem))
        return batch
    batch = read_bundle_text(bundle, file_label)
    batch.warnings += [f"{file_label}: the C-CDA converter says: {m}" for m in collected.messages]
    return batch
