"""A practice's practitioners — the NPIs that bill, and those who sign consents and care plans — kept by its
program owner: registered once (an NPI is one person's), corrected with a reason, taken off and back. An NPI is
fixed once a decision or claim line names the practitioner: it is then on record as billed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.organizations.changes import record_change
from ccmops.organizations.models import CREDENTIALS, Organization, Practitioner
from ccmops.organizations.validators import plain_text, reason_given


def practitioners(org: Organization) -> list[Practitioner]:
    """The practice's practitioners, active first, with the account linked (if any)."""
    return sorted(
        Practitioner.objects.filter(practice=org).select_related("user"),
        key=lambda p: (not p.active, p.last_name.lower(), p.first_name.lower()),
    )


def practitioner(org: Organization, practitioner_id: int) -> Practitioner:
    found = Practitioner.objects.filter(pk=practitioner_id, practice=org).first()
    if found is None:
        raise NotFound(f"No practitioner {practitioner_id} at {org}.")
    return found


def practitioner_dict(p: Practitioner) -> dict:
    return {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "npi": p.npi,
        "credential": p.credential,
        "active": p.active,
        "username": p.user.username if p.user_id else None,
        "npi_fixed": npi_fixed(p),
    }


CREDENTIAL_CODES = {code for code, _ in CREDENTIALS}


def _person(first_name: str, last_name: str, npi: str, credential: str) -> tuple[str, str, str, str]:
    first_name = plain_text("first_name", (first_name or "").strip())
    last_name = plain_text("last_name", (last_name or "").strip())
    if not first_name or not last_name:
        raise InvalidInput("first_name, last_name: a practitioner needs a first and a last name")
    if len(first_name) > 100 or len(last_name) > 100:
        raise InvalidInput("first_name, last_name: at most 100 characters")
    npi = (npi or "").strip()
    try:
        Practitioner._meta.get_field("npi").run_validators(npi)
    except ValidationError as exc:
        raise InvalidInput(f"npi: {' '.join(exc.messages)}") from None
    credential = (credential or "").strip().upper()
    if credential not in CREDENTIAL_CODES:
        raise InvalidInput(f"credential: expected one of {', '.join(sorted(CREDENTIAL_CODES))}, got {credential!r}")
    return first_name, last_name, npi, credential


def _npi_taken(org: Organization, npi: str, exclude: int | None = None) -> None:
    other = Practitioner.objects.filter(npi=npi).exclude(pk=exclude).first()
    if other is None:
        return
    where = f"{other} at this practice" if other.practice_id == org.id else "a practitioner of another practice"
    raise Conflict(f"npi: {npi} is already registered to {where}; an NPI is one person's")


@transaction.atomic
def add_practitioner(
    *, org: Organization, first_name: str, last_name: str, npi: str, credential: str, by, actor: str = ""
) -> Practitioner:
    """Register a practitioner of the practice (a billing practitioner's NPI, or one who signs consents)."""
    if not org.is_practice:
        raise InvalidInput(f"practice: {org} is a partner; practitioners belong to the practice that bills")
    first_name, last_name, npi, credential = _person(first_name, last_name, npi, credential)
    _npi_taken(org, npi)
    try:
        with transaction.atomic():
            p = Practitioner.objects.create(
                practice=org, first_name=first_name, last_name=last_name, npi=npi, credential=credential
            )
    except IntegrityError:  # registered meanwhile by someone else
        raise Conflict(f"npi: {npi} was registered meanwhile") from None
    record_change(
        chain=org.id,
        obj=p,
        object_type="practitioner",
        by=by,
        actor=actor,
        action=AuditAction.CREATE,
        detail={"name": f"{first_name} {last_name}", "npi": npi, "credential": credential},
    )
    return p


def npi_fixed(p: Practitioner) -> bool:
    """Whether a decision or claim line names the practitioner (their NPI is then on record as billed)."""

    return (
        PatientMonthDecision.objects.filter(billing_practitioner=p).exists()
        or ClaimLine.objects.filter(billing_practitioner=p).exists()
    )


@transaction.atomic
def change_practitioner(
    *, org: Organization, practitioner_id: int, by, actor: str = "", reason: str = "", **fields
) -> dict[str, list]:
    """Correct a practitioner's name, credential or NPI, or take them off (active=False) and back; a reason is
    required for each change. Returns {field: [before, after]}.

    Raises:
        Conflict: an NPI that a decision or claim line already names, or one registered to someone else.
    """
    p = Practitioner.objects.select_for_update().get(pk=practitioner(org, practitioner_id).pk)
    allowed = {"first_name", "last_name", "npi", "credential", "active"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)}: not a practitioner field; expected {', '.join(sorted(allowed))}")
    reason = reason_given(reason)
    first, last, npi, credential = _person(
        fields.get("first_name", p.first_name),
        fields.get("last_name", p.last_name),
        fields.get("npi", p.npi),
        fields.get("credential", p.credential),
    )
    after = {"first_name": first, "last_name": last, "npi": npi, "credential": credential}
    if "active" in fields:
        after["active"] = bool(fields["active"])
    changed = {k: [getattr(p, k), v] for k, v in after.items() if getattr(p, k) != v}
    if not changed:
        return {}
    if "npi" in changed:
        if npi_fixed(p):
            raise Conflict(
                f"npi: {p.npi} is on {p}'s decisions or claim lines and stays on record; if it was wrong, add a "
                "practitioner with the right NPI and take this one off"
            )
        _npi_taken(org, npi, exclude=p.pk)
    for k, (_, v) in changed.items():
        setattr(p, k, v)
    p.save(update_fields=list(changed))
    record_change(
        chain=org.id,
        obj=p,
        object_type="practitioner",
        by=by,
        actor=actor,
        detail={"changed": changed, "reason": reason},
    )
    return changed


def patients_billed_by(p: Practitioner) -> int:
    """Patients whose billing practitioner they are (their consents name them)."""
    return p.patients.count()
