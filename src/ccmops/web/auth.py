"""How a signed-in user is loaded on each request: with the time zone their pages are shown in and whether a
role of theirs requires a second factor, in one query."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef, Subquery

from ccmops.organizations.models import Membership, User


def practice_time_zone():
    """The time zone of the user's first active practice membership, in the order memberships are listed."""
    return Subquery(
        Membership.objects.filter(user=OuterRef("pk"), active=True, organization__kind="practice")
        .order_by(*Membership._meta.ordering)  # the order memberships_of lists them in
        .values("organization__time_zone")[:1]
    )


def has_mfa_role():
    """Whether the user holds a role that CCMOPS_MFA_REQUIRED_ROLES names (read fresh with every request)."""
    return Exists(Membership.objects.filter(user=OuterRef("pk"), role__in=settings.CCMOPS_MFA_REQUIRED_ROLES))


class Backend(ModelBackend):
    """Django's model backend; the per-request user read also brings the display time zone and whether a role
    requires a second factor, so neither the time zone middleware nor the MFA middleware needs a query of its
    own (every request, timer heartbeats included, saves two)."""

    def get_user(self, user_id):
        extra = {"display_time_zone": practice_time_zone()}
        if settings.CCMOPS_MFA_REQUIRED_ROLES:
            extra["mfa_role"] = has_mfa_role()
        user = User._default_manager.annotate(**extra).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
