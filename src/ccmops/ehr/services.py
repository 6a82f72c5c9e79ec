"""The EHR connection's use cases (issue 34), shared by Settings, the API and `ccmops ehr`: save it (checked), give
it a new key pair, test it — each audited (never the key)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.ehr import keys
from ccmops.ehr.client import check
from ccmops.ehr.documents import NOTE_TYPES
from ccmops.errors import InvalidInput, NotFound
from ccmops.outbox.models import EhrConnection, Outgoing
from ccmops.outbox.secrets import seal

FIELDS = ("base_url", "client_id", "token_url", "scopes", "group_id")
DEFAULT_SCOPES = EhrConnection._meta.get_field("scopes").default
STRUCTURED = {"care_plan": "Care plans also as CarePlan resources (the plan's PDF as a document beside it)",
              "consent": "Consents as Consent resources (revoked by updating them), instead of documents"}  # fmt: skip


def _audit(connection: EhrConnection, by, action: str) -> None:
    record_audit(
        action=AuditAction.UPDATE, user=by, practice_id=connection.practice_id, obj=connection,
        detail={"action": action, "base_url": connection.base_url, "write_back": connection.write_back,
                "key_id": connection.key_id},
    )  # fmt: skip


def connection_of(practice) -> EhrConnection:
    connection = EhrConnection.objects.filter(practice=practice).first()
    if connection is None:
        raise NotFound(f"{practice.name} has no EHR connection yet: save one first.")
    return connection


@transaction.atomic
def save_connection(*, practice, by, values: dict) -> EhrConnection:
    """Create or change the practice's connection. `values`: base_url, client_id (both needed), token_url, scopes,
    group_id, algorithm, note_type, write_back, send_pdf, sync_mode (bulk or search), and — left as they are when
    absent — sends (the kinds of document the EHR takes) and structured (kinds also sent as their own FHIR
    resource: `STRUCTURED`).

    Raises:
        InvalidInput: not a practice, an address that is not http(s), a missing client id, an unknown note type or
            algorithm.
    """
    if not practice.is_practice:
        raise InvalidInput("org: an EHR connection belongs to a practice")
    given = {f: str(values.get(f) or "").strip() for f in FIELDS}
    schemes = ["https", "http"] if settings.CCMOPS_EHR_ALLOW_HTTP else ["https"]
    valid = URLValidator(schemes=schemes)
    for name in ("base_url", "token_url"):
        if given[name]:
            try:
                valid(given[name])
            except ValidationError:
                raise InvalidInput(f"{name}: expected the EHR's https address, got {given[name]!r}") from None
    if not given["base_url"] or not given["client_id"]:
        raise InvalidInput("base_url and client_id: both are needed (the EHR gives the client id on registration)")
    note_type = values.get("note_type") or "11506-3"
    if note_type not in NOTE_TYPES:
        raise InvalidInput(f"note_type: expected one of {', '.join(NOTE_TYPES)}")
    algorithm = values.get("algorithm") or "ES384"
    if algorithm not in keys.ALGORITHMS:
        raise InvalidInput(f"algorithm: expected one of {', '.join(keys.ALGORITHMS)}")
    connection = EhrConnection.objects.filter(practice=practice).first() or EhrConnection(practice=practice)
    for k, v in given.items():
        setattr(connection, k, v)
    connection.scopes = connection.scopes or DEFAULT_SCOPES
    connection.note_type, connection.algorithm = note_type, algorithm
    connection.write_back, connection.send_pdf = bool(values.get("write_back")), bool(values.get("send_pdf"))
    if "structured" in values:
        unknown = [k for k in values["structured"] if k not in STRUCTURED]
        if unknown:
            raise InvalidInput(f"structured: expected some of {', '.join(STRUCTURED)}, got {', '.join(unknown)}")
        connection.structured = [k for k in STRUCTURED if k in values["structured"]]
    if values.get("sync_mode"):
        if values["sync_mode"] not in ("bulk", "search"):
            raise InvalidInput(f"sync_mode: expected bulk or search, got {values['sync_mode']!r}")
        connection.sync_mode = values["sync_mode"]
    if "sends" in values:
        known = [key for key, _ in Outgoing.KINDS]
        unknown = [k for k in values["sends"] if k not in known]
        if unknown:
            raise InvalidInput(f"sends: expected some of {', '.join(known)}, got {', '.join(unknown)}")
        connection.sends = [k for k in known if k in values["sends"]]
    connection.updated_by = by
    connection.save()
    _audit(connection, by, "save")
    return connection


@transaction.atomic
def new_key(*, practice, by) -> EhrConnection:
    """A new key pair for the connection (the EHR must fetch its JWKS again)."""
    connection = connection_of(practice)
    pem, jwk, kid = keys.generate(connection.algorithm)
    connection.private_key, connection.public_jwk, connection.key_id = seal(pem), jwk, kid
    connection.updated_by = by
    connection.save()
    _audit(connection, by, "new key pair")
    return connection


def test_connection(*, practice, by, session=None) -> dict:
    """Run the connection test and keep its result on the connection."""
    connection = connection_of(practice)
    result = check(connection, session)
    with transaction.atomic():
        connection.last_test_at, connection.last_test = timezone.now(), result
        connection.save(update_fields=["last_test_at", "last_test"])
        _audit(connection, by, "test")
    return result
