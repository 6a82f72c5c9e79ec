"""How a signed-in user is loaded on each request: with the time zone their pages are shown in and whether a
role of theirs requires a second factor, in one query."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef, Subquery

from ccmops.organizations.models import Membership, User
from ccmops.platform.compiled import Compiled, compiled


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


_USER = -918_273_645  # a sentinel: no user has a negative id


class Backend(ModelBackend):
    """Django's model backend; the per-request user read also brings the display time zone and whether a role
    requires a second factor, so neither the time zone middleware nor the MFA middleware needs a query of its
    own (every request, timer heartbeats included, saves two). The read, with its two subqueries, took about
    3 ms of Python to build and compile on every request: it is compiled once per process and setting of
    CCMOPS_MFA_REQUIRED_ROLES (ccmops.platform.compiled)."""

    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        roles = tuple(sorted(settings.CCMOPS_MFA_REQUIRED_ROLES))

        def build() -> Compiled:
            extra = {"display_time_zone": practice_time_zone()}
            if roles:
                extra["mfa_role"] = has_mfa_role(roles)
            return Compiled(User._default_manager.annotate(**extra).filter(pk=_USER)[:1], user=_USER)

        user = compiled(("user with display time zone", roles), build).first(user=user_id)
        if user is not None and hasattr(user, "mfa_role"):
            user.mfa_role = bool(user.mfa_role)  # SQLite gives 0 or 1
        return user if user is not None and self.user_can_authenticate(user) else None
