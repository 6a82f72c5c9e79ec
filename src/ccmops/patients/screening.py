"""Screen a practice's registry for CCM, PCM and APCM and rank by risk. Reads in chunks, decides with the pure
rules (`ccmops.rules.eligibility`, `ccmops.rules.risk`), writes one ScreeningResult per patient."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.enrollment.models import Enrollment
from ccmops.interop.upsert import JsonText, upsert
from ccmops.organizations.models import Organization
from ccmops.patients.models import Encounter, Patient, PatientCondition, ScreeningResult
from ccmops.rules.calendar import months_before
from ccmops.rules.conditions import Classification, classify
from ccmops.rules.eligibility import PatientFacts, screen
from ccmops.rules.risk import risk

PROGRAMS = ("ccm", "pcm", "apcm")
CHUNK = 5000
COLUMNS = [
    "practice",
    "patient",
    "ccm",
    "pcm",
    "apcm",
    "reasons",
    "conditions",
    "chronic_count",
    "initiating_visit_needed",
    "last_visit",
    "risk_score",
    "risk",
    "screened_on",
]


@lru_cache(maxsize=65536)
def _reason_json(reason) -> str:
    """A reason as JSON text, made once per distinct reason (most patients share their reasons' wording)."""
    return json.dumps({"code": reason.code, "message": reason.message, "rules": list(reason.rules)})


@dataclass(frozen=True)
class ScreeningSummary:
    patients: int
    counts: dict[str, dict[str, int]]  # program -> status -> count


@lru_cache(maxsize=100_000)
def _classify(codes: tuple[tuple[str, str], ...]) -> Classification:
    return classify(list(codes))


def _chunk_facts(practice_id: int, first: int, last: int, on: dt.date):
    """The screening facts of the practice's patients with ids first..last (a range, not an IN list: the
    database walks the patient index once and no query carries thousands of parameters)."""
    span = {"practice_id": practice_id, "patient_id__gte": first, "patient_id__lte": last}
    conditions: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pid, system, code in (
        PatientCondition.objects.filter(**span)
        .filter(Q(onset__isnull=True) | Q(onset__lte=on))
        .filter(Q(abated__isnull=True) | Q(abated__gt=on))
        .values_list("patient_id", "system", "code")
    ):
        conditions[pid].append((system, code))
    year_ago = months_before(on, 12)
    visits = {
        row["patient_id"]: row
        for row in Encounter.objects.filter(**span)
        .values("patient_id")
        .annotate(
            last_visit=Max("start", filter=Q(setting="ambulatory") & ~Q(visit_kind="")),
            ed=Count("id", filter=Q(setting="emergency", start__date__gte=year_ago)),
            admits=Count("id", filter=Q(setting="inpatient", start__date__gte=year_ago)),
        )
    }
    enrollment: dict[int, dict[str, str]] = defaultdict(dict)
    for pid, program, status in Enrollment.objects.filter(**span).values_list("patient_id", "program", "status"):
        enrollment[pid][program] = status
    return conditions, visits, enrollment


def screen_practice(
    *,
    practice: Organization,
    on: dt.date | None = None,
    by=None,
    progress: Callable[[int, int], None] | None = None,
) -> ScreeningSummary:
    """Screen every patient of the practice; results replace the previous screening."""
    on = on or timezone.localdate()
    ids_all = list(Patient.objects.filter(practice=practice).order_by("id").values_list("id", flat=True))
    counts: dict[str, dict[str, int]] = {p: defaultdict(int) for p in PROGRAMS}
    done = 0
    for start in range(0, len(ids_all), CHUNK):
        ids = ids_all[start : start + CHUNK]
        conditions, visits, enrollment = _chunk_facts(practice.id, ids[0], ids[-1], on)
        results = []
        for pid, birth, deceased, payer, sex in Patient.objects.filter(
            practice=practice, id__gte=ids[0], id__lte=ids[-1]
        ).values_list("id", "birth_date", "deceased_on", "medicare_coverage", "sex"):
            classification = _classify(tuple(sorted(set(conditions.get(pid, ())))))
            v = visits.get(pid, {})
            last = v.get("last_visit")
            last_date = timezone.localtime(last).date() if last else None
            facts = PatientFacts(birth, deceased, payer, classification, last_date, enrollment.get(pid, {}))
            screens = {p: screen(facts, p, on) for p in PROGRAMS}
            for p, s in screens.items():
                counts[p][s.status] += 1
            r = risk(
                icd10_codes=list(classification.diagnosis_codes(limit=50)),
                birth_date=birth,
                sex=sex,
                dual=payer == "dual_eligible",
                ed_visits_12m=v.get("ed", 0),
                admissions_12m=v.get("admits", 0),
                chronic_count=len(classification.chronic),
                on=on,
            )
            results.append(
                (
                    practice.id,
                    pid,
                    screens["ccm"].status,
                    screens["pcm"].status,
                    screens["apcm"].status,
                    JsonText(
                        "{"
                        + ", ".join(f'"{p}": [{", ".join(map(_reason_json, s.reasons))}]' for p, s in screens.items())
                        + "}"
                    ),
                    JsonText(json.dumps(screens["ccm"].qualifying)),
                    len(classification.chronic),
                    screens["ccm"].initiating_visit_needed,
                    last_date,
                    round(r.score, 4),
                    JsonText(json.dumps(r.as_dict())),
                    on,
                )
            )
        with transaction.atomic():
            upsert(ScreeningResult, COLUMNS, results, conflict=["patient"], update=COLUMNS[2:])
        done += len(ids)
        if progress:
            progress(done, len(ids_all))
    summary = ScreeningSummary(len(ids_all), {p: dict(c) for p, c in counts.items()})
    with transaction.atomic():
        record_audit(
            action=AuditAction.UPDATE,
            user=by,
            practice_id=practice.id,
            object_type="screening",
            detail={"on": on.isoformat(), "patients": summary.patients, "counts": summary.counts},
        )
    return summary
