"""How a signed-in user is loaded on each request: with the time zone their pages are shown in and whether a
role of theirs requires a second factor, in one query."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery

from ccmops.organizations.models import Membership, User


def practice_time_zone():
    """The time zone of the user's first active practice membership, in the order memberships are listed."""
    return Subquery(
        Membership.objects.filter(user=OuterRef("pk"), active=True, organization__kind="practice")
        .order_by(*Membership._meta.ordering)  # the order memberships_of lists them in
        .values("organization__time_zone")[:1]
    )


def has_mfa_role(roles=None):
    """Whether the user holds one of `roles` (by default those CCMOPS_MFA_REQUIRED_ROLES names; read fresh with
    every request)."""
    roles = settings.CCMOPS_MFA_REQUIRED_ROLES if roles is None else roles
    return Exists(Membership.objects.filter(user=OuterRef("pk"), role__in=sorted(roles)))


# The user's id in the query compiled once (any value that cannot be a primary key of ours).
_SENTINEL = -918_273_645
_compiled: dict[tuple, tuple[str, tuple, int]] = {}


def _user_query(roles: tuple[str, ...]) -> tuple[str, tuple, int]:
    """The per-request user read as SQL and parameters, with the index of the user id among them: the query
    with its two subqueries took about 3 ms of Python to build and compile, on every request."""
    key = (connection.vendor, roles)
    if key not in _compiled:
        extra = {"display_time_zone": practice_time_zone()}
        if roles:
            extra["mfa_role"] = has_mfa_role(roles)
        query = User._default_manager.annotate(**extra).filter(pk=_SENTINEL).order_by("pk")[:1]
        sql, params = query.query.sql_with_params()
        _compiled[key] = (sql, tuple(params), params.index(_SENTINEL))
    return _compiled[key]


class Backend(ModelBackend):
    """Django's model backend; the per-request user read also brings the display time zone and whether a role
    requires a second factor, so neither the time zone middleware nor the MFA middleware needs a query of its
    own (every request, timer heartbeats included, saves two). The read's SQL is compiled once per process (and
    per setting of CCMOPS_MFA_REQUIRED_ROLES) and run as a raw query."""

    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        sql, params, at = _user_query(tuple(sorted(settings.CCMOPS_MFA_REQUIRED_ROLES)))
        params = list(params)
        params[at] = user_id
        user = next(iter(User._default_manager.raw(sql, params)), None)
        if user is not None and hasattr(user, "mfa_role"):
            user.mfa_role = bool(user.mfa_role)  # SQLite gives 0 or 1
        return user if user is not None and self.user_can_authenticate(user) else None
