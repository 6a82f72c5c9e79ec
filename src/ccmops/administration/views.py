"""The Staff and Settings pages: a lead's own organization's people (ccmops.administration.staff), its settings
and practitioners (ccmops.administration.org_settings)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from ccmops.access.policy import Role
from ccmops.administration import org_settings, practitioners
from ccmops.administration import staff as staff_service
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.organizations import charges, rule_policies
from ccmops.organizations.engagements import with_states
from ccmops.organizations.models import CREDENTIALS, STAFF_CREDENTIALS, User
from ccmops.organizations.services import owners_in_force
from ccmops.platform.numerals import ascii_digits

ADD_FIELDS = (
    "username", "first_name", "last_name", "email", "role", "credential", "licence_state", "clinical", "hours",
    "practitioner",
)  # fmt: skip


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
        if raw_practitioner and not ascii_digits(raw_practitioner):
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
            licence_state=given["licence_state"],
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
def staff_mfa_code(request, user_id: int):
    """A one-time enrollment code with which a staff member sets up their authenticator, shown once."""
    acted = _act(
        request, user_id, lambda org: staff_service.mfa_enrollment_code(org=org, user_id=user_id, by=request.user)
    )
    if not isinstance(acted, tuple):
        return acted
    org, code, person = acted
    return _page(
        request, org, one_time={"user": person, "password": code, "what": "given an MFA enrollment code (72 hours)"}
    )


@login_required
@require_POST
def staff_password(request, user_id: int):
    """A new one-time password for a staff member, shown once."""
    acted = _act(request, user_id, lambda org: staff_service.reset_password(org=org, user_id=user_id, by=request.user))
    if not isinstance(acted, tuple):
        return acted
    org, password, person = acted
    return _page(request, org, one_time={"user": person, "password": password, "what": "given a new password"})


def _settings_page(request, org, *, status: int = 200, **extra):
    shown = org_settings.current(org)
    context = {
        "orgs": staff_service.lead_organizations(request.user),
        "chosen": org,
        "fields": [(s, extra.get("given", {}).get(s.name, shown[s.name])) for s in org_settings.settings_for(org)],
        "time_zone_fixed": org_settings.time_zone_fixed(org),
        "submitters": org_settings.submitter_choices(org) if org.is_practice else [],
        "practitioners": [(p, practitioners.npi_fixed(p)) for p in practitioners.practitioners(org) if org.is_practice],
        "credentials": CREDENTIALS,
        "policies": rule_policies.policies(org) if org.is_practice else [],
        "charges": charges.charge_rows(org, timezone.localdate().year) if org.is_practice else [],
        "charge_year": timezone.localdate().year,
        "engagements": [] if org.is_practice else engagement_rows(org),
        "added": dict.fromkeys(PRACTITIONER_FIELDS, ""),
        "notice": request.GET.get("notice", "")[:300],
        **extra,
    }
    return render(request, "organizations/settings.html", context, status=status)


def engagement_rows(org) -> list[tuple]:
    """(engagement, state, the practice's today, the functions the practice's model gives the partner today) for
    each engagement of a partner."""
    listed = with_states(org)
    owners: dict[int, dict] = {}
    for day in {today for _, _, today in listed}:
        owners |= owners_in_force([e.practice_id for e, _, today in listed if today == day], day)
    return [
        (e, state, today, [f.label for f, owner in owners.get(e.practice_id, {}).items() if owner == org.id])
        for e, state, today in listed
    ]


def _settings_back(org, notice: str):
    return redirect(f"{reverse('org_settings')}?org={org.slug}&notice={quote(notice)}")


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    """GET: the settings of the organization the user leads (`org`); POST: change some of them."""
    org = staff_service.led_organization(request.user, request.POST.get("org") or request.GET.get("org", ""))
    if request.method == "GET":
        return _settings_page(request, org)
    given = {s.name: request.POST[s.name] for s in org_settings.settings_for(org) if s.name in request.POST}
    try:
        changed = org_settings.change_settings(org=org, changes=given, by=request.user)
    except (InvalidInput, Conflict) as exc:
        return _settings_page(request, org, status=exc.http_status, error=str(exc), given=given)
    if not changed:
        return _settings_back(org, "Nothing changed.")
    shown = "; ".join(f"{field} {before or '—'} → {after or '—'}" for field, (before, after) in changed.items())
    return _settings_back(org, f"Saved: {shown} (in the audit log).")


PRACTITIONER_FIELDS = ("first_name", "last_name", "npi", "credential")


@login_required
@require_POST
def practitioner_add(request):
    """Register a practitioner of the practice the user leads."""
    org = staff_service.led_organization(request.user, request.POST.get("org", ""))
    added = {f: request.POST.get(f, "").strip() for f in PRACTITIONER_FIELDS}
    try:
        p = practitioners.add_practitioner(org=org, by=request.user, **added)
    except (InvalidInput, Conflict) as exc:
        return _settings_page(request, org, status=exc.http_status, practitioner_error=str(exc), added=added)
    return _settings_back(org, f"{p} (NPI {p.npi}) is registered; link them to a billing practitioner on Staff.")


@login_required
@require_POST
def practitioner_change(request, practitioner_id: int):
    """Correct a practitioner's record, or take them off / bring them back (reason required)."""
    org = staff_service.led_organization(request.user, request.POST.get("org", ""))
    fields = {f: request.POST[f].strip() for f in PRACTITIONER_FIELDS if f in request.POST}
    if "active" in request.POST:
        fields["active"] = request.POST["active"] == "yes"
    try:
        changed = practitioners.change_practitioner(
            org=org, practitioner_id=practitioner_id, by=request.user, reason=request.POST.get("reason", ""), **fields
        )
    except (InvalidInput, Conflict) as exc:
        return _settings_page(request, org, status=exc.http_status, practitioner_error=str(exc))
    p = practitioners.practitioner(org, practitioner_id)
    if not changed:
        return _settings_back(org, f"{p}: nothing changed.")
    notice = f"{p}: " + "; ".join(f"{field} {before} → {after}" for field, (before, after) in changed.items()) + "."
    if changed.get("active") == [True, False] and (waiting := practitioners.patients_billed_by(p)):
        notice += f" {waiting} patients still name them as billing practitioner (their consents do)."
    return _settings_back(org, notice)


