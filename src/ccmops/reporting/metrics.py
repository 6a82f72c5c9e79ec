"""Program health of a practice, month over month and by responsible party: the five success factors measured
from the work recorded (time entries, notes, calls, enrollment history, month-close decisions)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from django.utils import timezone

from ccmops.access.operating_model import Function, Preset
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.billing.revenue import month_revenue
from ccmops.documentation.models import Note
from ccmops.enrollment.models import Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.months.models import MonthStanding
from ccmops.months.month import Month, month_of
from ccmops.organizations.models import Organization, ResponsibilityMatrix
from ccmops.reporting import drift
from ccmops.reporting.figures import FIGURE_FUNCTION, FUNNEL, PROGRAMS, Health, ModelChange, MonthFigures, PartyView
from ccmops.rules.calendar import month_window, months_before
from ccmops.timetracking.models import TimeEntry


def month_list(until: dt.date, months: int) -> list[str]:
    return [month_of(months_before(until.replace(day=1), k)) for k in range(months - 1, -1, -1)]


def _active_intervals(reads: _Reads, start: dt.datetime, end: dt.datetime) -> dict[int, list[tuple]]:
    """Per patient, the intervals during which one of their program enrollments was active."""
    out: dict[int, list[tuple]] = defaultdict(list)
    open_at: dict[int, dt.datetime] = {}
    patient_of: dict[int, int] = {}
    for enrollment_id, patient_id, status, at in reads.events:
        if at >= end:
            continue
        patient_of[enrollment_id] = patient_id
        if status == "active":
            open_at.setdefault(enrollment_id, at)
        elif enrollment_id in open_at:
            began = open_at.pop(enrollment_id)
            if at > start:
                out[patient_id].append((began, at))
    for enrollment_id, began in open_at.items():
        out[patient_of[enrollment_id]].append((began, end))
    # Enrollments loaded without their history (a bulk status load before the history existed): active since
    # their status date.
    for patient_id, since in reads.loaded_active:
        if since < end:
            out[patient_id].append((since, end))
    return out


def _owners_by_month(
    practice, months: list[str], versions: list[ResponsibilityMatrix]
) -> tuple[dict[str, dict[Function, int]], dict[str, str]]:
    owners: dict[str, dict[Function, int]] = {}
    models: dict[str, str] = {}
    for month in months:
        first = dt.date(int(month[:4]), int(month[5:]), 1)
        in_force = [v for v in versions if v.effective_from <= first]
        if not in_force:
            owners[month] = dict.fromkeys(Function, practice.id)
            models[month] = Preset.IN_HOUSE.label
            continue
        v = max(in_force, key=lambda x: (x.effective_from, x.version))
        owners[month] = {Function(a.function): a.owner_id for a in v.assignments.all()}
        models[month] = Preset(v.preset).label
    return owners, models


@dataclass
class _Reads:
    """One practice's rows for its program health, read for many practices at once (`_read`)."""

    events: list = field(default_factory=list)  # (enrollment, patient, to_status, at), by enrollment, at, id
    loaded_active: list = field(default_factory=list)  # (patient, status_since) of enrollments without history
    time: list = field(default_factory=list)  # (patient, employer, source, seconds, lag, start)
    calls: list = field(default_factory=list)  # (patient, outcome, party, at)
    notes: list = field(default_factory=list)  # (author, party, completeness, created_at)
    unreachable: list = field(default_factory=list)  # unreachable_since
    funnel: list = field(default_factory=list)  # (to_status, at)
    claimed: list = field(default_factory=list)  # (patient, month)
    evaluated: set = field(default_factory=set)  # months with decisions
    standings: list = field(default_factory=list)  # (patient, month, codes)
    versions: list = field(default_factory=list)  # matrix versions by effective date and version


