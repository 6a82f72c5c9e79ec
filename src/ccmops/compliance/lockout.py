"""Sign-in throttling (ONC 170.315(d)(1)): too many failures lock a username — for the client address they came
from, so that a stranger guessing from elsewhere cannot keep the account locked for its owner — and too many
failures from one address, over any usernames, lock that address. Every sign-in path (the sign-in page, the
administrator's site, which sends its sign-in there, and the second factor) counts the same failures."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditEvent

ADDRESS_FACTOR = 4  # failures from one address, over any usernames, that lock the address: this many locks' worth


def client_address(request) -> str:
    """The address a request came from (REMOTE_ADDR: behind a proxy, the proxy sets it; docs/security.md)."""
    return (request.META.get("REMOTE_ADDR", "") if request is not None else "")[:64]


def _minutes_left(failures: list, window: dt.timedelta) -> int:
    return max(1, int((failures[0] + window - timezone.now()).total_seconds() // 60) + 1)


def locked_minutes(username: str, address: str | None = None) -> int:
    """Minutes left on a lock, 0 when the username may try from `address`. Without an address (the
    administrator's `ccmops lockout status`), a lock of the username from any address counts."""
    window = dt.timedelta(minutes=settings.CCMOPS_LOGIN_LOCKOUT_MINUTES)
    since = timezone.now() - window
    most = settings.CCMOPS_LOGIN_MAX_FAILURES
    recent = AuditEvent.objects.filter(action="login_failed", at__gte=since).order_by("-at")
    if address:
        from_there = list(recent.filter(detail__address=address).values_list("at", flat=True)[: most * ADDRESS_FACTOR])
        if len(from_there) >= most * ADDRESS_FACTOR:
            return _minutes_left(from_there, window)
        recent = recent.filter(detail__address=address)
    failures = list(recent.filter(username=username).values_list("at", flat=True)[:most])
    if len(failures) < most:
        return 0
    # A successful sign-in, or an administrator's unlock, after the oldest counted failure lifts the lock.
    lifted = AuditEvent.objects.filter(action__in=("login", "unlock"), username=username, at__gte=failures[-1]).exists()
    if lifted:
        return 0
    return _minutes_left(failures, window)


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username", "")
        minutes = locked_minutes(username, client_address(self.request)) if username else 0
        if minutes:
            record_audit(
                action="login_failed",
                username=username[:150],
                outcome="locked",
                detail={"address": client_address(self.request)},
            )
            raise forms.ValidationError(
                f"Too many failed sign-ins for this username. Try again in {minutes} minutes or ask an administrator.",
                code="locked",
            )
        return super().clean()