@login_required
@require_POST
def charges_change(request):
    """Set the practice's charges (R-CLM-CHG-1); a blank field removes a charge."""
    org = staff_service.led_organization(request.user, request.POST.get("org", ""))
    values = {name.removeprefix("charge_"): value for name, value in request.POST.items() if name.startswith("charge_")}
    try:
        changed = charges.set_charges(org=org, values=values, by=request.user)
    except InvalidInput as exc:
        return _settings_page(request, org, status=exc.http_status, charge_error=str(exc))
    if not changed:
        return _settings_back(org, "Charges: nothing changed.")
    shown = "; ".join(f"{code} {before or '—'} → {after or '—'}" for code, (before, after) in changed.items())
    return _settings_back(org, f"Charges: {shown} (in the audit log).")


@login_required
@require_POST
def policies_change(request):
    """Set the practice's rule policies (reason required)."""
    org = staff_service.led_organization(request.user, request.POST.get("org", ""))
    names = [p["name"] for p in rule_policies.policies(org)] if org.is_practice else []
    values = {name: request.POST[name] for name in names if name in request.POST}
    try:
        changed = rule_policies.change_policies(
            org=org, values=values, reason=request.POST.get("reason", ""), by=request.user
        )
    except InvalidInput as exc:
        return _settings_page(request, org, status=exc.http_status, policy_error=str(exc))
    if not changed:
        return _settings_back(org, "Rule policies: nothing changed.")
    shown = "; ".join(f"{name} {before} → {after}" for name, (before, after) in changed.items())
    return _settings_back(
        org, f"Rule policies: {shown}. Months not yet closed are decided under them at their next evaluation."
    )
