"""TOTP multi-factor authentication (ONC 170.315(d)(13)): set-up, the second sign-in step, and the gate.

After the password, a user with an authenticator app must enter its current code before any page or API call
works; a user whose role requires MFA (CCMOPS_MFA_REQUIRED_ROLES) and has none set up is sent to set one up.
Codes come from pyotp (RFC 6238, 30-second steps, one step of clock drift allowed); each step's code is accepted
once. Wrong codes count toward the same sign-in lockout as wrong passwords.
"""

from __future__ import annotations

import pyotp
import segno
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from ccmops.compliance.audit import record_audit
from ccmops.compliance.lockout import client_address, locked_minutes
from ccmops.compliance.models import AuditAction
from ccmops.organizations.mfa_enrollment import enrollment_code_ok, spend_enrollment_code
from ccmops.organizations.models import Membership, User
from ccmops.platform.numerals import ascii_digits

SESSION_VERIFIED = "mfa_verified"
SESSION_PENDING_SECRET = "mfa_pending_secret"
SESSION_ENROLLMENT_OK = "mfa_enrollment_ok"  # the enrollment code was given in this session
ISSUER = "ccmops"
OPEN_PATHS = ("/mfa/", "/logout/", "/static/", "/login/")


def mfa_required(user: User) -> bool:
    """Whether the user must use a second factor: they turned it on, they are a system administrator (the
    administrator's site can reset anyone's password: always), or one of their roles requires it."""
    if user.totp_enabled_at is not None or user.is_superuser or user.is_staff:
        return True
    required = settings.CCMOPS_MFA_REQUIRED_ROLES
    if not required:
        return False
    if hasattr(user, "mfa_role"):  # read with the user on each request (ccmops.web.auth.Backend)
        return user.mfa_role
    return Membership.objects.filter(user=user, role__in=required).exists()


def check_code(user: User, code: str, *, secret: str | None = None) -> int | None:
    """The 30-second step the code belongs to when it is valid and not used before, else None."""
    code = "".join(code.split())
    if not (ascii_digits(code) and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret or user.totp_secret)
    now = timezone.now()
    for drift in (0, -1, 1):
        at = now.timestamp() + drift * totp.interval
        step = int(at // totp.interval)
        if step > user.totp_last_step and totp.verify(code, for_time=int(at), valid_window=0):
            return step
    return None


class MfaMiddleware:
    """Nothing past the password until the second factor is done (pages redirect; the API answers 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.session.get(SESSION_VERIFIED)
            and not request.path.startswith(OPEN_PATHS)
            and mfa_required(user)
        ):
            if request.path.startswith("/api/"):
                return HttpResponse(
                    '{"detail": "Multi-factor authentication required: finish signing in."}',
                    status=401,
                    content_type="application/json",
                )
            target = "mfa-verify" if user.totp_enabled_at else "mfa-setup"

            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


def _accept(request, user: User, step: int, *, secret: str | None = None) -> None:
    with transaction.atomic():
        fields = {"totp_last_step": step}
        if secret:
            fields |= {"totp_secret": secret, "totp_enabled_at": timezone.now()}
        User.objects.filter(pk=user.pk).update(**fields)
        record_audit(
            action=AuditAction.UPDATE if secret else AuditAction.LOGIN,
            user=user,
            obj=user,
            detail={"mfa": "enrolled" if secret else "verified"},
        )
    if secret:
        spend_enrollment_code(user)
    request.session[SESSION_VERIFIED] = True
    request.session.pop(SESSION_PENDING_SECRET, None)
    request.session.pop(SESSION_ENROLLMENT_OK, None)
    request.session.cycle_key()


def _refuse(request, user: User, form: forms.Form, field: str = "code") -> HttpResponse | None:
    """Record a wrong code; when that locks the username, sign the user out."""
    address = client_address(request)
    record_audit(
        action=AuditAction.LOGIN_FAILED,
        username=user.get_username(),
        outcome="mfa_failure",
        detail={"address": address},
    )
    minutes = locked_minutes(user.get_username(), address)
    if minutes:
        logout(request)
        return redirect(f"{settings.LOGIN_URL_PATH}?locked={minutes}")
    if field == "code":
        form.add_error(field, "That code is not right, or was already used. Enter the code your app shows now.")
    else:
        form.add_error(field, "That enrollment code is not right, or it expired. Ask your lead for a new one.")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if not user.totp_enabled_at:
        return redirect("mfa-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = check_code(user, form.cleaned_data["code"])
        if step is not None:
            _accept(request, user, step)
            return redirect(_next(request))
        refused = _refuse(request, user, form)
        if refused:
            return refused
    return render(request, "web/mfa_verify.html", {"form": form, "next": _next(request)})


class EnrollmentCodeForm(forms.Form):
    enrollment_code = forms.CharField(
        label="Enrollment code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "placeholder": "XXXX-XXXX"}),
    )


def _enrollment_code(request, user: User) -> HttpResponse:
    form = EnrollmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if enrollment_code_ok(user, form.cleaned_data["enrollment_code"]):
            request.session[SESSION_ENROLLMENT_OK] = True
            return redirect(f"{request.path}?next={_next(request)}")
        refused = _refuse(request, user, form, field="enrollment_code")
        if refused:
            return refused
    return render(request, "web/mfa_enrollment_code.html", {"form": form, "next": _next(request), "user": user})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    user = request.user
    if user.totp_enabled_at and not request.session.get(SESSION_VERIFIED):
        return redirect("mfa-verify")
    # A user whose role requires two-step sign-in proves, before an authenticator is shown, that their lead (or
    # the operator) confirmed the enrollment: the password alone must not let a stranger enrol their own device.
    if (
        mfa_required(user)
        and not request.session.get(SESSION_VERIFIED)
        and not request.session.get(SESSION_ENROLLMENT_OK)
    ):
        return _enrollment_code(request, user)
    secret = request.session.get(SESSION_PENDING_SECRET)
    if not secret:
        secret = request.session[SESSION_PENDING_SECRET] = pyotp.random_base32()
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = check_code(user, form.cleaned_data["code"], secret=secret)
        if step is not None:
            _accept(request, user, step, secret=secret)
            return redirect(_next(request))
        refused = _refuse(request, user, form)
        if refused:
            return refused
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "web/mfa_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg,
            "secret": grouped,
            "next": _next(request),
            "required": mfa_required(user),
            "replacing": bool(user.totp_enabled_at),
        },
    )