def _read(practices: list[Organization], keys: list[str]) -> dict[int, _Reads]:
    """Every practice's rows in one query per kind, over the widest of their windows (each practice keeps only
    its own months when its figures are made: instants are placed by the practice's time zone)."""
    ids = [p.id for p in practices]
    reads = {i: _Reads() for i in ids}
    windows = [(month_window(keys[0], p.time_zone).start, month_window(keys[-1], p.time_zone).end) for p in practices]
    start, end = min(w[0] for w in windows), max(w[1] for w in windows)

    def spread(name: str, rows) -> None:
        for practice_id, *rest in rows:
            getattr(reads[practice_id], name).append(rest[0] if len(rest) == 1 else tuple(rest))

    spread(
        "events",
        EnrollmentEvent.objects.filter(practice_id__in=ids, enrollment__program__in=PROGRAMS, at__lt=end)
        .order_by("enrollment_id", "at", "id")
        .values_list("practice_id", "enrollment_id", "enrollment__patient_id", "to_status", "at"),
    )
    spread(
        "loaded_active",
        Enrollment.objects.filter(practice_id__in=ids, program__in=PROGRAMS, status__in=("active", "paused"))
        .exclude(events__isnull=False)
        .values_list("practice_id", "patient_id", "status_since"),
    )
    spread(
        "time",
        TimeEntry.objects.filter(
            practice_id__in=ids, start__gte=start, start__lt=end, voided_at__isnull=True
        ).values_list("practice_id", "patient_id", "employer_id", "source", "seconds", "lag_seconds", "start"),
    )
    spread(
        "calls",
        OutreachAttempt.objects.filter(practice_id__in=ids, purpose="monthly", at__gte=start, at__lt=end).values_list(
            "practice_id", "patient_id", "outcome", "party_id", "at"
        ),
    )
    spread(
        "notes",
        Note.objects.filter(practice_id__in=ids, created_at__gte=start, created_at__lt=end).values_list(
            "practice_id", "author__username", "author_party_id", "completeness", "created_at"
        ),
    )
    spread(
        "unreachable",
        Enrollment.objects.filter(
            practice_id__in=ids, unreachable_since__gte=start, unreachable_since__lt=end
        ).values_list("practice_id", "unreachable_since"),
    )
    spread(
        "funnel",
        EnrollmentEvent.objects.filter(
            practice_id__in=ids, at__gte=start, at__lt=end, to_status__in=FUNNEL, enrollment__program__in=PROGRAMS
        ).values_list("practice_id", "to_status", "at"),
    )
    spread(
        "claimed",
        ClaimLine.objects.filter(practice_id__in=ids, month__in=keys).values_list("practice_id", "patient_id", "month"),
    )
    for practice_id, month in (
        PatientMonthDecision.objects.filter(practice_id__in=ids, month__in=keys)
        .values_list("practice_id", "month")
        .distinct()
    ):
        reads[practice_id].evaluated.add(month)
    spread(
        "standings",
        MonthStanding.objects.filter(practice_id__in=ids, month__in=keys).values_list(
            "practice_id", "patient_id", "month", "codes"
        ),
    )
    for version in (
        ResponsibilityMatrix.objects.filter(practice_id__in=ids)
        .prefetch_related("assignments")
        .order_by("effective_from", "version")
    ):
        reads[version.practice_id].versions.append(version)
    return reads


def program_health(practice: Organization, *, months: int = 6, until: dt.date | None = None) -> Health:
    """Figures for the `months` calendar months ending with the month of `until` (default today)."""
    return program_health_many([practice], months=months, until=until)[practice.id]


def program_health_many(
    practices: list[Organization], *, months: int = 6, until: dt.date | None = None, revenue: bool = True
) -> dict[int, Health]:
    """`program_health` of many practices, their rows read together (a partner's workspace lists hundreds).
    `revenue`: the evaluated months' captured and potential revenue and so the capture rate (a few queries per
    practice and month); without it every other figure, series and drift is the same."""
    today = timezone.localdate()
    until = until or today
    keys = month_list(until, months)
    reads = _read(practices, keys)
    owners = {p.id: _owners_by_month(p, keys, reads[p.id].versions) for p in practices}
    party_ids = {o for owned, _models in owners.values() for m in owned.values() for o in m.values()}
    orgs = {o.id: o for o in Organization.objects.filter(id__in=party_ids)}
    return {
        p.id: _health(p, keys, month_of(today), reads[p.id], owners[p.id], orgs, revenue=revenue) for p in practices
    }


