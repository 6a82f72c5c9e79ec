"""Screen a practice's registry for CCM, PCM and APCM and rank by risk. Reads in chunks, decides with the pure
rules (`ccmops.rules.eligibility`, `ccmops.rules.risk`), writes one ScreeningResult per patient."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import zoneinfo
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
from ccmops.organizations.models import Organization
from ccmops.patients.models import Encounter, Patient, PatientCondition, ScreeningResult, ScreeningRun
from ccmops.platform.collector import collector_paused
from ccmops.platform.forked import can_fork, forked_pool, in_worker
from ccmops.platform.upsert import JsonText, upsert
from ccmops.rules.calendar import months_before
from ccmops.rules.conditions import Classification, classify
from ccmops.rules.eligibility import PatientFacts, screen
from ccmops.rules.risk import Risk, risk

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
    "decided_on",
    "fingerprint",
]
SAME_RESULT = COLUMNS[2:-2]  # a patient whose result is the same in all of these keeps the stored row


def _fingerprint(decided: tuple) -> str:
    """A hash of a result's decided values (SAME_RESULT, as written): a rescreen compares it with the stored one
    instead of sending every result for the database to compare."""
    return hashlib.blake2b("\x1f".join(map(str, decided)).encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=65536)
def _reason_json(reason) -> str:
    """A reason as JSON text, made once per distinct reason (most patients share their reasons' wording)."""
    return json.dumps({"code": reason.code, "message": reason.message, "rules": list(reason.rules)})


@lru_cache(maxsize=65536)
def _reasons_json(ccm: tuple, pcm: tuple, apcm: tuple) -> JsonText:
    """The three programs' reasons as one JSON object, made once per distinct combination (a registry has few)."""
    return JsonText(
        '{"ccm": ['
        + ", ".join(map(_reason_json, ccm))
        + '], "pcm": ['
        + ", ".join(map(_reason_json, pcm))
        + '], "apcm": ['
        + ", ".join(map(_reason_json, apcm))
        + "]}"
    )


@lru_cache(maxsize=8192)
def _names_json(names: tuple[str, ...]) -> JsonText:
    """Qualifying condition names as JSON text, made once per distinct set."""
    return JsonText(json.dumps(names))


@lru_cache(maxsize=65536)
def _risk_json(r: Risk) -> JsonText:
    """A risk breakdown as JSON text, made once per distinct breakdown (scores repeat across a population)."""
    return JsonText(json.dumps(r.as_dict()))


@dataclass(frozen=True)
class ScreeningSummary:
    patients: int
    counts: dict[str, dict[str, int]]  # program -> status -> count
    processes: int = 1  # how many processes screened
    changed: int = 0  # results new or different from the stored ones (the others were left untouched)


def _warm_tables() -> None:
    """Load the code tables the screening reads (CCW lists, ICD-10-CM, HCC mappings) before forking."""
    classify([("icd10cm", "E11.9")])
    risk(
        icd10_codes=["E11.9"],
        birth_date=dt.date(1950, 1, 1),
        sex="female",
        dual=False,
        ed_visits_12m=0,
        admissions_12m=0,
        chronic_count=1,
        on=dt.date(2026, 1, 1),
    )


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
    visits = {  # patient -> (last ambulatory visit, ED visits and admissions in the last 12 months)
        pid: rest
        for pid, *rest in Encounter.objects.filter(**span)
        .values_list("patient_id")
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


def _screen_range(
    practice_id: int, first: int, last: int, on: dt.date, zone_name: str
) -> tuple[dict[str, dict[str, int]], int]:
    """Screen the practice's patients with ids first..last and store their results (one transaction): a result
    that comes out as stored is not rewritten. Returns the counts per program and status, and how many results
    were new or changed. Visit dates are the practice's (`zone_name`), whoever screens from wherever."""
    zone = zoneinfo.ZoneInfo(zone_name)
    with timezone.override(zone), collector_paused():  # the database's __date lookups too
        return _screen_range_in(practice_id, first, last, on, zone)


def _screen_range_in(
    practice_id: int, first: int, last: int, on: dt.date, zone: dt.tzinfo
) -> tuple[dict[str, dict[str, int]], int]:
    counts: dict[str, dict[str, int]] = {p: defaultdict(int) for p in PROGRAMS}
    conditions, visits, enrollment = _chunk_facts(practice_id, first, last, on)
    results = []
    no_visits = (None, 0, 0)
    tally = [counts[p] for p in PROGRAMS]  # in PROGRAMS order, as `screens`
    for pid, birth, deceased, payer, sex in Patient.objects.filter(
        practice_id=practice_id, id__gte=first, id__lte=last
    ).values_list("id", "birth_date", "deceased_on", "medicare_coverage", "sex"):
        classification = _classify(tuple(sorted(set(conditions.get(pid, ())))))
        seen, ed, admits = visits.get(pid, no_visits)
        last_date = seen.astimezone(zone).date() if seen else None
        facts = PatientFacts(birth, deceased, payer, classification, last_date, enrollment.get(pid, {}))
        screens = [screen(facts, p, on) for p in PROGRAMS]
        for by_status, s in zip(tally, screens, strict=True):
            by_status[s.status] += 1
        ccm, pcm, apcm = screens
        chronic_count = len(classification.chronic)
        r = risk(
            icd10_codes=classification.diagnosis_codes(limit=50),
            birth_date=birth,
            sex=sex,
            dual=payer == "dual_eligible",
            ed_visits_12m=ed,
            admissions_12m=admits,
            chronic_count=chronic_count,
            on=on,
        )
        decided = (
            ccm.status,
            pcm.status,
            apcm.status,
            _reasons_json(ccm.reasons, pcm.reasons, apcm.reasons),
            _names_json(ccm.qualifying),
            chronic_count,
            ccm.initiating_visit_needed,
            last_date,
            round(r.score, 4),
            _risk_json(r),
        )
        results.append((practice_id, pid, *decided, on, _fingerprint(decided)))
    return {p: dict(c) for p, c in counts.items()}, _store(results, practice_id, first, last)


def _store(results: list[tuple], practice_id: int, first: int, last: int) -> int:
    """Write the results of patients first..last that differ from the stored ones (by fingerprint); returns how
    many were new or changed. A result stored before fingerprints is compared by its values, and only gains
    its fingerprint when they are the same (its `decided_on` stays)."""
    span = {"practice_id": practice_id, "patient_id__gte": first, "patient_id__lte": last}
    stored = dict(ScreeningResult.objects.filter(**span).values_list("patient_id", "fingerprint"))
    differing, unfingerprinted = [], []
    for row in results:
        was = stored.get(row[1])
        if was != row[-1]:
            (unfingerprinted if was == "" else differing).append(row)
    with transaction.atomic():
        changed = upsert(
            ScreeningResult,
            COLUMNS,
            differing,
            conflict=["patient"],
            update=COLUMNS[2:],
            unless_same=[*SAME_RESULT, "fingerprint"],
            fresh=not stored,  # none of these patients has a result yet: copied straight in
        ).count
        if unfingerprinted:
            changed += upsert(
                ScreeningResult,
                COLUMNS,
                unfingerprinted,
                conflict=["patient"],
                update=COLUMNS[2:],
                unless_same=SAME_RESULT,
            ).count
            marks = {row[1]: row[-1] for row in unfingerprinted}
            same = [
                r
                for r in ScreeningResult.objects.filter(**span, fingerprint="").only("id", "patient_id")
                if r.patient_id in marks
            ]
            for r in same:
                r.fingerprint = marks[r.patient_id]
            ScreeningResult.objects.bulk_update(same, ["fingerprint"], batch_size=500)
    return changed


def screen_practice(
    *,
    practice: Organization,
    on: dt.date | None = None,
    by=None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    chunk: int = CHUNK,
    then: Callable[[ScreeningSummary], None] | None = None,
) -> ScreeningSummary:
    """Screen every patient of the practice; results replace the previous screening, a chunk of patients per
    transaction. With `workers` > 1 (the CLI's `--workers`) on PostgreSQL, chunks are screened by that many
    forked processes, each on its own connection; elsewhere, and inside a transaction, in this process. `then`
    runs inside the transaction that records the screening (a job marks itself done there)."""
    on = on or timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))  # the practice's today
    ids_all = list(Patient.objects.filter(practice=practice).order_by("id").values_list("id", flat=True))
    ranges = [
        (practice.id, ids_all[i], ids_all[min(i + chunk, len(ids_all)) - 1], on, practice.time_zone)
        for i in range(0, len(ids_all), chunk)
    ]
    counts: dict[str, dict[str, int]] = {p: defaultdict(int) for p in PROGRAMS}
    done = changed = 0

    def tally(result: tuple[dict[str, dict[str, int]], int], first: int, last: int) -> None:
        nonlocal done, changed
        part, n_changed = result
        changed += n_changed
        for program, by_status in part.items():
            for status, n in by_status.items():
                counts[program][status] += n
        done += bisect.bisect_right(ids_all, last) - bisect.bisect_left(ids_all, first)
        if progress:
            progress(done, len(ids_all))

    parallel = can_fork(workers) and len(ranges) > 1
    if parallel:
        _warm_tables()  # loaded once here, inherited by the forked workers
        with forked_pool(min(workers, len(ranges))) as pool:
            futures = [pool.submit(in_worker, _screen_range, *args) for args in ranges]
            for future, (_, first, last, *_) in zip(futures, ranges, strict=True):
                tally(future.result(), first, last)
    else:
        for args in ranges:
            tally(_screen_range(*args), args[1], args[2])
    summary = ScreeningSummary(
        len(ids_all),
        {p: dict(c) for p, c in counts.items()},
        min(workers, len(ranges)) if parallel else 1,
        changed,
    )
    with transaction.atomic():
        run = ScreeningRun.objects.create(
            practice=practice,
            on=on,
            finished_at=timezone.now(),
            by=by if by is not None and by.is_authenticated else None,
            patients=summary.patients,
            changed=summary.changed,
            counts=summary.counts,
        )
        record_audit(
            action=AuditAction.UPDATE,
            user=by,
            practice_id=practice.id,
            obj=run,
            object_type="screening",
            detail={"on": on.isoformat(), "patients": summary.patients, "changed": changed, "counts": summary.counts},
        )
        if then is not None:
            then(summary)
    return summary
