"""An organization's people, managed by its own leads (a practice's program owners, a partner's operations
leads) without the administrator: add a staff member with a one-time password, reset a forgotten one, take
someone off the staff the day they leave and bring them back. Each change is one transaction and audited in
the organization's chain.

Leaving is immediate: the person's memberships here end and — when they work nowhere else — their open timer is
stopped (its time kept by the idle rules) and their account disabled, which ends every session of theirs on
the next request. Their patients then wait for a care manager on the workspace.

A lead acts only on the people of their own organization: a password is reset, and an account disabled, only
for someone who has never worked for another organization (else a lead of one organization could take over
an account that another relies on).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from ccmops.access.policy import ROLES_BY_KIND, OrgKind, Role
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.mfa_enrollment import issue_enrollment_code
from ccmops.organizations.models import STAFF_CREDENTIALS, Membership, Organization, Practitioner, User
from ccmops.organizations.services import memberships_of
from ccmops.organizations.validators import plain_text, reason_given
from ccmops.patients.models import Patient
from ccmops.patients.vocabulary import US_STATE_CODES
from ccmops.timetracking.entries import open_timer
from ccmops.timetracking.services import stop_timer

LEAD_ROLES = frozenset({Role.PARTNER_OPS_LEAD, Role.PROGRAM_OWNER})
CLINICAL_BY_DEFAULT = frozenset({Role.CARE_MANAGER, Role.BILLING_PRACTITIONER})
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
CREDENTIAL_CODES = {code for code, _ in STAFF_CREDENTIALS}


def lead_organizations(user) -> list[Organization]:
    """The organizations the user leads (program owner of a practice, operations lead of a partner), in the
    order of their memberships."""
    seen, out = set(), []
    for m in memberships_of(user):
        if m.role in LEAD_ROLES and m.organization_id not in seen:
            seen.add(m.organization_id)
            out.append(m.organization)
    return out


def led_organization(user, slug: str = "") -> Organization:
    """The organization `slug` names among those the user leads (the first when no slug is given)."""
    orgs = lead_organizations(user)
    if not orgs:
        raise PermissionDenied("Staff are managed by a practice's program owners and a partner's operations leads.")
    if not slug:
        return orgs[0]
    chosen = next((o for o in orgs if o.slug == slug), None)
    if chosen is None:
        raise NotFound(f"org: no organization {slug!r} among those you lead")
    return chosen


def grantable_roles(org: Organization) -> list[Role]:
    """The roles a lead may give at the organization: those of its kind, except system administrator (a
    configuration role with no patient access, given by the administrator)."""
    return [r for r in Role if r in ROLES_BY_KIND[OrgKind(org.kind)] and r != Role.SYSTEM_ADMIN]


@dataclass(frozen=True)
class StaffMember:
    user: User
    memberships: list[Membership]  # at this organization, active first
    active: bool  # holds at least one active membership here
    elsewhere: bool  # has (or had) a membership at another organization
    patients: int  # patients whose designated care manager they are

    def as_dict(self) -> dict:
        return {
            "user_id": self.user.id,
            "username": self.user.username,
            "name": self.user.get_full_name(),
            "email": self.user.email,
            "active": self.active,
            "account_enabled": self.user.is_active,
            "must_change_password": self.user.password_change_required,
            "last_sign_in": self.user.last_login.isoformat() if self.user.last_login else None,
            "works_elsewhere": self.elsewhere,
            "care_manager_of": self.patients,
            "memberships": [
                {
                    "id": m.id,
                    "role": m.role,
                    "credential": m.credential,
                    "clinical_staff": m.is_clinical_staff,
                    "committed_hours_per_week": float(m.committed_hours_per_week),
                    "active": m.active,
                }
                for m in self.memberships
            ],
        }


def staff(org: Organization) -> list[StaffMember]:
    """Everyone who holds or held a membership at the organization: the active by name, then the former."""
    memberships = list(Membership.objects.filter(organization=org).select_related("user").order_by("role"))
    by_user: dict[int, list[Membership]] = {}
    for m in memberships:
        by_user.setdefault(m.user_id, []).append(m)
    elsewhere = set(
        Membership.objects.filter(user_id__in=by_user)
        .exclude(organization=org)
        .values_list("user_id", flat=True)
        .distinct()
    )

    patients = dict(
        Patient.objects.filter(care_manager_id__in=by_user)
        .values_list("care_manager_id")
        .annotate(n=Count("id"))
        .values_list("care_manager_id", "n")
    )
    rows = []
    for user_id, ms in by_user.items():
        ms.sort(key=lambda m: (not m.active, m.role))
        user = ms[0].user
        active = any(m.active for m in ms) and user.is_active
        rows.append(StaffMember(user, ms, active, user_id in elsewhere, patients.get(user_id, 0)))
    rows.sort(key=lambda s: (not s.active, s.user.last_name.lower(), s.user.first_name.lower(), s.user.username))
    return rows


def member(org: Organization, user_id: int) -> StaffMember:
    """One person of the organization's staff (404 for anyone else)."""
    found = next((s for s in staff(org) if s.user.id == user_id), None)
    if found is None:
        raise NotFound(f"No staff member {user_id} at {org}.")
    return found


