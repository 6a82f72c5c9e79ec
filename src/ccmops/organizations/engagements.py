"""Engagements between a practice and a partner, kept by the two organizations' own leads.

The practice decides whom it shares its patients with: its program owner engages a partner (named by the slug
the partner gives it) from a date. The engagement alone shows the partner nothing; the practice's operating
model (the responsibility matrix) then says which functions the partner owns, and access follows both
(docs/operating-models.md). Either side ends an engagement — a contract ends whoever gives notice — from today
or a later date, never in the past, because months already worked stay as they were. Each change is one
transaction, audited in the practice's chain.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.organizations.changes import record_change
from ccmops.organizations.models import Engagement, Organization
from ccmops.organizations.services import engagement_active, matrix_version_in_force
from ccmops.organizations.validators import plain_text, reason_given


def practice_today(practice: Organization) -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))


def engagements_of(org: Organization) -> list[Engagement]:
    """The organization's engagements (as the practice or as the partner), current and planned first."""
    rows = Engagement.objects.filter(Q(practice=org) | Q(partner=org)).select_related(
        "practice", "partner", "created_by", "ended_by"
    )
    return sorted(rows, key=lambda e: (e.ends_on is not None and e.ends_on < practice_today(e.practice), e.starts_on))


def with_states(org: Organization) -> list[tuple[Engagement, str, dt.date]]:
    """The organization's engagements, each with its state on its practice's today, and that today."""
    rows = []
    for e in engagements_of(org):
        today = practice_today(e.practice)
        rows.append((e, state(e, today), today))
    return rows


def engagement_dict(e: Engagement) -> dict:
    today = practice_today(e.practice)
    return {
        "id": e.id,
        "practice": {"id": e.practice_id, "slug": e.practice.slug, "name": e.practice.name},
        "partner": {"id": e.partner_id, "slug": e.partner.slug, "name": e.partner.name},
        "starts_on": e.starts_on.isoformat(),
        "ends_on": e.ends_on.isoformat() if e.ends_on else None,
        "state": state(e, today),
        "note": e.note,
        "end_reason": e.end_reason,
    }


def state(e: Engagement, today: dt.date) -> str:
    if e.starts_on > today:
        return "planned"
    if e.ends_on is not None and e.ends_on < today:
        return "ended"
    return "active"


def _date(field: str, raw) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"{field}: expected a date YYYY-MM-DD, got {raw!r}") from None


def _overlapping(practice, partner, starts_on: dt.date, ends_on: dt.date | None, exclude: int | None = None):
    rows = Engagement.objects.filter(practice=practice, partner=partner).exclude(pk=exclude)
    rows = rows.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
    if ends_on is not None:
        rows = rows.filter(starts_on__lte=ends_on)
    return rows.first()


@transaction.atomic
def engage_partner(
    *, practice: Organization, partner_slug: str, starts_on, by, ends_on=None, note: str = "", actor: str = ""
) -> Engagement:
    """Engage a partner for the practice from `starts_on` (to `ends_on`, or open-ended).

    Raises:
        InvalidInput: not a practice, no such partner, malformed dates or note.
        Conflict: an engagement with the same partner already covers some of those dates.
    """
    if not practice.is_practice:
        raise InvalidInput(f"practice: {practice} is a partner; a practice engages a partner")
    slug = (partner_slug or "").strip().lower()
    partner = Organization.objects.filter(slug=slug, kind="partner").first()
    if partner is None:
        raise InvalidInput(f"partner: no partner organization {slug!r} (ask the partner for the slug it signs in with)")
    starts = _date("starts_on", starts_on)
    if starts is None:
        raise InvalidInput("starts_on: the first day the partner works for the practice")
    ends = _date("ends_on", ends_on)
    if ends is not None and ends < starts:
        raise InvalidInput(f"ends_on: {ends} is before starts_on {starts}")
    note = plain_text("note", (note or "").strip())
    if len(note) > 300:
        raise InvalidInput(f"note: at most 300 characters, got {len(note)}")
    if (other := _overlapping(practice, partner, starts, ends)) is not None:
        until = f" to {other.ends_on}" if other.ends_on else ""
        raise Conflict(f"partner: {partner} is already engaged from {other.starts_on}{until}; end that one first")
    e = Engagement.objects.create(
        practice=practice, partner=partner, starts_on=starts, ends_on=ends, note=note, created_by=by
    )
    record_change(
        chain=practice.id,
        obj=e,
        object_type="engagement",
        by=by,
        actor=actor,
        action=AuditAction.CREATE,
        detail={"partner": partner.slug, "starts_on": starts.isoformat(), "ends_on": ends and ends.isoformat()},
    )
    return e


def engagement_of(org: Organization, engagement_id: int) -> Engagement:
    """One of the organization's engagements (404 for anyone else's)."""
    found = (
        Engagement.objects.filter(Q(practice=org) | Q(partner=org), pk=engagement_id)
        .select_related("practice", "partner")
        .first()
    )
    if found is None:
        raise NotFound(f"No engagement {engagement_id} of {org}.")
    return found


@transaction.atomic
def end_engagement(*, org: Organization, engagement_id: int, ends_on, reason: str, by, actor: str = "") -> Engagement:
    """End an engagement of the organization (either side) on `ends_on`, the last day the partner works: today
    or later in the practice's calendar. From the next day the partner sees none of the practice's patients.

    Raises:
        InvalidInput: a date in the past or before the start, no reason. Conflict: it already ends sooner.
    """
    e = Engagement.objects.select_for_update().get(pk=engagement_of(org, engagement_id).pk)
    reason = reason_given(reason)
    ends = _date("ends_on", ends_on)
    if ends is None:
        raise InvalidInput("ends_on: the last day the partner works for the practice")
    today = practice_today(e.practice)
    if ends < today:
        raise InvalidInput(f"ends_on: {ends} is in the past; an engagement ends today ({today}) or later")
    if ends < e.starts_on:
        raise InvalidInput(f"ends_on: {ends} is before the engagement starts ({e.starts_on})")
    if e.ends_on is not None and e.ends_on <= ends:
        raise Conflict(f"This engagement already ends on {e.ends_on}.")
    before = e.ends_on
    e.ends_on, e.ended_by, e.ended_at, e.end_reason = ends, by, timezone.now(), reason
    e.save(update_fields=["ends_on", "ended_by", "ended_at", "end_reason"])
    record_change(
        chain=e.practice_id,
        obj=e,
        object_type="engagement",
        by=by,
        actor=actor,
        detail={
            "ends_on": [before and before.isoformat(), ends.isoformat()],
            "reason": reason,
            "ended_by_side": "practice" if org.id == e.practice_id else "partner",
        },
    )
    return e


@dataclass(frozen=True)
class Orphaned:
    partner: Organization
    functions: list[str]  # labels of the functions the matrix in force gives the partner


def orphaned_functions(practice: Organization, on: dt.date) -> Orphaned | None:
    """The functions the practice's matrix in force gives a partner that is not engaged on `on`: nobody may
    perform them until the program owner records a new operating model."""

    matrix = matrix_version_in_force(practice, on)
    if matrix is None or matrix.partner_id is None:
        return None
    partner_rows = [a for a in matrix.assignments.all() if a.owner_id == matrix.partner_id]
    if not partner_rows or engagement_active(practice, matrix.partner, on):
        return None
    return Orphaned(matrix.partner, [a.get_function_display() for a in partner_rows])
