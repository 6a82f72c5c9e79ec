"""An organization's staff over the API, for its leads (the Staff page's operations; ccmops.administration.staff).
`org` names one of the organizations the caller leads (its slug; the first when omitted)."""

from __future__ import annotations

from decimal import Decimal

from ninja import Router, Schema
from ninja.responses import Status

from ccmops.administration import staff

router = Router(tags=["staff"])
ERRORS = {403: dict, 404: dict, 409: dict, 422: dict}


class StaffIn(Schema):
    username: str
    role: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    credential: str = ""
    licence_state: str = ""  # the state whose licence they work under (US state code)
    clinical: bool | None = None  # counts as clinical staff; by role when omitted
    hours: Decimal = Decimal(0)  # committed hours a week
    practitioner_id: int | None = None  # a billing practitioner's practitioner record


class ReasonIn(Schema):
    reason: str


@router.get("/staff", response={200: dict, **ERRORS})
def list_staff(request, org: str = ""):
    """Everyone who holds or held a membership at the organization: active first, then former."""
    organization = staff.led_organization(request.user, org)
    return {
        "organization": {"id": organization.id, "slug": organization.slug, "name": organization.name},
        "staff": [s.as_dict() for s in staff.staff(organization)],
    }


@router.post("/staff", response={201: dict, **ERRORS})
def add_staff(request, payload: StaffIn, org: str = ""):
    """Add a person (their one-time password is in the answer, once; it must be changed at the first sign-in),
    or give one of the staff another role (no password)."""
    organization = staff.led_organization(request.user, org)
    added = staff.add_staff(org=organization, by=request.user, **payload.dict())
    return Status(
        201,
        {
            "user_id": added.user.id,
            "username": added.user.username,
            "membership_id": added.membership.id,
            "role": added.membership.role,
            "one_time_password": added.password or None,
        },
    )


@router.post("/staff/{user_id}/deactivate", response={200: dict, **ERRORS})
def deactivate(request, user_id: int, payload: ReasonIn, org: str = ""):
    """Take a person off the staff: their memberships here end; when they work nowhere else their open timer is
    stopped and their account disabled."""
    organization = staff.led_organization(request.user, org)
    return staff.deactivate(org=organization, user_id=user_id, reason=payload.reason, by=request.user)


@router.post("/staff/{user_id}/reactivate", response={200: dict, **ERRORS})
def reactivate(request, user_id: int, payload: ReasonIn, org: str = ""):
    """Bring a former staff member back (their former roles here and their account)."""
    organization = staff.led_organization(request.user, org)
    return {"roles": staff.reactivate(org=organization, user_id=user_id, reason=payload.reason, by=request.user)}


@router.post("/staff/{user_id}/password", response={200: dict, **ERRORS})
def reset_password(request, user_id: int, org: str = ""):
    """A new one-time password for a staff member who works for this organization alone (in the answer, once)."""
    organization = staff.led_organization(request.user, org)
    return {"one_time_password": staff.reset_password(org=organization, user_id=user_id, by=request.user)}
