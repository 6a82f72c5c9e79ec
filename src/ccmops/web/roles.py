"""A user's roles, home page and navigation."""

from __future__ import annotations

from ccmops.access.policy import Role
from ccmops.organizations.services import memberships_of

ROLE_ORDER = [
    Role.CARE_MANAGER,
    Role.BILLING_PRACTITIONER,
    Role.BILLER,
    Role.PROGRAM_OWNER,
    Role.PARTNER_OPS_LEAD,
    Role.COMPLIANCE_REVIEWER,
    Role.SYSTEM_ADMIN,
]


def roles_of(user) -> list[Role]:
    held = {Role(m.role) for m in memberships_of(user)}
    if user.is_superuser:
        held.add(Role.SYSTEM_ADMIN)
    return [r for r in ROLE_ORDER if r in held]


def primary_role(user) -> Role | None:
    roles = roles_of(user)
    return roles[0] if roles else None


NOT_LOADED = object()


def display_time_zone(user) -> str | None:
    loaded = getattr(user, "display_time_zone", NOT_LOADED)  # read with the user on each request (web.auth)
    if loaded is not NOT_LOADED:
        return loaded
    for m in memberships_of(user):
        if m.organization.is_practice:
            return m.organization.time_zone
    return None
