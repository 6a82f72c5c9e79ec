"""Enrolling an authenticator (ONC 170.315(d)(13)) needs more than the password when a user's role requires two-step
sign-in: a one-time enrollment code that the organization's lead issues on the Staff page, or the operator with
`ccmops mfa enrollment-code USERNAME` (the way for system administrators). Codes expire, work once, and are stored
only as a hash."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.organizations.models import User

VALID_FOR = dt.timedelta(hours=72)
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out over the phone


@transaction.atomic
def issue_enrollment_code(*, user: User, by=None, actor: str = "", practice_id: int | None = None) -> str:
    """A new enrollment code for the user (replacing any earlier one), valid for 72 hours; shown once."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    code = f"{raw[:4]}-{raw[4:]}"
    expires = timezone.now() + VALID_FOR
    User.objects.filter(pk=user.pk).update(mfa_enrollment_code=make_password(raw), mfa_enrollment_expires_at=expires)
    record_audit(
        action=AuditAction.UPDATE,
        user=by,
        username=actor,
        practice_id=practice_id,
        obj=user,
        object_type="staff",
        detail={"mfa": "enrollment code issued", "user": user.username, "expires": expires.isoformat()},
    )
    return code


def enrollment_code_ok(user: User, code: str) -> bool:
    """Whether `code` is the user's unexpired enrollment code (case, spaces and the dash do not matter)."""
    given = "".join(c for c in (code or "").upper() if c.isalnum())
    if not user.mfa_enrollment_code or user.mfa_enrollment_expires_at is None:
        return False
    if user.mfa_enrollment_expires_at < timezone.now() or len(given) != 8 or not given.isascii():
        return False
    return check_password(given, user.mfa_enrollment_code)


def spend_enrollment_code(user: User) -> None:
    """The code is used up once the authenticator is enrolled."""
    User.objects.filter(pk=user.pk).update(mfa_enrollment_code="", mfa_enrollment_expires_at=None)
