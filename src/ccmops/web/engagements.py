"""Engaging a partner (the practice's operating-model page) and ending an engagement (either side's page):
ccmops.organizations.engagements."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ccmops.administration.staff import led_organization
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.organizations import engagements
from ccmops.organizations.services import may_change_model
from ccmops.patients.scope import request_scope
from ccmops.web.views import operating_model_page

ENGAGE_FIELDS = ("partner", "starts_on", "ends_on", "note")


@login_required
@require_POST
def engage(request, practice_id: int):
    """The practice's program owner engages a partner."""
    practice = request_scope(request).practice(practice_id)
    if not may_change_model(request.user, practice):
        raise PermissionDenied("Only the practice's program owner engages a partner.")
    given = {f: request.POST.get(f, "").strip() for f in ENGAGE_FIELDS}
    try:
        e = engagements.engage_partner(
            practice=practice,
            partner_slug=given["partner"],
            starts_on=given["starts_on"],
            ends_on=given["ends_on"] or None,
            note=given["note"],
            by=request.user,
        )
    except (InvalidInput, Conflict) as exc:
        return operating_model_page(
            request, practice, status=exc.http_status, engage_error=str(exc), engage_given=given
        )
    notice = (
        f"{e.partner} is engaged from {e.starts_on}. It sees your patients once the operating model gives it "
        "functions: record a new version below."
    )
    return redirect(f"{reverse('operating_model', args=[practice.id])}?notice={quote(notice)}#engagements")


@login_required
@require_POST
def end(request, engagement_id: int):
    """Either side's lead ends an engagement (last day and reason required)."""
    org = led_organization(request.user, request.POST.get("org", ""))
    ends_on, reason = request.POST.get("ends_on", ""), request.POST.get("reason", "")
    e = engagements.engagement_of(org, engagement_id)
    try:
        e = engagements.end_engagement(org=org, engagement_id=e.id, ends_on=ends_on, reason=reason, by=request.user)
        notice = f"The engagement of {e.partner} for {e.practice} ends on {e.ends_on} (its last day)."
    except (InvalidInput, Conflict) as exc:
        notice = f"Not ended: {exc}"
    if org.is_practice:
        return redirect(f"{reverse('operating_model', args=[org.id])}?notice={quote(notice)}#engagements")
    return redirect(f"{reverse('org_settings')}?org={org.slug}&notice={quote(notice)}#engagements")
