"""Settings → Messaging (issue 36): the practice's program owner chooses how texts and emails reach patients
(`portal.services.save_messaging`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ccmops.administration.staff import led_organization
from ccmops.errors import InvalidInput
from ccmops.portal.services import MESSAGING_FIELDS, save_messaging, settings_of


@login_required
def messaging_settings(request):
    """Settings → Messaging (the practice's program owner): how texts and emails reach patients."""
    practice = led_organization(request.user, request.POST.get("org") or request.GET.get("org", ""))
    if not practice.is_practice:
        raise InvalidInput("org: messaging belongs to a practice; choose one you lead")
    config, error, notice = settings_of(practice), "", ""
    if request.method == "POST":
        try:
            config = save_messaging(practice=practice, by=request.user, values=request.POST.dict())
            notice = "Saved."
        except InvalidInput as exc:
            error = str(exc)
    values = {f: request.POST.get(f, getattr(config, f)) if error else getattr(config, f) for f in MESSAGING_FIELDS}
    return render(request, "portal/settings.html", {
        "practice": practice, "values": values, "error": error, "notice": notice,
        "has_token": bool(config.twilio_auth_token), "has_password": bool(config.smtp_password),
        "callbacks": [request.build_absolute_uri(f"/hooks/twilio/{practice.id}/{k}/") for k in ("status", "inbound")],
    }, status=422 if error else 200)  # fmt: skip
