"""`ccmops mfa reset USERNAME` (lost phone), `ccmops mfa enrollment-code USERNAME` (the one-time code a user whose
role requires two-step sign-in enters before enrolling; the way for system administrators) and `ccmops mfa status`:
operator tools for two-step sign-in."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand
from django.db import transaction

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import NotFound
from ccmops.organizations.mfa_enrollment import issue_enrollment_code
from ccmops.organizations.models import User
from ccmops.web.mfa import mfa_required


class Command(BaseCommand):
    help = "Two-step sign-in: `reset USERNAME` removes a user's authenticator; `status` lists who has one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reset = sub.add_parser("reset", help="remove a user's authenticator (they set up a new one at sign-in)")
        reset.add_argument("username")
        sub.add_parser("status", help="list active users, whether they have an authenticator and must use one")
        code = sub.add_parser(
            "enrollment-code", help="a one-time code with which the user sets up their authenticator (72 hours)"
        )
        code.add_argument("username")

    def handle(self, *args, action: str, username: str = "", **options):
        if action == "status":
            for user in User.objects.filter(is_active=True).order_by("username"):
                state = f"on since {user.totp_enabled_at:%Y-%m-%d}" if user.totp_enabled_at else "off"
                need = "required" if mfa_required(user) else "optional"
                self.stdout.write(f"{user.username:<24} {state:<20} {need}")
            return
        user = User.objects.filter(username=username).first()
        if user is None:
            raise NotFound(f"no user named {username!r}")
        if action == "enrollment-code":
            code = issue_enrollment_code(user=user, actor=f"cli:{getpass.getuser()}")
            self.stdout.write(f"{user.username}: enrollment code {code} (works once, for 72 hours)")
            return
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(totp_secret="", totp_enabled_at=None, totp_last_step=0)
            record_audit(
                action=AuditAction.UPDATE,
                username=f"cli:{getpass.getuser()}",
                obj=user,
                detail={"mfa": "reset", "user": user.username},
            )
        self.stdout.write(f"{user.username}: authenticator removed; they will set up a new one at their next sign-in")
