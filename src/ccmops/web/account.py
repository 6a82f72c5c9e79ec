"""The signed-in user's own password: change it at any time, and — after signing in with a one-time password
a lead or the administrator gave them — before anything else works."""

from __future__ import annotations

from django import forms
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ccmops.administration.staff import change_own_password
from ccmops.errors import InvalidInput

PASSWORD_PATH = "/account/password/"
OPEN_PATHS = (PASSWORD_PATH, "/mfa/", "/logout/", "/static/", "/login/")


class PasswordChangeRequiredMiddleware:
    """A user signed in with a one-time password changes it first: pages go to the password page, the API
    answers 403 saying so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "password_change_required", False)
            and not request.path.startswith(OPEN_PATHS)
        ):
            if request.path.startswith("/api/"):
                return HttpResponse(
                    '{"detail": "Change your one-time password first (on the password page, ' + PASSWORD_PATH + ')."}',
                    status=403,
                    content_type="application/json",
                )
            return redirect(reverse("password_change"))
        return self.get_response(request)


class PasswordForm(forms.Form):
    old_password = forms.CharField(
        label="Current password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label="New password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    user = request.user
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change_own_password(
                user=user, old=data["old_password"], new=data["new_password1"], again=data["new_password2"]
            )
        except InvalidInput as exc:
            field, _, message = str(exc).partition(": ")
            form.add_error(field if field in form.fields else None, message or str(exc))
        else:
            update_session_auth_hash(request, user)  # this session stays; every other one ends
            return redirect("home")
    return render(request, "web/password_change.html", {"form": form, "required": user.password_change_required})
