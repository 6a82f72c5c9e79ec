"""Patient-month documents for tests: a valid, billable CCM month with everything on file, changed per test.

The default is Mrs. Example at a Chicago office practice in May 2026: three chronic conditions, seen and
consented in January, care plan established and shared, no time yet. Add time with `entry(...)`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ccmops.rules.contract import decision_to_json, parse_patient_month
from ccmops.rules.engine import evaluate

BP = "npi-1003000001"
BASE: dict[str, Any] = {
    "schema": "ccmops.patient-month/1",
    "month": "2026-05",
    "practice": {"timezone": "America/Chicago", "setting": "office"},
    "billing_practitioner": {"id": BP, "group_id": "npi-1003000099", "credential": "MD"},
    "patient": {
        "id": "pt-1",
        "birth_date": "1948-09-14",
        "conditions": [
            {"code": "I50.32", "system": "icd10cm"},
            {"code": "J44.9", "system": "icd10cm"},
            {"code": "E11.9", "system": "icd10cm"},
        ],
        "qmb": False,
        "facility_stays": [],
    },
    "visits": [
        {
            "date": "2026-01-22",
            "kind": "em",
            "code": "99214",
            "practitioner_id": BP,
            "care_management_discussed": True,
        }
    ],
    "consents": [
        {
            "program": "ccm",
            "practitioner_id": BP,
            "documented_at": "2026-01-22T15:40:00-06:00",
            "method": "verbal",
            "elements": ["cost_sharing", "one_practitioner_per_month", "right_to_stop"],
            "revoked_at": None,
        }
    ],
    "care_plan": {
        "kind": "comprehensive",
        "established_at": "2026-01-29T10:00:00-06:00",
        "shared_with_patient_at": "2026-01-29T10:30:00-06:00",
        "revisions": [],
    },
    "medical_decision_making": [],
    "time_entries": [],
    "other_services": [],
}

BHI_ELEMENTS = ["cost_sharing", "one_practitioner_per_month", "right_to_stop", "specialist_consultation"]  # R-CONS-7

_counter = [0]


def entry(
    minutes: int,
    start: str = "2026-05-06T09:00:00-05:00",
    *,
    role: str = "clinical_staff",
    program: str = "ccm",
    staff: str = "rn-1",
    employer: str = "practice",
    us: bool = True,
    counted_for: str | None = None,
    id: str | None = None,
) -> dict:
    _counter[0] += 1
    return {
        "id": id or f"te-{_counter[0]}",
        "start": start,
        "minutes": minutes,
        "staff_id": staff,
        "staff_role": role,
        "employer": employer,
        "program": program,
        "located_in_us": us,
        "counted_for": counted_for,
    }


def consent(program: str = "ccm", at: str = "2026-01-22T15:40:00-06:00", **kw) -> dict:
    return {
        "program": program,
        "practitioner_id": kw.pop("practitioner_id", BP),
        "documented_at": at,
        "method": kw.pop("method", "verbal"),
        "elements": kw.pop("elements", ["cost_sharing", "one_practitioner_per_month", "right_to_stop"]),
        "revoked_at": kw.pop("revoked_at", None),
    }


def doc(**changes) -> dict:
    """A copy of BASE; keyword `a__b=v` sets BASE['a']['b'] = v."""
    d = copy.deepcopy(BASE)
    for key, value in changes.items():
        target = d
        parts = key.split("__")
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value
    return d


def run(d: dict) -> dict:
    """Evaluate a document through the real contract parser; returns the decision JSON."""
    return decision_to_json(evaluate(parse_patient_month(json.dumps(d))))


def codes(decision: dict) -> list[tuple[str, int]]:
    return [(line["code"], line["units"]) for line in decision["lines"]]


def finding_codes(decision: dict) -> set[str]:
    return {f["code"] for f in decision["findings"]}


def finding(decision: dict, code: str) -> dict:
    return next(f for f in decision["findings"] if f["code"] == code)


def excluded(decision: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in decision["excluded_time"]:
        out[e["reason"]] = out.get(e["reason"], 0) + e["minutes"]
    return out
