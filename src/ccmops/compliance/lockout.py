"""Sign-in throttling: too many failures for one username lock it for a while (ONC 170.315(d)(1))."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from ccmops.compliance.models import AuditEvent


def locked_minutes(username: str) -> int:
    """Minutes left on a lock, 0 when the username may try."""
    window = dt.timedelta(minutes=settings.CCMOPS_LOGIN_LOCKOUT_MINUTES)
    since = timezone.now() - window
    failures = list(
        AuditEvent.objects.filter(action="login_failed", username=username, at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)[: settings.CCMOPS_LOGIN_MAX_FAILURES]
    )
    if len(failures) < settings.CCMOPS_LOGIN_MAX_FAILURES:
        return 0
    # A successful sign-in, or an administrator's unlock, after the oldest counted failure lifts the lock.
    lifted = AuditEvent.objects.filter(action__in=("login", "unlock"), username=username, at__gte=failures[-1]).exists()
    if lifted:
        return 0
    return max(1, int((failures[0] + window - timezone.now()).total_seconds() // 60) + 1)


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username", "")
        minutes = locked_minutes(username) if username else 0
        if minutes:
            from ccmops.compliance.audit import record_audit

            record_audit(action="login_failed", username=username[:150], outcome="locked")
            raise forms.ValidationError(
                f"Too many failed sign-ins for this username. Try again in {minutes} minutes or ask an administrator.",
                code="locked",
            )
        return super().clean()
