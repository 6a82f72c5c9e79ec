"""How a signed-in user is loaded on each request: with the time zone their pages are shown in, in one query."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db.models import OuterRef, Subquery

from ccmops.organizations.models import Membership, User


def practice_time_zone():
    """The time zone of the user's first active practice membership, in the order memberships are listed."""
    return Subquery(
        Membership.objects.filter(user=OuterRef("pk"), active=True, organization__kind="practice")
        .order_by(*Membership._meta.ordering)  # the order memberships_of lists them in
        .values("organization__time_zone")[:1]
    )


class Backend(ModelBackend):
    """Django's model backend; the per-request user read also brings the display time zone, so the time zone
    middleware needs no query of its own (every request, timer heartbeats included, saves one)."""

    def get_user(self, user_id):
        user = User._default_manager.annotate(display_time_zone=practice_time_zone()).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
