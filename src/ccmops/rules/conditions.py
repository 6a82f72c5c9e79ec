"""Chronic-condition classification from ICD-10-CM (CCW lists) and SNOMED CT (a small documented crosswalk).

Codes are grouped into distinct conditions (two diabetes codes are one condition). Codes that no list
covers are returned as unclassified, never dropped (R-ELIG-1, R-ELIG-3).
"""

from __future__ import annotations

import bisect
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


# R-DX-2: codes of the acute event (stroke, TIA, MI) describe the episode, not a chronic condition; later care is
# coded as sequelae (I69.3-), history (Z86.73) or old MI (I25.2). Neither qualifying nor sent on a monthly claim.
ACUTE_EPISODE_PREFIXES = ("I21", "I22", "I60", "I61", "I62", "I63", "G45", "G46")


def is_acute_episode(code: str) -> bool:
    """An acute-episode code (R-DX-2): stroke, TIA or acute MI, or a 7th character "A" (initial encounter,
    active treatment) such as M80.08XA."""
    bare = code.replace(".", "").upper()
    return bare.startswith(ACUTE_EPISODE_PREFIXES) or (len(bare) == 7 and bare[-1] == "A")


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
        import simple_icd_10_cm as cm  # only for a library layout this code does not know

        return frozenset(cm.get_all_codes(True))
    with lists[0].open(encoding="utf-8") as fh:
        return frozenset(_library_dotted(line.strip()) for line in fh if line.strip())


@lru_cache(maxsize=1)
def _headers() -> frozenset[str]:
    """The code set's items that have children: categories and subcategories, not billable (R-DX-1)."""
    out = set()
    for code in icd10_code_set():
        if "-" in code or len(code) <= 3:
            continue
        parent = code[:-1].rstrip(".")
        out.add(parent)
    return frozenset(out)


@lru_cache(maxsize=1)
def _sorted_codes() -> tuple[str, ...]:
    return tuple(sorted(c for c in icd10_code_set() if "-" not in c))


def icd10_is_billable(code: str) -> bool:
    """A complete ICD-10-CM code: in the code set and with no children (R-DX-1)."""
    dotted = _dotted(code)
    return icd10_is_valid(code) and dotted not in _headers()


def billable_children(code: str, limit: int = 6) -> tuple[str, ...]:
    """The billable codes under a header, first `limit` of them (to name in a finding)."""

    dotted = _dotted(code)
    codes = _sorted_codes()
    out = []
    i = bisect.bisect_right(codes, dotted)
    while i < len(codes) and codes[i].startswith(dotted) and len(out) < limit:
        if codes[i] not in _headers():
            out.append(codes[i])
        i += 1
    return tuple(out)


@lru_cache(maxsize=4096)
def _header_conditions(code: str) -> frozenset[str]:
    """The conditions a header's billable codes have in common (E11.4 → diabetes): what the record documents."""
    children = [c for c in billable_children(code, limit=10_000) if not is_acute_episode(c)]
    sets = [icd10_conditions(c) for c in children]
    return frozenset.intersection(*sets) if sets else icd10_conditions(code)


def code_set_release() -> str:
    """The ICD-10-CM release the code set comes from (the file simple-icd-10-cm ships), e.g. "April-2026"."""
    spec = importlib.util.find_spec("simple_icd_10_cm")
    lists = sorted(Path(spec.submodule_search_locations[0], "data").glob("code-list-*.txt")) if spec else []
    return lists[0].stem.removeprefix("code-list-") if len(lists) == 1 else "unknown"


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
    headers: tuple[str, ...] = ()  # category or subcategory codes: not billable (R-DX-1)
    acute: tuple[str, ...] = ()  # acute-episode codes: neither qualifying nor on a monthly claim (R-DX-2)

    @cached_property
    def chronic(self) -> frozenset[str]:
        """Distinct qualifying chronic conditions (synonyms across the lists merged)."""
        return frozenset(canonical(c) for code in self.codes for c in code.conditions if c not in NOT_QUALIFYING)

    def diagnosis_codes(self, limit: int = 12) -> tuple[str, ...]:
        """Claim diagnosis codes for the qualifying conditions, in input order, without repeats."""
        return self._diagnosis_codes[:limit]

    @cached_property
    def _candidate_codes(self) -> tuple[str, ...]:
        out: list[str] = []
        for code in self.codes:
            if code.claim_code and code.conditions - NOT_QUALIFYING and code.claim_code not in out:
                out.append(code.claim_code)
        return tuple(out)

    @cached_property
    def unspecified_dropped(self) -> tuple[tuple[str, str], ...]:
        """(dropped, kept) pairs: a category's unspecified code ("CAT.9…", e.g. E11.9 without complications)
        is not reported with a more specific code of the same category (E11.40) (R-DX-3)."""
        out = []
        for code in self._candidate_codes:
            category = code[:3]
            if not code.startswith(f"{category}.9"):
                continue
            specific = [c for c in self._candidate_codes if c[:3] == category and not c.startswith(f"{category}.9")]
            if specific:
                out.append((code, specific[0]))
        return tuple(out)

    @cached_property
    def _diagnosis_codes(self) -> tuple[str, ...]:
        dropped = {d for d, _ in self.unspecified_dropped}
        return tuple(c for c in self._candidate_codes if c not in dropped)

    @property
    def used_crosswalk(self) -> bool:
        return any(c.from_crosswalk and c.conditions - NOT_QUALIFYING for c in self.codes)

    @property
    def crosswalked(self) -> tuple[tuple[str, str], ...]:
        """(SNOMED code, ICD-10-CM code suggested for the claim) pairs among the claim's diagnoses (R-DX-3)."""
        return tuple(
            (c.code, c.claim_code)
            for c in self.codes
            if c.from_crosswalk and c.claim_code and c.conditions - NOT_QUALIFYING
        )


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
    headers: list[str] = []
    acute: list[str] = []
    t = table()
    for system, code in codes:
        if system == "icd10cm":
            if not icd10_is_valid(code):
                invalid.append(code)
                continue
            if not icd10_is_billable(code):
                # the condition is documented, but the code cannot go on a claim: it counts, and holds (R-DX-1)
                headers.append(_dotted(code))
                out.append(ClassifiedCode(code, system, _header_conditions(code), None, False))
                continue
            if is_acute_episode(code):
                acute.append(_dotted(code))
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
            if icd10 and (not icd10_is_billable(icd10) or is_acute_episode(icd10)):
                icd10 = None  # never a header or an acute-episode code on the claim (R-DX-1, R-DX-2)
            out.append(ClassifiedCode(code, system, frozenset({condition} if condition else ()), icd10, True))
    return Classification(tuple(out), tuple(unclassified), tuple(invalid), tuple(headers), tuple(acute))