def temporary_password() -> str:
    """A random one-time password (about 95 bits), to be changed at the first sign-in."""
    return secrets.token_urlsafe(12)


def _hours(raw) -> Decimal:
    try:
        hours = Decimal(str(raw if raw not in (None, "") else 0))
    except InvalidOperation:
        raise InvalidInput(f"hours: expected a number of hours a week, got {raw!r}") from None
    if not hours.is_finite() or not Decimal(0) <= hours <= Decimal(60):
        raise InvalidInput(f"hours: expected 0 to 60 hours a week, got {raw}")
    return hours.quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Added:
    user: User
    membership: Membership
    password: str  # the one-time password, shown once; "" when an existing staff member gained a role


@transaction.atomic
def add_staff(
    *,
    org: Organization,
    username: str,
    role: str,
    by,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    credential: str = "",
    licence_state: str = "",
    clinical: bool | None = None,
    hours=0,
    practitioner_id: int | None = None,
    actor: str = "",
) -> Added:
    """Add a person to the organization's staff with a role, or give one of its staff another role. A new
    person gets an account with a one-time password that must be changed at the first sign-in. A billing
    practitioner is linked to the practice's practitioner record (the NPI that bills).

    Raises:
        InvalidInput: a malformed field, a role the organization does not have, a username taken by someone
            who is not on this staff.
        Conflict: the person already holds the role here, or their account is disabled.
    """
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput(
            "username: 3 to 40 characters — lower-case letters, digits, '.', '_' or '-' — starting with a letter "
            f"or digit, got {username!r}"
        )
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidInput(f"role: unknown role {role!r}") from None
    if role_ not in grantable_roles(org):
        allowed = ", ".join(r.value for r in grantable_roles(org))
        raise InvalidInput(f"role: {role_.label} is not a role at {org} you can give; expected one of {allowed}")
    credential = (credential or "").strip().upper()
    if credential not in CREDENTIAL_CODES:
        raise InvalidInput(f"credential: unknown credential {credential!r}")
    licence_state = (licence_state or "").strip().upper()
    if licence_state and licence_state not in US_STATE_CODES:
        raise InvalidInput(f"licence_state: expected a US state code such as TX, got {licence_state!r}")
    hours = _hours(hours)
    clinical = role_ in CLINICAL_BY_DEFAULT if clinical is None else bool(clinical)
    practitioner = _practitioner_for(org, role_, practitioner_id)

    existing = User.objects.filter(username=username).first()
    password = ""
    if existing is not None:
        if not Membership.objects.filter(user=existing, organization=org).exists():
            raise InvalidInput(f"username: {username!r} is taken; choose another")
        user = existing
        if not user.is_active:
            raise Conflict(f"{user}'s account is disabled; bring them back on the staff first.")
        if practitioner is not None and practitioner.user_id not in (None, user.id):
            raise InvalidInput(f"practitioner: {practitioner} is already linked to another account")
    else:
        first_name, last_name = plain_text("first_name", first_name.strip()), plain_text("last_name", last_name.strip())
        email = plain_text("email", email.strip())
        if not first_name or not last_name:
            raise InvalidInput("first_name, last_name: a new staff member needs a first and a last name")
        if len(first_name) > 150 or len(last_name) > 150:
            raise InvalidInput("first_name, last_name: at most 150 characters")
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            raise InvalidInput(f"email: {email!r} is not an email address")
        password = temporary_password()
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        user.set_password(password)
        user.password_change_required = True
        user.save()
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user,
                organization=org,
                role=role_.value,
                credential=credential,
                licence_state=licence_state,
                is_clinical_staff=clinical,
                committed_hours_per_week=hours,
            )
    except IntegrityError:
        raise Conflict(f"{user} already holds the role {role_.label} at {org}.") from None
    if practitioner is not None and practitioner.user_id is None:
        Practitioner.objects.filter(pk=practitioner.pk).update(user=user)
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        username=actor,
        practice_id=org.id,
        obj=membership,
        object_type="staff",
        detail={
            "username": user.username,
            "role": role_.value,
            "credential": credential,
            "licence_state": licence_state,
            "clinical_staff": clinical,
            "hours": hours,
            "new_account": bool(password),
            "practitioner": practitioner.npi if practitioner is not None else None,
        },
    )
    return Added(user, membership, password)


