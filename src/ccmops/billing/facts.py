"""Gather the facts of patient-months from the database into the rules engine's contract (many at once)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from django.db.models import Prefetch

from ccmops.careplans.models import CarePlan
from ccmops.enrollment.models import Consent, Enrollment
from ccmops.patients.models import Encounter, Patient
from ccmops.rules.calendar import month_window
from ccmops.rules.contract import PatientMonth
from ccmops.timetracking.models import TimeEntry


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
    conditions = defaultdict(list)
    for p in Patient.objects.filter(id__in=ids).prefetch_related("conditions"):
        for c in p.conditions.all():
            conditions[p.id].append(
                {
                    "code": c.code,
                    "system": c.system,
                    **({"onset": c.onset.isoformat()} if c.onset else {}),
                    **({"abated": c.abated.isoformat()} if c.abated else {}),
                }
            )
    visits = defaultdict(list)
    for e in Encounter.objects.filter(patient_id__in=ids).exclude(visit_kind=""):
        visits[e.patient_id].append(e)
    consents = defaultdict(list)
    for c in Consent.objects.filter(patient_id__in=ids).select_related("practitioner", "revocation"):
        consents[c.patient_id].append(c)
    plans = {}
    for plan in CarePlan.objects.filter(patient_id__in=ids).prefetch_related(
        Prefetch("versions"), Prefetch("versions__shares")
    ):
        approved = [v for v in plan.versions.all() if v.status == "approved"]
        if approved and (plan.patient_id not in plans or plan.program == "ccm"):
            plans[plan.patient_id] = (plan, approved)
    elsewhere = set(
        Enrollment.objects.filter(patient_id__in=ids, status="enrolled_elsewhere", program="ccm").values_list(
            "patient_id", flat=True
        )
    )
    entries = defaultdict(list)
    for e in TimeEntry.objects.filter(patient_id__in=ids, start__lt=hi, end__gt=lo).prefetch_related("segments"):
        entries[e.patient_id].append(e)
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
            "visits": [
                {
                    "date": e.start.astimezone(window.zone).date().isoformat(),
                    "kind": e.visit_kind,
                    "code": e.code,
                    "practitioner_id": f"npi-{e.practitioner_npi}",
                    "care_management_discussed": e.care_management_discussed,
                }
                for e in visits[p.id]
            ],
            "consents": [
                {
                    "program": c.program,
                    "practitioner_id": f"npi-{c.practitioner.npi}",
                    "documented_at": _iso(c.documented_at),
                    "method": c.method,
                    "elements": c.elements,
                    "revoked_at": _iso(c.revocation.revoked_at) if hasattr(c, "revocation") else None,
                }
                for c in consents[p.id]
            ],
            "care_plan": None,
            "medical_decision_making": [],
            "time_entries": [
                {
                    "id": f"te-{e.id}-{i}",
                    "start": _iso(s.start),
                    "minutes": int((s.end - s.start).total_seconds() // 60),
                    "staff_id": f"user-{e.staff_id}",
                    "staff_role": e.staff_role,
                    "employer": "practice" if e.employer_id == p.practice_id else "partner",
                    "program": e.program,
                    "located_in_us": e.located_in_us,
                    "counted_for": e.counted_for or None,
                }
                for e in entries[p.id]
                for i, s in enumerate(e.segments.all())
                if (s.end - s.start).total_seconds() >= 60
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
            plan, approved = plans[p.id]
            first = min(approved, key=lambda v: v.approved_at)
            shares = [s.shared_at for v in approved for s in v.shares.all()]
            doc["care_plan"] = {
                "kind": plan.kind,
                "established_at": _iso(first.approved_at),
                "shared_with_patient_at": _iso(min(shares)) if shares else None,
                "revisions": [
                    {"at": _iso(v.approved_at), "substantial": v.substantial_revision}
                    for v in approved
                    if v is not first
                ],
            }
        out[p.id] = PatientMonth.model_validate_json(json.dumps(doc))
    return out
