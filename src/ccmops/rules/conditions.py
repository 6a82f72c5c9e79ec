"""Chronic-condition classification from ICD-10-CM (CCW lists) and SNOMED CT (a small documented crosswalk).

Codes are grouped into distinct conditions (two diabetes codes are one condition). Codes that no list
covers are returned as unclassified, never dropped (R-ELIG-1, R-ELIG-3).
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

DATA = resources.files("ccmops.rules") / "data" / "conditions"

# Conditions on the CCW lists that are acute events or not "expected to last at least 12 months … placing
# the patient at significant risk" (R-ELIG-1): listed, classified, but not counted toward eligibility.
NOT_QUALIFYING = frozenset(
    {
        "mi",
        "hip_fracture",
        "pneumonia",
        "cataract",
        "hepatitis_a",
        "hepatitis_e",
        "hepatitis_b_acute_or_unspecified",
        "hepatitis_c_acute",
        "tobacco_use",
    }
)

# The two lists overlap: the same clinical condition appears under several keys (CCW's "depression" already
# includes bipolar disorder; Tuva lists "depressive disorders" again). Counting them separately would make one
# diagnosis look like two conditions, so synonyms count as one (R-ELIG-1). Combination codes that really name
# two conditions (E11.22 diabetes with chronic kidney disease) still count two.
SYNONYMS = {
    "depressive_disorders": "depression",
    "bipolar_disorder": "depression",
    "opioid_use_disorder_oud": "drug_use_disorders",
    "alzheimer": "alzheimer_related",
    "non_alzheimer_dementia": "alzheimer_related",
    "schizophrenia": "schizophrenia_and_other_psychotic_disorders",
    "sickle_cell_disease": "anemia",
    "post_traumatic_stress_disorder_ptsd": "anxiety_disorders",
    "other_developmental_delays": "learning_disabilities",
    "hepatitis_b_chronic": "viral_hepatitis_general",
    "hepatitis_c_chronic": "viral_hepatitis_general",
    "hepatitis_c_unspecified": "viral_hepatitis_general",
    "hepatitis_d": "viral_hepatitis_general",
}


def canonical(condition: str) -> str:
    return SYNONYMS.get(condition, condition)


@dataclass(frozen=True)
class ConditionTable:
    names: dict[str, str]
    include: dict[str, frozenset[str]]  # code or prefix (no dot) -> conditions
    exclude: dict[str, frozenset[str]]
    snomed: dict[str, tuple[str | None, str, str]]  # code -> (condition or None, icd10cm, display)


@lru_cache(maxsize=1)
def table() -> ConditionTable:
    names: dict[str, str] = {}
    include: dict[str, set[str]] = {}
    exclude: dict[str, set[str]] = {}
    with (DATA / "icd10cm_conditions.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names[row["condition"]] = row["name"]
            target = include if row["inclusion"] == "include" else exclude
            target.setdefault(row["code"], set()).add(row["condition"])
    snomed = {}
    with (DATA / "snomed_crosswalk.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            snomed[row["snomed_code"]] = (row["condition"] or None, row["icd10cm"], row["display"])
    return ConditionTable(
        names,
        {k: frozenset(v) for k, v in include.items()},
        {k: frozenset(v) for k, v in exclude.items()},
        snomed,
    )


def _prefixes(code: str) -> list[str]:
    bare = code.replace(".", "").upper()
    return [bare[:n] for n in range(len(bare), 2, -1)]


@lru_cache(maxsize=65536)
def icd10_conditions(code: str) -> frozenset[str]:
    """Conditions an ICD-10-CM code belongs to (exact code or a listed category prefix, less exclusions)."""
    t = table()
    found: set[str] = set()
    excluded: set[str] = set()
    for prefix in _prefixes(code):
        found |= t.include.get(prefix, frozenset())
        excluded |= t.exclude.get(prefix, frozenset())
    return frozenset(found - excluded)


@lru_cache(maxsize=1)
def icd10_code_set() -> frozenset[str]:
    """Every ICD-10-CM item (chapter, block, category, code) as simple-icd-10-cm lists it, in its dotted form.

    Read from the code list the library ships (`data/code-list-<release>.txt`, found without importing it) —
    about 50 ms, where importing the library parses its whole tabular XML (1.5–4 s) before answering.
    `tests/rules/test_conditions.py` holds this set and `icd10_is_valid` equal to the library's own answers.
    """
    spec = importlib.util.find_spec("simple_icd_10_cm")
    lists = sorted(Path(spec.submodule_search_locations[0], "data").glob("code-list-*.txt")) if spec else []
    if len(lists) != 1:  # a layout this code does not know: ask the library itself
        import simple_icd_10_cm as cm

        return frozenset(cm.get_all_codes(True))
    with lists[0].open(encoding="utf-8") as fh:
        return frozenset(_library_dotted(line.strip()) for line in fh if line.strip())


def _library_dotted(code: str) -> str:
    """The library's key for an item of its list: a dot after the category for codes longer than three."""
    return code if len(code) <= 3 or "-" in code else f"{code[:3]}.{code[3:]}"


