"""Use cases for organizations and the operating model. Each runs in one transaction and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Max

from ccmops.access.operating_model import (
    PARTNER,
    PRACTICE,
    Function,
    MatrixVersion,
    Preset,
    check_assignment,
    classify,
    matrix_in_force,
    needs_partner,
    preset_parties,
)
from ccmops.access.policy import Role
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput, NotFound
from ccmops.organizations.models import Engagement, MatrixAssignment, Membership, Organization, ResponsibilityMatrix
from ccmops.platform.numerals import ascii_digits


def memberships_of(user) -> list[Membership]:
    """The user's active memberships with their organizations, read once per user object (that is, once per
    request): the access scope and the page's navigation both start from them."""
    cached = getattr(user, "_ccmops_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, active=True).select_related("organization"))
        user._ccmops_memberships = cached
    return cached


def _versions(practice_ids: Iterable[int]) -> dict[int, list[MatrixVersion]]:
    out: dict[int, list[MatrixVersion]] = {}
    rows = MatrixAssignment.objects.filter(matrix__practice_id__in=list(practice_ids)).values_list(
        "matrix_id",
        "matrix__practice_id",
        "matrix__version",
        "matrix__effective_from",
        "function",
        "owner_id",
    )
    by_matrix: dict[int, tuple[int, int, dt.date, dict[Function, int]]] = {}
    for matrix_id, practice_id, version, effective_from, function, owner_id in rows:
        entry = by_matrix.setdefault(matrix_id, (practice_id, version, effective_from, {}))
        entry[3][Function(function)] = owner_id
    for practice_id, version, effective_from, owners in by_matrix.values():
        out.setdefault(practice_id, []).append(MatrixVersion(practice_id, version, effective_from, owners))
    return out


def owners_in_force(practice_ids: Iterable[int], on: dt.date) -> dict[int, Mapping[Function, int]]:
    """Per practice, the owner of each function on a date (practices without a matrix are omitted)."""
    result = {}
    for practice_id, versions in _versions(practice_ids).items():
        version = matrix_in_force(versions, on)
        if version is not None:
            result[practice_id] = version.owners
    return result


def matrix_version_in_force(practice: Organization, on: dt.date) -> ResponsibilityMatrix | None:
    return (
        ResponsibilityMatrix.objects.filter(practice=practice, effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .prefetch_related("assignments__owner")
        .first()
    )


def matrices_in_force(practices: Iterable[Organization], on: dt.date) -> dict[int, ResponsibilityMatrix]:
    """Per practice, the version in force on a date (as `matrix_version_in_force`, for many practices in three
    queries: a partner's pages list hundreds)."""
    ids = [p.id for p in practices]
    versions = (
        ResponsibilityMatrix.objects.filter(practice_id__in=ids, effective_from__lte=on)
        .order_by("practice_id", "-effective_from", "-version")
        .select_related("partner")
        .prefetch_related("assignments__owner")
    )
    out: dict[int, ResponsibilityMatrix] = {}
    for version in versions:
        out.setdefault(version.practice_id, version)
    return out


def engagement_active(practice: Organization, partner: Organization, on: dt.date) -> bool:
    return (
        Engagement.objects.filter(practice=practice, partner=partner, starts_on__lte=on)
        .exclude(ends_on__lt=on)
        .exists()
    )


def may_change_model(user, practice: Organization) -> bool:
    """Only the practice's program owner (or a superuser) changes its operating model."""
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, organization=practice, role=Role.PROGRAM_OWNER, active=True).exists()
    )


@transaction.atomic
def record_matrix_version(
    *,
    practice: Organization,
    preset: Preset,
    effective_from: dt.date,
    reason: str,
    by,
    partner: Organization | None = None,
    parties: Mapping[Function, str] | None = None,
) -> ResponsibilityMatrix:
    """Record a new version of the practice's responsibility matrix; earlier versions stay as they were.

    Args:
        preset: a named model; CUSTOM requires `parties`.
        parties: for CUSTOM, `practice` or `partner` per function.
        partner: the engaged partner, required when any function goes to a partner; the engagement must be
            active on `effective_from`.

    Raises:
        InvalidInput: naming the field and what was expected.
    """
    if not practice.is_practice:
        raise InvalidInput(f"practice: {practice} is a partner, not a practice.")
    if not reason.strip():
        raise InvalidInput("reason: say why the operating model changes (kept with the version).")
    if preset is Preset.CUSTOM:
        if parties is None:
            raise InvalidInput("parties: a custom matrix needs an owner for every function.")
        unknown = sorted(str(f) for f in parties if f not in set(Function))
        if unknown:
            raise InvalidInput(
                f"parties: unknown function(s) {', '.join(unknown)}; expected {', '.join(f.value for f in Function)}"
            )
        parties = {Function(f): p for f, p in parties.items()}
    else:
        parties = preset_parties(preset)
    problems = check_assignment(parties)
    if problems:
        raise InvalidInput("parties: " + "; ".join(problems))
    if needs_partner(parties):
        if partner is None or partner.is_practice:
            raise InvalidInput("partner: this model gives functions to a partner; choose the partner organization.")
        if not engagement_active(practice, partner, effective_from):
            raise InvalidInput(
                f"partner: {partner} has no engagement with {practice} active on {effective_from}; "
                "record the engagement first."
            )
    else:
        partner = None
    Organization.objects.select_for_update().filter(pk=practice.pk).first()
    last = ResponsibilityMatrix.objects.filter(practice=practice).aggregate(v=Max("version"))["v"] or 0
    matrix = ResponsibilityMatrix.objects.create(
        practice=practice,
        version=last + 1,
        effective_from=effective_from,
        preset=classify(parties) if preset is Preset.CUSTOM else preset,
        partner=partner,
        reason=reason.strip(),
        created_by=by,
    )
    MatrixAssignment.objects.bulk_create(
        MatrixAssignment(matrix=matrix, function=f, owner=practice if p == PRACTICE else partner)
        for f, p in parties.items()
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        practice_id=practice.id,
        obj=matrix,
        detail={
            "version": matrix.version,
            "effective_from": effective_from.isoformat(),
            "preset": matrix.preset,
            "partner": partner.slug if partner else None,
            "owners": {f.value: p for f, p in parties.items()},
            "reason": matrix.reason,
        },
    )
    return matrix


def party_of(matrix: ResponsibilityMatrix, function: Function) -> str:
    for a in matrix.assignments.all():
        if a.function == function:
            return PRACTICE if a.owner_id == matrix.practice_id else PARTNER
    raise KeyError(function)


@transaction.atomic
def record_engagement(
    *,
    practice: Organization,
    partner: Organization,
    starts_on: dt.date,
    by,
    ends_on: dt.date | None = None,
    note="",
) -> Engagement:
    if not practice.is_practice or partner.is_practice:
        raise InvalidInput("engagement: expected a practice and a partner organization.")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("ends_on: must not be before starts_on.")
    engagement = Engagement.objects.create(
        practice=practice, partner=partner, starts_on=starts_on, ends_on=ends_on, note=note, created_by=by
    )
    record_audit(action=AuditAction.CREATE, user=by, practice_id=practice.id, obj=engagement, object_type="engagement")
    return engagement


def practice_by_ref(value: str) -> Organization:
    """A practice by slug or id (for the CLI).

    Raises:
        NotFound: no practice with that slug or id.
    """
    practice = Organization.objects.filter(slug=value).first()
    if practice is None and ascii_digits(value):
        practice = Organization.objects.filter(id=int(value)).first()
    if practice is None or not practice.is_practice:
        raise NotFound(f"--practice: no practice {value!r} (give its slug or id)")
    return practice
