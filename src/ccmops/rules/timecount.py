"""Which seconds of which time entries count this month, and why every other minute does not.

Applies R-TIME-1/10 (practice-local calendar month), R-TIME-3 (clinical staff only), R-SUP-3 (inside the
U.S.), R-TIME-5 (not counted for another service), R-TIME-6 (facility stays), R-TIME-7 (after consent and
initiating visit) and R-TIME-9 (overlaps once). Pure interval arithmetic over UTC instants.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccmops.rules.calendar import MonthWindow
from ccmops.rules.contract import PatientMonth, TimeEntryIn
from ccmops.rules.decision import ExcludedTime, Reason
from ccmops.rules.policies import Policies

Interval = tuple[dt.datetime, dt.datetime]
FAR_PAST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
FAR_FUTURE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

REASON_RULES = {
    Reason.OTHER_MONTH: ("R-TIME-1", "R-TIME-10"),
    Reason.NON_CLINICAL: ("R-TIME-3",),
    Reason.OUTSIDE_US: ("R-SUP-3",),
    Reason.COUNTED_ELSEWHERE: ("R-TIME-5",),
    Reason.OTHER_PROGRAM: ("R-TIME-5",),
    Reason.BEFORE_CONSENT: ("R-TIME-7", "R-CONS-1"),
    Reason.BEFORE_INITIATING_VISIT: ("R-TIME-7", "R-INIT-1"),
    Reason.FACILITY_STAY: ("R-TIME-6",),
    Reason.OVERLAP: ("R-TIME-9", "R-TIME-5"),
    Reason.AFTER_DEATH: ("R-COV-2",),
}
COUNTABLE_PROGRAMS = frozenset({"ccm", "pcm", "apcm", "bhi"})


@dataclass(frozen=True)
class Segment:
    start: dt.datetime
    end: dt.datetime
    entry_id: str
    role: str  # clinical_staff | billing_practitioner | other_practitioner
    program: str

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class TimeResult:
    counted: tuple[Segment, ...]
    excluded_seconds: Mapping[tuple[str, Reason], int]

    def seconds(self, programs: Iterable[str], roles: Iterable[str]) -> int:
        programs, roles = set(programs), set(roles)
        return sum(s.seconds for s in self.counted if s.program in programs and s.role in roles)

    def minutes(self, programs: Iterable[str], roles: Iterable[str]) -> int:
        """Full minutes, no rounding (R-TIME-2)."""
        return self.seconds(programs, roles) // 60

    def excluded(self, extra: Mapping[tuple[str, Reason], int] | None = None) -> tuple[ExcludedTime, ...]:
        merged: dict[tuple[str, Reason], int] = defaultdict(int)
        for source in (self.excluded_seconds, extra or {}):
            for key, secs in source.items():
                merged[key] += secs
        out = []
        for (entry_id, reason), secs in merged.items():
            if secs > 0:
                out.append(ExcludedTime(entry_id, -(-secs // 60), reason, REASON_RULES.get(reason, ())))
        return tuple(out)


def _subtract(pieces: list[Interval], cut: Interval) -> tuple[list[Interval], int]:
    """Remove `cut` from `pieces`; returns the remainder and the seconds removed."""
    out: list[Interval] = []
    removed = 0
    c0, c1 = cut
    for a, b in pieces:
        if b <= c0 or a >= c1:
            out.append((a, b))
            continue
        lo, hi = max(a, c0), min(b, c1)
        removed += int((hi - lo).total_seconds())
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return out, removed


def _keep_only(pieces: list[Interval], allowed: list[Interval]) -> tuple[list[Interval], int]:
    """Keep the parts of `pieces` inside the union of `allowed`; returns the kept parts and seconds dropped."""
    gaps: list[Interval] = []
    cursor = FAR_PAST
    for a, b in sorted(allowed):
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    gaps.append((cursor, FAR_FUTURE))
    dropped = 0
    for gap in gaps:
        pieces, removed = _subtract(pieces, gap)
        dropped += removed
    return pieces, dropped


def facility_intervals(pm: PatientMonth, window: MonthWindow, policies: Policies) -> list[Interval]:
    out = []
    for stay in pm.patient.facility_stays:
        if policies.facility_stay_whole_days:
            first, last = stay.start, stay.end
        else:
            first, last = stay.start + dt.timedelta(days=1), stay.end - dt.timedelta(days=1)
        if last >= first:
            out.append((window.day_start(first), window.day_start(last + dt.timedelta(days=1))))
    return out


def count_time(
    pm: PatientMonth,
    window: MonthWindow,
    policies: Policies,
    *,
    consented: Mapping[str, list[Interval]],
    initiated_from: Mapping[str, dt.datetime],
) -> TimeResult:
    """Split every time entry into counted segments and excluded seconds with reasons.

    Args:
        consented: per program, the UTC intervals in which a valid consent covers services.
        initiated_from: per program, the instant from which an initiating visit allows counting (absent when
            no initiating visit is required).
    """
    excluded: dict[tuple[str, Reason], int] = defaultdict(int)
    stays = facility_intervals(pm, window, policies)
    candidates: list[tuple[TimeEntryIn, list[Interval]]] = []
    for entry in pm.time_entries:
        start = entry.start.astimezone(dt.UTC)
        whole = entry.minutes * 60
        pieces: list[Interval] = [(start, start + dt.timedelta(seconds=whole))]
        whole_reason = None
        if entry.counted_for:
            whole_reason = Reason.COUNTED_ELSEWHERE
        elif entry.staff_role == "non_clinical" or (
            entry.staff_role == "other_practitioner" and not policies.other_practitioner_time_counts_as_staff
        ):
            whole_reason = Reason.NON_CLINICAL
        elif not entry.located_in_us:
            whole_reason = Reason.OUTSIDE_US
        elif entry.program not in COUNTABLE_PROGRAMS:
            whole_reason = Reason.OTHER_PROGRAM
        pieces, removed = _keep_only(pieces, [(window.start, window.end)])
        excluded[(entry.id, Reason.OTHER_MONTH)] += removed
        if whole_reason is not None:
            excluded[(entry.id, whole_reason)] += sum(int((b - a).total_seconds()) for a, b in pieces)
            continue
        if pm.patient.deceased_on is not None:  # no service after death (R-COV-2)
            after = window.day_start(pm.patient.deceased_on + dt.timedelta(days=1))
            pieces, removed = _subtract(pieces, (after, FAR_FUTURE))
            excluded[(entry.id, Reason.AFTER_DEATH)] += removed
        for stay in stays:
            pieces, removed = _subtract(pieces, stay)
            excluded[(entry.id, Reason.FACILITY_STAY)] += removed
        pieces, removed = _keep_only(pieces, consented.get(entry.program, []))
        excluded[(entry.id, Reason.BEFORE_CONSENT)] += removed
        if entry.program in initiated_from:
            pieces, removed = _subtract(pieces, (FAR_PAST, initiated_from[entry.program]))
            excluded[(entry.id, Reason.BEFORE_INITIATING_VISIT)] += removed
        if pieces:
            candidates.append((entry, pieces))

    counted: list[Segment] = []
    covered_all: list[Interval] = []
    covered_by_staff: dict[str, list[Interval]] = defaultdict(list)
    for entry, pieces in sorted(candidates, key=lambda c: (c[0].start, c[0].id)):
        covered = covered_all if policies.simultaneous_staff_count_once else covered_by_staff[entry.staff_id]
        for cut in covered:
            pieces, removed = _subtract(pieces, cut)
            excluded[(entry.id, Reason.OVERLAP)] += removed
        for a, b in pieces:
            counted.append(Segment(a, b, entry.id, entry.staff_role, entry.program))
            covered.append((a, b))
            if covered is not covered_all:
                covered_all.append((a, b))
    return TimeResult(tuple(counted), dict(excluded))


def threshold_date(segments: Iterable[Segment], seconds_needed: int, window: MonthWindow) -> dt.date:
    """Local date on which the cumulative counted time first reaches `seconds_needed` (R-CLM-DOS-1)."""
    total = 0
    for seg in sorted(segments, key=lambda s: s.start):
        if total + seg.seconds >= seconds_needed:
            reached = seg.start + dt.timedelta(seconds=seconds_needed - total)
            # reaching it exactly at a segment's end counts on the day of the last counted second
            return window.local_date(reached - dt.timedelta(microseconds=1))
        total += seg.seconds
    return window.last_day