@lru_cache(maxsize=65536)
def icd10_is_valid(code: str) -> bool:
    """An item of the ICD-10-CM code set, with or without its dot (simple-icd-10-cm's `is_valid_item`)."""
    known = icd10_code_set()

    def item(c: str) -> bool:
        return c in known or (len(c) >= 4 and f"{c[:3]}.{c[3:]}" in known)

    return item(code) or item(code.replace(".", ""))


@dataclass(frozen=True)
class ClassifiedCode:
    code: str
    system: str
    conditions: frozenset[str]
    claim_code: str | None  # ICD-10-CM code usable on a claim
    from_crosswalk: bool


@dataclass(frozen=True)
class Classification:
    codes: tuple[ClassifiedCode, ...]
    unclassified: tuple[str, ...]  # "system:code" for codes no table knows
    invalid: tuple[str, ...]  # ICD-10-CM codes not in the code set

    @cached_property
    def chronic(self) -> frozenset[str]:
        """Distinct qualifying chronic conditions (synonyms across the lists merged)."""
        return frozenset(canonical(c) for code in self.codes for c in code.conditions if c not in NOT_QUALIFYING)

    def diagnosis_codes(self, limit: int = 12) -> tuple[str, ...]:
        """Claim diagnosis codes for the qualifying conditions, in input order, without repeats."""
        return self._diagnosis_codes[:limit]

    @cached_property
    def _diagnosis_codes(self) -> tuple[str, ...]:
        out: list[str] = []
        for code in self.codes:
            if code.claim_code and code.conditions - NOT_QUALIFYING and code.claim_code not in out:
                out.append(code.claim_code)
        return tuple(out)

    @property
    def used_crosswalk(self) -> bool:
        return any(c.from_crosswalk and c.conditions - NOT_QUALIFYING for c in self.codes)


def condition_name(key: str) -> str:
    return table().names.get(key, key)


def _dotted(code: str) -> str:
    bare = code.replace(".", "").upper()
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def classify(codes: list[tuple[str, str]]) -> Classification:
    """Classify (system, code) pairs; `system` is `icd10cm` or `snomed`."""
    out: list[ClassifiedCode] = []
    unclassified: list[str] = []
    invalid: list[str] = []
    t = table()
    for system, code in codes:
        if system == "icd10cm":
            if not icd10_is_valid(code):
                invalid.append(code)
                continue
            conditions = icd10_conditions(code)
            out.append(ClassifiedCode(code, system, conditions, _dotted(code), False))
            if not conditions:
                unclassified.append(f"icd10cm:{code}")
        else:
            entry = t.snomed.get(code)
            if entry is None:
                unclassified.append(f"snomed:{code}")
                continue
            condition, icd10, _display = entry
            out.append(ClassifiedCode(code, system, frozenset({condition} if condition else ()), icd10, True))
    return Classification(tuple(out), tuple(unclassified), tuple(invalid))
