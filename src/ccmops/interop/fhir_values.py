"""Small readings of FHIR values shared by the readers: references, dates, instants, codings (pure)."""

from __future__ import annotations

import datetime as dt

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CVX = "http://hl7.org/fhir/sid/cvx"
SYSTEM_NAMES = {RXNORM: "rxnorm", NDC: "ndc", SNOMED: "snomed", LOINC: "loinc", CVX: "cvx"}


def ref_id(reference: str | None) -> str:
    """`urn:uuid:X`, `Patient/X` or a full URL → `X`."""
    if not reference:
        return ""
    if reference.startswith("urn:uuid:"):
        return reference[9:]
    return reference.rstrip("/").rsplit("/", 1)[-1]


def as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if len(text) == 4:  # a FHIR date may be a year alone, or a year and month: their first day
        return dt.date(int(text), 1, 1)
    if len(text) == 7:
        return dt.date(int(text[:4]), int(text[5:7]), 1)
    return dt.date.fromisoformat(text[:10])


def as_datetime(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    d = as_date(value)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) if d else None


def coded(concept, prefer: str = "") -> tuple[str, str, str]:
    """(system name, code, display) of a CodeableConcept: the coding of the `prefer`red system if there is one,
    else the first coding; the concept's text when no coding has a display. ("", "", "") for none."""
    if concept is None:
        return "", "", ""
    codings = list(concept.coding or [])
    coding = next((c for c in codings if c.system == prefer), codings[0] if codings else None)
    display = (coding.display if coding else "") or concept.text or ""
    if coding is None:
        return "", "", display
    return SYSTEM_NAMES.get(coding.system or "", "other"), coding.code or "", display or coding.code or ""