def _health(
    practice: Organization,
    keys: list[str],
    current: str,
    reads: _Reads,
    owned: tuple[dict[str, dict[Function, int]], dict[str, str]],
    all_orgs: dict[int, Organization],
    *,
    revenue: bool,
) -> Health:
    zone = practice.time_zone
    windows = {k: month_window(k, zone) for k in keys}
    start, end = windows[keys[0]].start, windows[keys[-1]].end
    figures = {k: MonthFigures(k, in_progress=k >= current) for k in keys}

    def key_of(instant: dt.datetime) -> str | None:
        k = str(Month.of(instant.astimezone(windows[keys[0]].zone).date()))
        return k if k in figures else None

    intervals = _active_intervals(reads, start, end)
    enrolled: dict[str, set[int]] = {k: set() for k in keys}
    for patient_id, spans in intervals.items():
        for k in keys:
            w = windows[k]
            if any(b < w.end and e > w.start for b, e in spans):
                enrolled[k].add(patient_id)

    minutes: dict[tuple[str, int], int] = defaultdict(int)
    touched: dict[str, set[int]] = defaultdict(set)
    lags: dict[str, list[int]] = defaultdict(list)
    work: dict[str, dict[int, dict]] = defaultdict(
        lambda: defaultdict(lambda: {"minutes": 0, "live_seconds": 0, "seconds": 0, "notes": 0, "calls": 0})
    )
    for patient_id, employer_id, source, seconds, lag, at in reads.time:
        k = key_of(at)
        if k is None:
            continue
        f = figures[k]
        minutes[(k, patient_id)] += seconds
        touched[k].add(patient_id)
        if source == "timer":
            f.live_seconds += seconds
            work[k][employer_id]["live_seconds"] += seconds
        else:
            f.late_seconds += seconds
            lags[k].append(lag)
        work[k][employer_id]["seconds"] += seconds
    for patient_id, outcome, party_id, at in reads.calls:
        k = key_of(at)
        if k is None:
            continue
        figures[k].attempts += 1
        work[k][party_id]["calls"] += 1
        if outcome == "reached":
            figures[k].reached += 1
            touched[k].add(patient_id)
    by_staff: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    party_notes: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for author, party_id, completeness, at in reads.notes:
        k = key_of(at)
        if k is None:
            continue
        by_staff[k][author].append(completeness)
        party_notes[k][party_id].append(completeness)
    for at in reads.unreachable:
        k = key_of(at)
        if k:
            figures[k].became_unreachable += 1
    for status, at in reads.funnel:
        k = key_of(at)
        if k:
            figures[k].funnel[status] += 1

    # Billable = the month's decision has claim lines (an override not to bill removes them); for a month not
    # evaluated yet, the engine's cached standing says whether the patient has reached a billable code.
    billable: dict[str, set[int]] = defaultdict(set)
    for patient_id, month in reads.claimed:
        billable[month].add(patient_id)
    evaluated = reads.evaluated
    for month in evaluated:
        figures[month].evaluated = True
    for patient_id, month, codes in reads.standings:
        if codes and month not in evaluated:
            billable[month].add(patient_id)

    owners, models = owned
    for k in keys:
        f = figures[k]
        f.model = models[k]
        ids = enrolled[k]
        f.enrolled = len(ids)
        f.touched = len(ids & touched[k])
        f.billable = len(ids & billable[k])
        for pid in ids:
            m = minutes.get((k, pid), 0) // 60
            bucket = "0" if m == 0 else "<10" if m < 10 else "10–19" if m < 20 else "20–39" if m < 40 else "40–59"
            f.buckets[bucket if m < 60 else "60+"] += 1
        if lags[k]:
            f.median_lag_hours = round(statistics.median(lags[k]) / 3600, 1)
        all_notes = [c for values in by_staff[k].values() for c in values]
        f.notes = len(all_notes)
        if all_notes:
            f.completeness = statistics.fmean(all_notes) / 100
            f.completeness_by_staff = {a: statistics.fmean(v) / 100 for a, v in sorted(by_staff[k].items())}
        if f.evaluated and revenue:
            r = month_revenue(practice, k)
            f.revenue_captured, f.revenue_potential = r.captured, r.potential

    orgs = {i: all_orgs[i] for i in {o for m in owners.values() for o in m.values()}}
    parties = []
    for org_id, org in sorted(orgs.items(), key=lambda x: (x[1].kind != "practice", x[1].name)):
        functions_by_month = {
            k: [fn.value for fn in Function if owners[k].get(fn) == org_id and fn is not Function.CLINICAL_OVERSIGHT]
            for k in keys
        }
        series = {
            name: [
                (k, figures[k].figure(name) if owners[k].get(fn) == org_id else None)
                for k in keys
                if not figures[k].in_progress
            ]
            for name, fn in FIGURE_FUNCTION.items()
        }
        party_work = {}
        for k in keys:
            w = work[k].get(org_id)
            notes = party_notes[k].get(org_id, [])
            party_work[k] = {
                "minutes": (w["seconds"] // 60) if w else 0,
                "live_share": round(w["live_seconds"] / w["seconds"], 4) if w and w["seconds"] else None,
                "calls": w["calls"] if w else 0,
                "notes": len(notes),
                "completeness": round(statistics.fmean(notes) / 100, 4) if notes else None,
            }
        parties.append(PartyView(org, functions_by_month, series, party_work, drift.detect(series)))

    completed = [figures[k] for k in keys if not figures[k].in_progress]
    program_series = {name: [(f.month, f.figure(name)) for f in completed] for name in drift.WATCHED}
    captured = [float(f.revenue_captured) for f in completed if f.revenue_captured is not None]
    variation = None
    if len(captured) >= 2 and statistics.fmean(captured):
        variation = round(statistics.pstdev(captured) / statistics.fmean(captured), 3)
    return Health(
        practice,
        [figures[k] for k in keys],
        parties,
        drift.detect(program_series),
        _model_change(reads.versions, completed),
        variation,
    )


def _model_change(versions: list[ResponsibilityMatrix], completed: list[MonthFigures]) -> ModelChange | None:
    """The latest change of operating model inside the window, with the completed months on either side
    (`versions`: the practice's, by effective date and version)."""
    if not completed:
        return None
    first = dt.date(int(completed[0].month[:4]), int(completed[0].month[5:]), 2)
    changes = [(a, b) for a, b in pairwise(versions) if b.effective_from >= first and a.preset != b.preset]
    if not changes:
        return None
    before_v, after_v = changes[-1]
    cut = month_of(after_v.effective_from)
    before = [f for f in completed if f.month < cut]
    after = [f for f in completed if f.month >= cut]

    def avg(rows: list[MonthFigures], name: str) -> float | None:
        values = [v for v in (r.figure(name) for r in rows) if v is not None]
        return round(statistics.fmean(values), 4) if values else None

    names = ("touched_share", "billable_share", "live_share", "completeness", "reach_rate")
    return ModelChange(
        after_v.effective_from,
        Preset(before_v.preset).label,
        Preset(after_v.preset).label,
        {n: avg(before, n) for n in names},
        {n: avg(after, n) for n in names},
    )