def _practitioner_for(org: Organization, role: Role, practitioner_id: int | None) -> Practitioner | None:
    if role != Role.BILLING_PRACTITIONER:
        if practitioner_id:
            raise InvalidInput("practitioner: only a billing practitioner is linked to a practitioner record")
        return None
    if not practitioner_id:
        raise InvalidInput(
            "practitioner: choose the practitioner record (name and NPI) this billing practitioner bills as"
        )
    practitioner = Practitioner.objects.filter(pk=practitioner_id, practice=org, active=True).first()
    if practitioner is None:
        raise InvalidInput(f"practitioner: no active practitioner {practitioner_id} at {org}")
    return practitioner


def unlinked_practitioners(org: Organization) -> list[Practitioner]:
    """The practice's active practitioners without an account, for a new billing practitioner."""
    return list(Practitioner.objects.filter(practice=org, active=True, user__isnull=True))


def _own_only(org: Organization, target: User, what: str) -> None:
    if Membership.objects.filter(user=target).exclude(organization=org).exists():
        raise PermissionDenied(f"{target} also works for another organization; {what} is for the system administrator.")


@transaction.atomic
def deactivate(*, org: Organization, user_id: int, reason: str, by, actor: str = "") -> dict:
    """Take a person off the organization's staff (they left, or should no longer have access): every
    membership of theirs here ends and, when they work nowhere else, their open timer is stopped and their
    account disabled. Returns what changed: {"memberships", "timer_minutes", "account_disabled", "patients_waiting"}.

    Raises:
        InvalidInput: no reason. PermissionDenied: yourself. Conflict: not active here.
    """
    reason = reason_given(reason)
    target = member(org, user_id)
    if by is not None and target.user.id == by.id:
        raise PermissionDenied("You cannot take yourself off the staff; ask another lead or the administrator.")
    active = [m for m in target.memberships if m.active]
    if not active:
        raise Conflict(f"{target.user} is not on the active staff of {org}.")
    user = User.objects.select_for_update().get(pk=target.user.pk)
    leaves_all = not Membership.objects.filter(user=user, active=True).exclude(organization=org).exists()
    timer_minutes = _stop_timer(user) if leaves_all else None
    Membership.objects.filter(id__in=[m.id for m in active]).update(active=False)
    if leaves_all:
        user.is_active = False
        user.save(update_fields=["is_active"])
    result = {
        "memberships": len(active),
        "timer_minutes": timer_minutes,
        "account_disabled": leaves_all,
        "patients_waiting": target.patients,
    }
    audit_change(org, by, actor, user, {"deactivated": [m.role for m in active], "reason": reason, **result})
    return result


def audit_change(org: Organization, by, actor: str, person: User, detail: dict) -> None:
    """A change to a person of the organization's staff, in its audit chain (by the lead, or `actor` for the
    command line)."""
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        username=actor,
        practice_id=org.id,
        object_type="staff",
        object_id=str(person.id),
        detail={"username": person.username, **detail},
    )


