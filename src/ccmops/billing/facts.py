"""Gather the facts of patient-months from the database into the rules engine's contract (many at once)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from ccmops.careplans.models import CarePlanShare, CarePlanVersion
from ccmops.enrollment.models import Consent, Enrollment
from ccmops.patients.models import Encounter, Patient, PatientCondition
from ccmops.rules.calendar import month_window
from ccmops.rules.contract import PatientMonth
from ccmops.timetracking.models import TimeEntrySegment


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat()


def patient_months(patients: list[Patient], month: str) -> dict[int, PatientMonth]:
    """Contract facts for each patient's month (billing practitioner = the patient's). Patients without a
    billing practitioner are left out."""
    patients = [p for p in patients if p.billing_practitioner_id]
    if not patients:
        return {}
    ids = [p.id for p in patients]
    practice = patients[0].practice
    window = month_window(month, practice.time_zone)
    lo, hi = window.start - dt.timedelta(days=1), window.end + dt.timedelta(days=1)
    # Flat rows, not model instances: a close reads these for every patient of the month. Each query keeps
    # its model's default ordering, so a month's facts (and their hash) are the same however they are read.
    conditions = defaultdict(list)
    for patient_id, code, system, onset, abated in PatientCondition.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "code", "system", "onset", "abated"
    ):
        conditions[patient_id].append(
            {
                "code": code,
                "system": system,
                **({"onset": onset.isoformat()} if onset else {}),
                **({"abated": abated.isoformat()} if abated else {}),
            }
        )
    visits = defaultdict(list)
    for patient_id, start, kind, code, npi, discussed in (
        Encounter.objects.filter(patient_id__in=ids)
        .exclude(visit_kind="")
        .values_list("patient_id", "start", "visit_kind", "code", "practitioner_npi", "care_management_discussed")
    ):
        visits[patient_id].append(
            {
                "date": start.astimezone(window.zone).date().isoformat(),
                "kind": kind,
                "code": code,
                "practitioner_id": f"npi-{npi}",
                "care_management_discussed": discussed,
            }
        )
    consents = defaultdict(list)
    for patient_id, program, npi, documented_at, method, elements, revoked_at in Consent.objects.filter(
        patient_id__in=ids
    ).values_list(
        "patient_id", "program", "practitioner__npi", "documented_at", "method", "elements", "revocation__revoked_at"
    ):
        consents[patient_id].append(
            {
                "program": program,
                "practitioner_id": f"npi-{npi}",
                "documented_at": _iso(documented_at),
                "method": method,
                "elements": elements,
                "revoked_at": _iso(revoked_at) if revoked_at else None,
            }
        )
    approved = defaultdict(list)  # care plan -> its approved versions, in number order
    plan_of = {}  # care plan -> (patient, program, kind), in plan id order
    for version_id, plan_id, approved_at, substantial, patient_id, program, kind in (
        CarePlanVersion.objects.filter(care_plan__patient_id__in=ids, status="approved")
        .order_by("care_plan_id", "number")
        .values_list(
            "id",
            "care_plan_id",
            "approved_at",
            "substantial_revision",
            "care_plan__patient_id",
            "care_plan__program",
            "care_plan__kind",
        )
    ):
        approved[plan_id].append((version_id, approved_at, substantial))
        plan_of[plan_id] = (patient_id, program, kind)
    shared = defaultdict(list)
    for version_id, shared_at in CarePlanShare.objects.filter(
        version__care_plan__patient_id__in=ids, version__status="approved"
    ).values_list("version_id", "shared_at"):
        shared[version_id].append(shared_at)
    plans = {}  # patient -> (plan kind, approved versions): the CCM plan, else the first other one approved
    for plan_id, (patient_id, program, kind) in plan_of.items():
        if patient_id not in plans or program == "ccm":
            plans[patient_id] = (kind, approved[plan_id])
    elsewhere = set(
        Enrollment.objects.filter(patient_id__in=ids, status="enrolled_elsewhere", program="ccm").values_list(
            "patient_id", flat=True
        )
    )
    # Entries of the window with their segments, one row per segment: entries newest first (the model's
    # order), each entry's segments in time order.
    segments = defaultdict(list)
    entries = defaultdict(list)
    for *e, start, end in (
        TimeEntrySegment.objects.filter(entry__patient_id__in=ids, entry__start__lt=hi, entry__end__gt=lo)
        .order_by("-entry__start", "entry_id", "start")
        .values_list(
            "entry_id",
            "entry__patient_id",
            "entry__staff_id",
            "entry__staff_role",
            "entry__employer_id",
            "entry__program",
            "entry__located_in_us",
            "entry__counted_for",
            "start",
            "end",
        )
    ):
        if e[0] not in segments:
            entries[e[1]].append(tuple(e))
        segments[e[0]].append((start, end))
    out = {}
    for p in patients:
        npi_id = f"npi-{p.billing_practitioner.npi}"
        doc = {
            "schema": "ccmops.patient-month/1",
            "month": month,
            "practice": {
                "timezone": practice.time_zone,
                "setting": "facility" if practice.place_of_service in ("19", "21", "22") else "office",
            },
            "billing_practitioner": {
                "id": npi_id,
                "group_id": f"npi-{practice.npi or practice.id}",
                "credential": p.billing_practitioner.credential,
            },
            "patient": {
                "id": str(p.id),
                "birth_date": p.birth_date.isoformat(),
                "conditions": conditions[p.id],
                "qmb": False,
                "facility_stays": [],
            },
            "visits": visits[p.id],
            "consents": consents[p.id],
            "care_plan": None,
            "medical_decision_making": [],
            "time_entries": [
                {
                    "id": f"te-{entry_id}-{i}",
                    "start": _iso(start),
                    "minutes": int((end - start).total_seconds() // 60),
                    "staff_id": f"user-{staff_id}",
                    "staff_role": role,
                    "employer": "practice" if employer_id == p.practice_id else "partner",
                    "program": program,
                    "located_in_us": in_us,
                    "counted_for": counted_for or None,
                }
                for entry_id, _, staff_id, role, employer_id, program, in_us, counted_for in entries[p.id]
                for i, (start, end) in enumerate(segments[entry_id])
                if (end - start).total_seconds() >= 60
            ],
            # "Enrolled elsewhere" means another practitioner is known to furnish CCM this month: the engine
            # holds the month for review (one CCM payee per patient-month).
            "other_services": [
                {
                    "code": "99490",
                    "practitioner_id": "npi-unknown-elsewhere",
                    "same_group": False,
                    "date": window.first_day.isoformat(),
                }
            ]
            if p.id in elsewhere
            else [],
        }
        if p.id in plans:
            kind, versions = plans[p.id]
            first = min(versions, key=lambda v: v[1])
            shares = [at for v in versions for at in shared[v[0]]]
            doc["care_plan"] = {
                "kind": kind,
                "established_at": _iso(first[1]),
                "shared_with_patient_at": _iso(min(shares)) if shares else None,
                "revisions": [{"at": _iso(v[1]), "substantial": v[2]} for v in versions if v is not first],
            }
        out[p.id] = PatientMonth.model_validate_json(json.dumps(doc))
    return out
