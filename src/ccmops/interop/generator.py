"""A synthetic population as Bulk FHIR NDJSON (Patient, Condition, Encounter, Coverage) for tests, demos and
benchmarks: ages, payers and chronic-condition prevalence roughly like a Medicare primary-care panel,
ICD-10-CM coded, deterministic by seed."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ccmops.patients.vocabulary import MBI_LETTERS

# (condition, prevalence at 65+, ICD-10-CM codes). Prevalence roughly follows CMS chronic-condition
# dashboards for Medicare FFS beneficiaries; under 65 it is scaled by UNDER_65_FACTOR.
CONDITIONS = (
    ("hypertension", 0.58, ("I10", "I11.9", "I12.9", "I13.10")),
    ("hyperlipidemia", 0.47, ("E78.5", "E78.00", "E78.2", "E78.49")),
    ("arthritis", 0.33, ("M17.11", "M17.0", "M16.9", "M19.90", "M06.9")),
    ("ischemic_heart", 0.27, ("I25.10", "I25.119", "I20.9")),
    ("diabetes", 0.27, ("E11.9", "E11.65", "E11.22", "E11.40", "E11.51")),
    ("ckd", 0.23, ("N18.30", "N18.31", "N18.4", "N18.9")),
    ("hypothyroid", 0.20, ("E03.9", "E03.8")),
    ("anemia", 0.18, ("D64.9", "D63.1", "D50.9")),
    ("depression", 0.18, ("F32.9", "F33.1", "F32.A")),
    ("heart_failure", 0.13, ("I50.9", "I50.32", "I50.22", "I50.42")),
    ("copd", 0.11, ("J44.9", "J44.1", "J43.9")),
    ("dementia", 0.11, ("G30.9", "F03.90", "G31.84")),
    ("atrial_fib", 0.09, ("I48.91", "I48.0", "I48.20")),
    ("asthma", 0.08, ("J45.909", "J45.40")),
    ("osteoporosis", 0.07, ("M81.0", "M80.08XA")),
    ("cancer", 0.08, ("C61", "C50.911", "C18.9", "C34.90")),
    ("stroke", 0.04, ("I63.9", "I69.351")),
    ("acute", 0.30, ("J06.9", "J02.9", "S93.401A", "J20.9")),  # acute problems, not chronic
)
UNDER_65_FACTOR = 0.4
AMBULATORY = ("185349003", "Encounter for check up")
EMERGENCY = ("50849002", "Emergency room admission")
INPATIENT = ("32485007", "Hospital admission")


@dataclass(frozen=True)
class GeneratedCounts:
    patients: int
    conditions: int
    encounters: int
    coverages: int

    @property
    def resources(self) -> int:
        return self.patients + self.conditions + self.encounters + self.coverages


def _patient(rng: random.Random, seed: int, i: int, as_of: dt.date) -> tuple[dict, int, str]:
    senior = rng.random() < 0.8
    age = int(65 + rng.expovariate(1 / 9)) if senior else rng.randint(40, 64)
    age = min(age, 102)
    birth = as_of - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    sex = rng.choice(("female", "male"))
    pid = f"gen-{seed}-{i}"
    resource = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "urn:ccmops:generated",
                "value": f"G{seed}-{i:07d}",
            }
        ],
        "name": [{"use": "official", "family": rng.choice(_FAMILY), "given": [rng.choice(_GIVEN[sex])]}],
        "gender": sex,
        "birthDate": birth.isoformat(),
        "telecom": [{"system": "phone", "value": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"}],
    }
    if rng.random() < 0.01:
        resource["deceasedDateTime"] = (as_of - dt.timedelta(days=rng.randint(1, 700))).isoformat()
    if senior:
        payer = rng.choices(("medicare", "dual_eligible", "private"), (0.78, 0.12, 0.10))[0]
    else:
        payer = rng.choices(("private", "medicaid", "medicare"), (0.75, 0.15, 0.10))[0]
    # Address and MBI come from the patient's own stream, so every other draw of a seed's population is as it was
    # before they were added; a claim needs both (837P loop 2010BA).
    own = random.Random(f"{seed}:{i}")  # noqa: S311 - reproducible synthetic data, not security
    town, state, zip_code = own.choice(_TOWNS)
    resource["address"] = [
        {
            "use": "home",
            "line": [f"{own.randint(10, 9899)} {own.choice(_STREETS)}"],
            "city": town,
            "state": state,
            "postalCode": zip_code,
        }
    ]
    if payer in ("medicare", "dual_eligible"):
        resource["identifier"].append({"system": "http://hl7.org/fhir/sid/us-mbi", "value": synthetic_mbi(own)})
    return resource, age, payer


def synthetic_mbi(rng: random.Random) -> str:
    """A made-up Medicare Beneficiary Identifier in CMS's format (C A AN N A AN N A A N N), for synthetic
    patients (generated populations, the demo)."""
    alnum = MBI_LETTERS + "0123456789"
    digit = "0123456789"
    parts = ("123456789", MBI_LETTERS, alnum, digit, MBI_LETTERS, alnum, digit, MBI_LETTERS, MBI_LETTERS)
    return "".join(rng.choice(p) for p in (*parts, digit, digit))


_TOWNS = (  # (city, state, ZIP) around the demo practices
    ("Springfield", "IL", "62704"),
    ("Chatham", "IL", "62629"),
    ("Rochester", "IL", "62563"),
    ("Sherman", "IL", "62684"),
    ("Petersburg", "IL", "62675"),
    ("Jacksonville", "IL", "62650"),
)
_STREETS = ("Oak St", "Maple Ave", "Walnut St", "Lincoln Ave", "Washington St", "Park Rd", "Cedar Ln", "Elm St")


_FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
)
_GIVEN = {
    "female": ("Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan", "Dorothy"),
    "male": ("James", "Robert", "John", "Michael", "William", "David", "Richard", "Joseph", "Charles"),
}


def generate_population(
    out: Path, *, patients: int, seed: int = 1, as_of: dt.date = dt.date(2026, 11, 1), npis: tuple[str, ...] = ()
) -> GeneratedCounts:
    """Write Patient.ndjson, Coverage.ndjson, Encounter.ndjson and Condition.ndjson into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    n_cond = n_enc = n_cov = 0
    with (
        (out / "Patient.ndjson").open("w") as fp,
        (out / "Condition.ndjson").open("w") as fc,
        (out / "Encounter.ndjson").open("w") as fe,
        (out / "Coverage.ndjson").open("w") as fv,
    ):
        for i in range(patients):
            patient, age, payer = _patient(rng, seed, i, as_of)
            pid = patient["id"]
            ref = {"reference": f"Patient/{pid}"}
            fp.write(json.dumps(patient, separators=(",", ":")) + "\n")
            fv.write(
                json.dumps(
                    {
                        "resourceType": "Coverage",
                        "id": f"{pid}-cov",
                        "status": "active",
                        "beneficiary": ref,
                        "type": {"text": payer},
                        "payor": [{"display": payer}],
                        "period": {"start": (as_of - dt.timedelta(days=rng.randint(30, 3000))).isoformat()},
                    },
                    separators=(",", ":"),
                )
                + "\n"
            )
            n_cov += 1
            factor = 1.0 if age >= 65 else UNDER_65_FACTOR
            k = 0
            for name, prevalence, codes in CONDITIONS:
                if rng.random() < prevalence * (1.0 if name == "acute" else factor):
                    onset = as_of - dt.timedelta(days=rng.randint(30, 15 * 365))
                    condition = {
                        "resourceType": "Condition",
                        "id": f"{pid}-c{k}",
                        "subject": ref,
                        "clinicalStatus": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                    "code": "resolved" if name == "acute" else "active",
                                }
                            ]
                        },
                        "code": {
                            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": rng.choice(codes)}]
                        },
                        "onsetDateTime": onset.isoformat(),
                    }
                    if name == "acute":
                        condition["abatementDateTime"] = (onset + dt.timedelta(days=14)).isoformat()
                    fc.write(json.dumps(condition, separators=(",", ":")) + "\n")
                    k += 1
            n_cond += k
            visits = [(AMBULATORY, "AMB")] * rng.randint(0, 5)
            if rng.random() < 0.15 * factor:
                visits += [(EMERGENCY, "EMER")] * rng.randint(1, 2)
            if rng.random() < 0.08 * factor:
                visits.append((INPATIENT, "IMP"))
            for j, ((code, display), klass) in enumerate(visits):
                start = dt.datetime.combine(
                    as_of - dt.timedelta(days=rng.randint(1, 730)), dt.time(14, 0), tzinfo=dt.UTC
                )
                encounter = {
                    "resourceType": "Encounter",
                    "id": f"{pid}-e{j}",
                    "status": "finished",
                    "subject": ref,
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
                    "type": [{"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]}],
                    "period": {"start": start.isoformat(), "end": (start + dt.timedelta(minutes=30)).isoformat()},
                }
                if npis and klass == "AMB":
                    encounter["participant"] = [
                        {
                            "individual": {
                                "reference": f"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|{rng.choice(npis)}"
                            }
                        }
                    ]
                fe.write(json.dumps(encounter, separators=(",", ":")) + "\n")
                n_enc += 1
    return GeneratedCounts(patients, n_cond, n_enc, n_cov)