def _stop_timer(user: User) -> int | None:
    """Stop the open timer of someone leaving every organization (the time is kept by the idle rules, as if
    they had pressed stop; someone who still works elsewhere stops their own); minutes credited, or None when
    none was open."""

    timer = open_timer(user)
    if timer is None:
        return None
    entry = stop_timer(timer=timer, staff=user, note="Stopped when the staff member was taken off the staff")
    return round(entry.seconds / 60) if entry is not None else 0


@transaction.atomic
def reactivate(
    *, org: Organization, user_id: int, reason: str, by, roles: list[str] | None = None, actor: str = ""
) -> list[str]:
    """Bring a former staff member back: their memberships here (or those of `roles`) are active again, and so
    is their account. Returns the roles restored.

    Raises:
        InvalidInput: no reason, a role they never held here. Conflict: nothing to restore.
    """
    reason = reason_given(reason)
    target = member(org, user_id)
    inactive = [m for m in target.memberships if not m.active]
    if roles:
        unknown = sorted(set(roles) - {m.role for m in inactive})
        if unknown:
            raise InvalidInput(f"roles: {', '.join(unknown)} is not a former role of {target.user} here")
        inactive = [m for m in inactive if m.role in roles]
    if not inactive and target.user.is_active:
        raise Conflict(f"{target.user} is already on the active staff of {org}.")
    if not target.user.is_active:
        _own_only(org, target.user, "enabling their account again")
    Membership.objects.filter(id__in=[m.id for m in inactive]).update(active=True)
    User.objects.filter(pk=target.user.pk).update(is_active=True)
    restored = [m.role for m in inactive]
    audit_change(org, by, actor, target.user, {"reactivated": restored, "reason": reason})
    return restored


@transaction.atomic
def reset_password(*, org: Organization, user_id: int, by, actor: str = "") -> str:
    """A new one-time password for a staff member who forgot theirs (to be changed at the next sign-in); their
    sessions end. Only for someone who works for this organization alone.

    Raises:
        PermissionDenied: yourself (change your own on the password page), someone who works elsewhere too.
        Conflict: not on the active staff.
    """
    target = member(org, user_id)
    if by is not None and target.user.id == by.id:
        raise PermissionDenied("Change your own password on the password page.")
    if not target.active:
        raise Conflict(f"{target.user} is not on the active staff of {org}; bring them back first.")
    _own_only(org, target.user, "resetting their password")
    password = temporary_password()
    user = User.objects.select_for_update().get(pk=target.user.pk)
    user.set_password(password)  # a new password hash: every session of theirs ends
    user.password_change_required = True
    user.save(update_fields=["password", "password_change_required"])
    audit_change(org, by, actor, user, {"password": "reset"})
    return password


@transaction.atomic
def mfa_enrollment_code(*, org: Organization, user_id: int, by, actor: str = "") -> str:
    """A one-time code with which a staff member enrols their authenticator (their role requires two-step sign-in);
    given to them in person or by phone. Not for yourself, nor for someone off the active staff.

    Raises:
        PermissionDenied: yourself.
        Conflict: not on the active staff.
    """

    target = member(org, user_id)
    if by is not None and target.user.id == by.id:
        raise PermissionDenied("Another lead, or the operator (ccmops mfa enrollment-code), issues your code.")
    if not target.active:
        raise Conflict(f"{target.user} is not on the active staff of {org}; bring them back first.")
    return issue_enrollment_code(user=target.user, by=by, actor=actor, practice_id=org.id)


@transaction.atomic
def change_own_password(*, user: User, old: str, new: str, again: str) -> None:
    """A user changes their password (and, after a one-time password, must). The old one is required; the new
    one passes the configured validators and differs from the old.

    Raises:
        InvalidInput: the field and what is wrong with it.
    """
    if not user.check_password(old):
        raise InvalidInput("old_password: not your current password")
    if new != again:
        raise InvalidInput("new_password2: the two new passwords differ")
    if new == old:
        raise InvalidInput("new_password1: choose a password different from the current one")
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise InvalidInput("new_password1: " + " ".join(exc.messages)) from None
    user.set_password(new)
    user.password_change_required = False
    user.save(update_fields=["password", "password_change_required"])
    record_audit(
        action=AuditAction.UPDATE,
        user=user,
        object_type="user",
        object_id=str(user.id),
        detail={"password": "changed", "at": timezone.now().isoformat()},
    )
