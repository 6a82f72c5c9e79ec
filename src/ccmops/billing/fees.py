"""Fee schedules as data (R-2027-3): CMS's PPRRVU files loaded for a rule year, and the schedule that prices a
month — the newest file loaded for its year, else the rule set's shipped one (provisional for a year whose final
file is not loaded yet). One parser reads both (`ccmops.rules.pprrvu`)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ccmops.billing.models import FeeScheduleRelease
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.rules.fees import FeeSchedule
from ccmops.rules.pprrvu import FeeFileError, parse_pprrvu
from ccmops.rules.years import RULE_SETS, rule_set_for


@transaction.atomic
def load_fee_file(
    *, text: str, name: str, year: int, by=None, actor: str = "", qp_conversion_factor: Decimal | None = None
) -> FeeScheduleRelease:
    """Read a PPRRVU file for `year` and store it; every open month of that year is priced with it at its next
    evaluation. Nothing is stored when the file has any problem.

    Raises:
        InvalidInput: a year with no rule set, or the file's problems, each named with its line.
    """
    rules = rule_set_for(year)
    if rules is None:
        known = ", ".join(str(y) for y in sorted(RULE_SETS))
        raise InvalidInput(
            f"year: ccmops has no Medicare rule set for {year} (it has {known}); a release adds the year's rules, "
            "then its fee file is loaded"
        )
    if qp_conversion_factor is not None and not (Decimal(0) < qp_conversion_factor < Decimal(1000)):
        raise InvalidInput(f"qp_conversion_factor: expected dollars such as 33.5675, got {qp_conversion_factor}")
    try:
        fees = parse_pprrvu(text, year=year, source=name, qp_conversion_factor=qp_conversion_factor)
    except FeeFileError as exc:
        raise InvalidInput("The fee file was not loaded; nothing was stored:\n" + "\n".join(exc.problems)) from None
    qp = qp_conversion_factor or (rules.conversion_factor_qp if not rules.provisional_fees else fees.conversion_factor)
    release = FeeScheduleRelease.objects.create(
        year=year,
        source=fees.source[:300],
        conversion_factor=fees.conversion_factor,
        conversion_factor_qp=qp,
        nonfacility_rvu={k: str(v) for k, v in fees.nonfacility_rvu.items()},
        facility_rvu={k: str(v) for k, v in fees.facility_rvu.items()},
        status=fees.status,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        loaded_at=timezone.now(),
        loaded_by=by,
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        username=actor,
        obj=release,
        object_type="fee_schedule",
        detail={
            "year": year,
            "source": release.source,
            "conversion_factor": str(release.conversion_factor),
            "conversion_factor_qp": str(release.conversion_factor_qp),
            "codes": len(release.nonfacility_rvu),
            "sha256": release.sha256,
        },
    )
    return release


def as_schedule(release: FeeScheduleRelease) -> FeeSchedule:
    return FeeSchedule(
        year=release.year,
        nonfacility_rvu={k: Decimal(v) for k, v in release.nonfacility_rvu.items()},
        facility_rvu={k: Decimal(v) for k, v in release.facility_rvu.items()},
        conversion_factor=release.conversion_factor,
        conversion_factor_qp=release.conversion_factor_qp,
        source=f"{release.source}, loaded {release.loaded_at:%Y-%m-%d}",
        provisional=False,
        status=dict(release.status),
    )


def loaded_schedule(year: int) -> FeeSchedule | None:
    """The newest fee file loaded for the year, or None (the rule set's shipped schedule then prices it)."""
    release = FeeScheduleRelease.objects.filter(year=year).order_by("-loaded_at", "-id").first()
    return as_schedule(release) if release is not None else None


def schedule_for(year: int) -> FeeSchedule | None:
    """What prices a month of the year: the newest loaded file, else the rule set's shipped schedule."""
    loaded = loaded_schedule(year)
    if loaded is not None:
        return loaded
    rules = rule_set_for(year)
    return rules.fees() if rules else None


def fee_rows() -> list[dict]:
    """Each rule year with what prices it: its loaded files (newest first) or the shipped schedule."""
    out = []
    for year, rules in sorted(RULE_SETS.items()):
        releases = list(FeeScheduleRelease.objects.filter(year=year).select_related("loaded_by"))
        shipped = rules.fees()
        out.append(
            {
                "year": year,
                "in_force": releases[0].source if releases else shipped.source,
                "provisional": not releases and shipped.provisional,
                "conversion_factor": releases[0].conversion_factor if releases else shipped.conversion_factor,
                "releases": releases,
            }
        )
    return out
