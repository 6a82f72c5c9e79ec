"""Capacity and "hours behind" for an organization's staff across the practices it serves.

The monthly target of a patient is the minutes of the program's first billable threshold (CCM 20, R-CCM-1;
PCM 30, R-PCM-1; APCM has no time requirement and no minute target). Pro-rated to today, the target of a
practice is the sum over its active patients times the share of the month elapsed; "hours behind" is that
pro-rated target minus the minutes counted so far (never negative). Minutes due are what each patient still
needs to reach the threshold this month, and capacity is the staff's committed hours over the rest of the month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from ccmops.access.operating_model import Function
from ccmops.enrollment.models import Enrollment
from ccmops.months.models import MonthStanding
from ccmops.months.month import month_of
from ccmops.organizations.models import Membership, Organization
from ccmops.organizations.services import owners_in_force
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry

TARGET_MINUTES = {"ccm": 20, "pcm": 30}


@dataclass
class Load:
    patients: int = 0
    target_minutes: int = 0
    prorated_minutes: float = 0.0
    actual_minutes: int = 0
    due_minutes: int = 0
    below_threshold: int = 0

    @property
    def hours_behind(self) -> float:
        return round(max(0.0, self.prorated_minutes - self.actual_minutes) / 60, 1)

    @property
    def due_hours(self) -> float:
        return round(self.due_minutes / 60, 1)

    def add(self, other: Load) -> None:
        self.patients += other.patients
        self.target_minutes += other.target_minutes
        self.prorated_minutes += other.prorated_minutes
        self.actual_minutes += other.actual_minutes
        self.due_minutes += other.due_minutes
        self.below_threshold += other.below_threshold


@dataclass
class PracticeLoad:
    practice: Organization
    owner: Organization  # who owns the monthly work there today
    ours: bool  # the organization looked at owns it
    load: Load
    elapsed: float
    by_staff: dict[int, Load] = field(default_factory=dict)


@dataclass
class StaffLoad:
    membership: Membership
    load: Load
    committed_hours_per_week: float
    remaining_capacity_hours: float

    @property
    def over_capacity(self) -> bool:
        return self.load.due_hours > self.remaining_capacity_hours


@dataclass
class Workspace:
    organization: Organization
    on: dt.date
    practices: list[PracticeLoad]
    staff: list[StaffLoad]
    total: Load

    def as_dict(self) -> dict:
        def load(x: Load) -> dict:
            return {
                "patients": x.patients,
                "target_minutes": x.target_minutes,
                "prorated_target_minutes": round(x.prorated_minutes),
                "actual_minutes": x.actual_minutes,
                "hours_behind": x.hours_behind,
                "minutes_due": x.due_minutes,
                "below_threshold": x.below_threshold,
            }

        return {
            "organization": self.organization.slug,
            "on": self.on.isoformat(),
            "total": load(self.total),
            "practices": [
                {"practice": p.practice.slug, "owner": p.owner.slug, "ours": p.ours, **load(p.load)}
                for p in self.practices
            ],
            "staff": [
                {
                    "username": s.membership.user.username,
                    "name": str(s.membership.user),
                    "committed_hours_per_week": s.committed_hours_per_week,
                    "remaining_capacity_hours": s.remaining_capacity_hours,
                    "over_capacity": s.over_capacity,
                    **load(s.load),
                }
                for s in self.staff
            ],
        }


def _elapsed(practice: Organization, on: dt.date) -> float:
    days = calendar.monthrange(on.year, on.month)[1]
    return on.day / days


def workspace(organization: Organization, practices: list[Organization], on: dt.date) -> Workspace:
    """Load of `organization`'s staff on the practices given (those the caller may see)."""
    owners = owners_in_force([p.id for p in practices], on)
    month = month_of(on)
    ids = [p.id for p in practices]
    # Every practice's rows in a few queries, not a few per practice: a partner serves hundreds.
    enrollments: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
    for practice_id, patient_id, program, cm in Enrollment.objects.filter(
        practice_id__in=ids, status="active", program__in=TARGET_MINUTES, unreachable_since__isnull=True
    ).values_list("practice_id", "patient_id", "program", "patient__care_manager_id"):
        enrollments[practice_id].append((patient_id, program, cm))
    standing: dict[int, dict[int, int]] = defaultdict(dict)
    for practice_id, patient_id, m in MonthStanding.objects.filter(practice_id__in=ids, month=month).values_list(
        "practice_id", "patient_id", "minutes"
    ):
        standing[practice_id][patient_id] = m
    by_zone: dict[str, list[int]] = defaultdict(list)  # the month's window is the practice's time zone's
    for practice in practices:
        by_zone[practice.time_zone].append(practice.id)
    worked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for zone, zone_ids in by_zone.items():
        w = month_window(month, zone)
        for practice_id, staff_id, seconds in (
            TimeEntry.objects.filter(
                practice_id__in=zone_ids, start__gte=w.start, start__lt=w.end, voided_at__isnull=True
            )
            .values_list("practice_id", "staff_id")
            .annotate(s=Sum("seconds"))
            .values_list("practice_id", "staff_id", "s")
        ):
            worked[practice_id].append((staff_id, seconds))
    owner_of = {p.id: (owners.get(p.id) or {}).get(Function.MONTHLY_OUTREACH, p.id) for p in practices}
    others = {o.id: o for o in Organization.objects.filter(id__in=set(owner_of.values()) - set(ids))}
    rows: list[PracticeLoad] = []
    staff_loads: dict[int, Load] = defaultdict(Load)
    total = Load()
    for practice in sorted(practices, key=lambda p: p.name):
        owner_id = owner_of[practice.id]
        elapsed = _elapsed(practice, on)
        minutes = standing[practice.id]
        load = Load()
        per_staff: dict[int, Load] = defaultdict(Load)
        for patient_id, program, cm in enrollments[practice.id]:
            target = TARGET_MINUTES[program]
            m = minutes.get(patient_id, 0)
            one = Load(1, target, target * elapsed, 0, max(0, target - m), int(m < target))
            load.add(one)
            if cm:
                per_staff[cm].add(one)
        load.actual_minutes = sum(minutes.get(pid, 0) for pid, _, _ in enrollments[practice.id])
        for staff_id, seconds in worked[practice.id]:
            per_staff[staff_id].actual_minutes += seconds // 60
        owner = practice if owner_id == practice.id else others[owner_id]
        row = PracticeLoad(practice, owner, owner_id == organization.id, load, elapsed, dict(per_staff))
        rows.append(row)
        if row.ours:
            total.add(load)
            for staff_id, x in per_staff.items():
                staff_loads[staff_id].add(x)
    members = (
        Membership.objects.filter(organization=organization, active=True, is_clinical_staff=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    days = calendar.monthrange(on.year, on.month)[1]
    weeks_left = (days - on.day + 1) / 7
    seen: set[int] = set()
    staff = []
    for m in members:
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        committed = float(m.committed_hours_per_week)
        staff.append(StaffLoad(m, staff_loads.get(m.user_id, Load()), committed, round(committed * weeks_left, 1)))
    return Workspace(organization, on, rows, staff, total)
