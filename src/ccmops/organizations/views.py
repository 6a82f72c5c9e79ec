"""The Staff page: a lead's own organization's people (ccmops.organizations.staff)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ccmops.access.policy import Role
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.organizations import staff as staff_service
from ccmops.organizations.models import STAFF_CREDENTIALS, User

ADD_FIELDS = ("username", "first_name", "last_name", "email", "role", "credential", "clinical", "hours", "practitioner")


def _page(request, org, *, status: int = 200, **extra):
    people = staff_service.staff(org)
    context = {
        "orgs": staff_service.lead_organizations(request.user),
        "chosen": org,
        "current": [s for s in people if s.active],
        "former": [s for s in people if not s.active],
        "roles": staff_service.grantable_roles(org),
        "credentials": STAFF_CREDENTIALS,
        "practitioners": staff_service.unlinked_practitioners(org) if org.kind == "practice" else [],
        "given": dict.fromkeys(ADD_FIELDS, ""),
        "notice": request.GET.get("notice", "")[:300],
        **extra,
    }
    return render(request, "organizations/staff.html", context, status=status)


def _back(org, notice: str = ""):
    url = f"{reverse('staff')}?org={org.slug}"
    if notice:
        url += f"&notice={quote(notice)}"
    return redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def staff_page(request):
    """GET: the staff of the organization the user leads (`org`); POST: add a person or a role."""
    org = staff_service.led_organization(request.user, request.POST.get("org") or request.GET.get("org", ""))
    if request.method == "GET":
        return _page(request, org)
    given = {f: request.POST.get(f, "").strip() for f in ADD_FIELDS}
    raw_practitioner = given["practitioner"]
    try:
        if given["clinical"] not in ("", "yes", "no"):
            raise InvalidInput(f"clinical: expected yes, no or empty (by role), got {given['clinical']!r}")
        if raw_practitioner and not raw_practitioner.isdigit():
            raise InvalidInput(f"practitioner: expected an id, got {raw_practitioner!r}")
        added = staff_service.add_staff(
            org=org,
            username=given["username"],
            role=given["role"],
            by=request.user,
            first_name=given["first_name"],
            last_name=given["last_name"],
            email=given["email"],
            credential=given["credential"],
            clinical={"yes": True, "no": False}.get(given["clinical"]),
            hours=given["hours"],
            practitioner_id=int(raw_practitioner) if raw_practitioner else None,
        )
    except (InvalidInput, Conflict) as exc:
        return _page(request, org, status=exc.http_status, error=str(exc), given=given)
    role = Role(added.membership.role).label
    if not added.password:
        return _back(org, f"{added.user} is now also {role} at {org}.")
    return _page(request, org, one_time={"user": added.user, "password": added.password, "what": f"added as {role}"})


def _act(request, user_id: int, change):
    """Run `change(org)` on one of the staff of the organization the user leads (`org` of the form): (org, its
    result, the person), or the Staff page saying why it was refused."""
    org = staff_service.led_organization(request.user, request.POST.get("org", ""))
    try:
        result = change(org)
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        return _page(request, org, status=exc.http_status, error=str(exc))
    return org, result, User.objects.get(pk=user_id)


@login_required
@require_POST
def staff_leave(request, user_id: int):
    """Take a person off the staff (reason required)."""
    reason = request.POST.get("reason", "")
    acted = _act(
        request, user_id, lambda org: staff_service.deactivate(org=org, user_id=user_id, reason=reason, by=request.user)
    )
    if not isinstance(acted, tuple):
        return acted
    org, done, person = acted
    parts = [f"{person} is off the staff of {org}"]
    if done["account_disabled"]:
        parts.append("their account is disabled and every session of theirs has ended")
    if done["timer_minutes"] is not None:
        parts.append(f"their open timer was stopped ({done['timer_minutes']} min kept)")
    if done["patients_waiting"]:
        parts.append(f"{done['patients_waiting']} patients of theirs wait for a care manager on the workspace")
    return _back(org, "; ".join(parts) + ".")


@login_required
@require_POST
def staff_return(request, user_id: int):
    """Bring a former staff member back (reason required)."""
    reason = request.POST.get("reason", "")
    acted = _act(
        request, user_id, lambda org: staff_service.reactivate(org=org, user_id=user_id, reason=reason, by=request.user)
    )
    if not isinstance(acted, tuple):
        return acted
    org, roles, person = acted
    labels = ", ".join(Role(r).label for r in roles) or "their account"
    return _back(org, f"{person} is back on the staff of {org} ({labels}).")


@login_required
@require_POST
def staff_password(request, user_id: int):
    """A new one-time password for a staff member, shown once."""
    acted = _act(request, user_id, lambda org: staff_service.reset_password(org=org, user_id=user_id, by=request.user))
    if not isinstance(acted, tuple):
        return acted
    org, password, person = acted
    return _page(request, org, one_time={"user": person, "password": password, "what": "given a new password"})
