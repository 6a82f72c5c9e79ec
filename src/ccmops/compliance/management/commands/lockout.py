"""`ccmops lockout status` lists locked usernames; `ccmops lockout unlock USERNAME` lifts a lock early (the
administrator has verified the person), recorded in the audit log."""

from __future__ import annotations

import datetime as dt
import getpass

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.lockout import locked_minutes
from ccmops.compliance.models import AuditAction, AuditEvent
from ccmops.errors import InvalidInput


class Command(BaseCommand):
    help = "Sign-in lockout: `status` lists locked usernames, `unlock USERNAME` lifts a lock (audited)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="usernames locked now, with minutes left")
        unlock = sub.add_parser("unlock", help="lift the lock on a username before it expires")
        unlock.add_argument("username")
        unlock.add_argument("--reason", required=True, help="why (e.g. identity confirmed by phone); audited")

    def handle(self, *args, action: str, username: str = "", reason: str = "", **options):
        if action == "status":
            since = timezone.now() - dt.timedelta(minutes=settings.CCMOPS_LOGIN_LOCKOUT_MINUTES)
            names = sorted(
                set(AuditEvent.objects.filter(action="login_failed", at__gte=since).values_list("username", flat=True))
            )
            locked = [(n, locked_minutes(n)) for n in names]
            for name, minutes in locked:
                if minutes:
                    self.stdout.write(f"{name:<24} locked, {minutes} min left")
            if not any(m for _, m in locked):
                self.stdout.write("No username is locked.")
            return
        if not locked_minutes(username):
            raise InvalidInput(f"username: {username!r} is not locked")
        if len(reason.strip()) < 5:
            raise InvalidInput("--reason: say why the lock is lifted (kept in the audit log)")
        record_audit(
            action=AuditAction.UNLOCK,
            username=username,
            detail={"by": f"cli:{getpass.getuser()}", "reason": reason.strip()},
        )
        self.stdout.write(f"{username}: unlocked; the next sign-in is allowed")
