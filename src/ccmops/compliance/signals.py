"""Logins, logouts and failed logins go to the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from ccmops.compliance.audit import record_audit
from ccmops.compliance.lockout import client_address
from ccmops.compliance.models import AuditAction


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_audit(action=AuditAction.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_audit(action=AuditAction.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):

    record_audit(
        action=AuditAction.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        outcome="failure",
        detail={"address": client_address(request)},
    )
