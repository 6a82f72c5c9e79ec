"""Benchmark: evaluate many patient-months in one process.

    .venv/bin/python bench/rules_bench.py [--n 100000] [--seed 7]

Prints patient-months per second for (a) parse + strict validation + evaluation, (b) evaluation of already
parsed facts, and the baseline measured in the same run: plain `json.loads` of the same documents.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ccmops.rules.contract import parse_patient_month
from ccmops.rules.engine import evaluate

ICD = [
    "I50.32",
    "J44.9",
    "E11.9",
    "I10",
    "E78.5",
    "N18.3",
    "F33.1",
    "M17.11",
    "I48.91",
    "G30.9",
    "J02.9",
    "K21.9",
]
ROLES = ["clinical_staff"] * 8 + ["billing_practitioner", "non_clinical"]


def make_document(rng: random.Random, i: int) -> str:
    month = rng.choice(["2025-03", "2025-11", "2026-02", "2026-05", "2026-10"])
    year = month[:4]
    entries = []
    for j in range(rng.randint(0, 8)):
        day = rng.randint(1, 28)
        entries.append(
            {
                "id": f"te-{i}-{j}",
                "start": f"{month}-{day:02d}T{rng.randint(8, 17):02d}:{rng.choice(['00', '15', '30', '45'])}:00-05:00",
                "minutes": rng.randint(2, 35),
                "staff_id": f"rn-{rng.randint(1, 4)}",
                "staff_role": rng.choice(ROLES),
                "employer": rng.choice(["practice", "partner"]),
                "program": "ccm",
                "located_in_us": rng.random() > 0.02,
                "counted_for": None,
            }
        )
    doc = {
        "schema": "ccmops.patient-month/1",
        "month": month,
        "practice": {
            "timezone": rng.choice(["America/Chicago", "America/Denver", "America/New_York"]),
            "setting": "office",
        },
        "billing_practitioner": {"id": "npi-1", "group_id": "npi-9", "credential": "MD"},
        "patient": {
            "id": f"pt-{i}",
            "birth_date": "1950-01-01",
            "conditions": [{"code": c, "system": "icd10cm"} for c in rng.sample(ICD, rng.randint(1, 5))],
            "qmb": rng.random() < 0.1,
            "facility_stays": [],
        },
        "visits": [
            {
                "date": f"{year}-01-10",
                "kind": "em",
                "code": "99214",
                "practitioner_id": "npi-1",
                "care_management_discussed": True,
            }
        ],
        "consents": [
            {
                "program": "ccm",
                "practitioner_id": "npi-1",
                "documented_at": f"{year}-01-10T10:00:00-05:00",
                "method": "verbal",
                "elements": ["cost_sharing", "one_practitioner_per_month", "right_to_stop"],
            }
        ],
        "care_plan": {
            "kind": "comprehensive",
            "established_at": f"{year}-01-12T10:00:00-05:00",
            "shared_with_patient_at": f"{year}-01-12T11:00:00-05:00",
            "revisions": [],
        },
        "medical_decision_making": [],
        "time_entries": entries,
        "other_services": [],
    }
    return json.dumps(doc)


def engine_rate(n: int = 20_000, seed: int = 7) -> float:
    """Patient-months per second of the pure engine (parse + strict validation + evaluate), for other benchmarks
    to report their rate against in the same run."""
    rng = random.Random(seed)
    docs = [make_document(rng, i) for i in range(n)]
    evaluate(parse_patient_month(docs[0]))
    t0 = time.perf_counter()
    for d in docs:
        evaluate(parse_patient_month(d))
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    docs = [make_document(rng, i) for i in range(args.n)]
    evaluate(parse_patient_month(docs[0]))  # warm caches (code tables, ICD-10-CM code set, zones)

    t0 = time.perf_counter()
    for d in docs:
        json.loads(d)
    baseline = time.perf_counter() - t0

    t0 = time.perf_counter()
    parsed = [parse_patient_month(d) for d in docs]
    parse_time = time.perf_counter() - t0

    t0 = time.perf_counter()
    statuses: dict[str, int] = {}
    for pm in parsed:
        decision = evaluate(pm)
        statuses[decision.status.value] = statuses.get(decision.status.value, 0) + 1
    eval_time = time.perf_counter() - t0

    n = args.n
    print(f"patient-months: {n:,}  statuses: {statuses}")
    print(f"baseline json.loads only:        {n / baseline:12,.0f} pm/s  ({baseline:6.2f} s)")
    print(f"parse + strict validation:       {n / parse_time:12,.0f} pm/s  ({parse_time:6.2f} s)")
    print(f"evaluate (parsed facts):         {n / eval_time:12,.0f} pm/s  ({eval_time:6.2f} s)")
    total = parse_time + eval_time
    print(
        f"parse + validate + evaluate:     {n / total:12,.0f} pm/s  ({total:6.2f} s)  "
        f"= {total / baseline:.1f}x the json.loads baseline"
    )


if __name__ == "__main__":
    main()
