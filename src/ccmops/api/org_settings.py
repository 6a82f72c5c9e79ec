"""An organization's settings, a practice's practitioners and the engagements between practices and partners over
the API, for the organizations' leads (ccmops.administration.org_settings and .engagements). `org` names one of
the organizations the caller leads (its slug; the first when omitted)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from ccmops.administration import org_settings, practitioners
from ccmops.administration.staff import led_organization
from ccmops.organizations import charges, engagements, rule_policies
from ccmops.organizations.engagements import practice_today
from ccmops.reporting.setup import practice_setup

router = Router(tags=["settings"])
ERRORS = {403: dict, 404: dict, 409: dict, 422: dict}


class SettingsIn(Schema):
    """The settings to change (any of them; a partner has name, time_zone and the claim contact only)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    npi: str | None = None
    tin: str | None = None
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    place_of_service: str | None = None
    time_zone: str | None = None
    medicare_contractor_name: str | None = None
    medicare_contractor_id: str | None = None
    edi_submitter_id: str | None = None
    billing_contact_name: str | None = None
    billing_contact_phone: str | None = None
    claims_submitter: str | None = None  # "" for the practice itself, or an engaged partner's slug
    timer_idle_credit_minutes: int | None = None
    timer_idle_drop_minutes: int | None = None
    unreachable_after_attempts: int | None = None


class PractitionerIn(Schema):
    first_name: str
    last_name: str
    npi: str
    credential: str


class PractitionerChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str
    first_name: str | None = None
    last_name: str | None = None
    npi: str | None = None
    credential: str | None = None
    active: bool | None = None


def _view(org) -> dict:
    return {
        "organization": {"id": org.id, "slug": org.slug, "kind": org.kind},
        "settings": org_settings.current(org),
        "time_zone_fixed": org_settings.time_zone_fixed(org) or None,
        "practitioners": [practitioners.practitioner_dict(p) for p in practitioners.practitioners(org)]
        if org.is_practice
        else [],
        "rule_policies": rule_policies.policies(org) if org.is_practice else [],
        "charges": {k: v for k, v in sorted((org.charge_schedule or {}).items())} if org.is_practice else {},
        "getting_started": [
            {"step": step.key, "label": step.label, "done": step.done, "detail": step.detail}
            for step in practice_setup(org, practice_today(org))
        ]
        if org.is_practice
        else [],
    }


@router.get("/settings", response={200: dict, **ERRORS})
def get_settings(request, org: str = ""):
    """The organization's settings (claim identity, time zone, program settings) and practitioners."""
    return _view(led_organization(request.user, org))


@router.patch("/settings", response={200: dict, **ERRORS})
def change_settings(request, payload: SettingsIn, org: str = ""):
    """Change the settings given; the answer names each changed field with its value before and after."""
    organization = led_organization(request.user, org)
    changes = payload.dict(exclude_unset=True)
    return {"changed": org_settings.change_settings(org=organization, changes=changes, by=request.user)}


class PoliciesIn(Schema):
    values: dict[str, bool | int | str]  # policy name → value (the default removes the practice's override)
    reason: str


@router.patch("/settings/policies", response={200: dict, **ERRORS})
def change_policies(request, payload: PoliciesIn, org: str = ""):
    """Set some of the practice's rule policies; months not yet closed are decided under them at their next
    evaluation. The answer lists each change as [before, after]."""
    organization = led_organization(request.user, org)
    changed = rule_policies.change_policies(
        org=organization, values=payload.values, reason=payload.reason, by=request.user
    )
    return {"changed": changed}


class ChargesIn(Schema):
    charges: dict[str, str | None]  # code → "85.00" (dollars and cents), or null to remove


@router.patch("/settings/charges", response={200: dict, **ERRORS})
def change_charges(request, payload: ChargesIn, org: str = ""):
    """Set some of the practice's charges (what its claims carry per line, R-CLM-CHG-1); the answer lists each
    change as [before, after]."""
    organization = led_organization(request.user, org)
    return {"changed": charges.set_charges(org=organization, values=payload.charges, by=request.user)}


@router.post("/settings/practitioners", response={201: dict, **ERRORS})
def add_practitioner(request, payload: PractitionerIn, org: str = ""):
    """Register a practitioner of the practice (NPI check digit verified; an NPI is registered once)."""
    organization = led_organization(request.user, org)
    p = practitioners.add_practitioner(org=organization, by=request.user, **payload.dict())
    return Status(201, practitioners.practitioner_dict(p))


@router.patch("/settings/practitioners/{practitioner_id}", response={200: dict, **ERRORS})
def change_practitioner(request, practitioner_id: int, payload: PractitionerChangeIn, org: str = ""):
    """Correct a practitioner's record or take them off (`active: false`); a reason is required. The NPI is
    fixed once a decision or claim line names them (409)."""
    organization = led_organization(request.user, org)
    fields = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    reason = fields.pop("reason")
    changed = practitioners.change_practitioner(
        org=organization, practitioner_id=practitioner_id, by=request.user, reason=reason, **fields
    )
    return {"changed": changed}


class EngageIn(Schema):
    partner: str  # the partner's slug
    starts_on: dt.date
    ends_on: dt.date | None = None
    note: str = ""


class EndIn(Schema):
    ends_on: dt.date  # the partner's last day: today or later
    reason: str


@router.get("/engagements", response={200: dict, **ERRORS})
def list_engagements(request, org: str = ""):
    """The organization's engagements, as the practice or as the partner (state: planned, active, ended)."""
    organization = led_organization(request.user, org)
    return {"engagements": [engagements.engagement_dict(e) for e in engagements.engagements_of(organization)]}


@router.post("/engagements", response={201: dict, **ERRORS})
def engage_partner(request, payload: EngageIn, org: str = ""):
    """The practice engages a partner (by slug); the partner sees patients once the operating model gives it
    functions."""
    organization = led_organization(request.user, org)
    e = engagements.engage_partner(
        practice=organization,
        partner_slug=payload.partner,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        note=payload.note,
        by=request.user,
    )
    return Status(201, engagements.engagement_dict(e))


@router.post("/engagements/{engagement_id}/end", response={200: dict, **ERRORS})
def end_engagement(request, engagement_id: int, payload: EndIn, org: str = ""):
    """Either side ends an engagement on a last day, today or later (409 when it already ends sooner)."""
    organization = led_organization(request.user, org)
    e = engagements.end_engagement(
        org=organization, engagement_id=engagement_id, ends_on=payload.ends_on, reason=payload.reason, by=request.user
    )
    return engagements.engagement_dict(e)
