"""Delivering what the outbox owes the EHR (issue 34). Each row in its own transaction, locked while it is sent:

- delivered (201 created, or 200: a copy under ccmops's identifier was there already — a retry after a lost
  answer) → *delivered*, with the EHR's id of it;
- the EHR is down, slow, overloaded (5xx, 429, a timeout, a dropped connection) → tried again later, backing off
  from a minute to an hour (or as the server's Retry-After says), for as long as it takes: nothing is dropped;
- the EHR refuses the item itself (another 4xx, with its OperationOutcome), the patient is not found in it, or the
  item cannot be made valid → *needs a person*, with the reason, until someone resends it.

A token the EHR refuses leaves every row waiting and fails the run with the EHR's words (the connection, not the
items, needs fixing)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.ehr.client import EhrClient, EhrError
from ccmops.ehr.documents import (
    IDENTIFIER_SYSTEM,
    care_plan_resource,
    consent_identifier,
    consent_of,
    consent_resource,
    document_for,
    episode_of_care,
)
from ccmops.errors import Conflict, InvalidInput, NotFound
from ccmops.outbox.models import EhrConnection, Outgoing
from ccmops.platform.pdf import pdf_response
from ccmops.platform.retry import backoff


def as_pdf(title: str, text: str) -> bytes:
    return pdf_response("ehr/document.html", {"title": title, "text": text}, "document.pdf").content


def structured_kinds(connection: EhrConnection) -> set[str]:
    """The kinds the practice sends as their own FHIR resources (`EhrConnection.structured`) that its EHR's last
    connection test found it can create: a CarePlan, a Consent. The others go as documents only."""
    creates = set((connection.last_test or {}).get("creates", []))
    wanted = {"care_plan": "CarePlan", "consent": "Consent"}
    return {kind for kind in connection.structured if wanted.get(kind) in creates}


def _patient_in_ehr(client: EhrClient, mrn: str, found: dict) -> str:
    if mrn not in found:
        bundle = client.get("Patient", "patient search", params={"identifier": mrn})
        ids = [e["resource"]["id"] for e in bundle.get("entry", []) if e.get("resource", {}).get("id")]
        if len(ids) != 1:
            raise InvalidInput(
                f"the EHR has {'no' if not ids else len(ids)} patient{'s' if len(ids) > 1 else ''} with MRN {mrn}"
            )
        found[mrn] = ids[0]
    return found[mrn]


def deliver(practice_id: int, *, session=None, now: dt.datetime | None = None, limit: int = 500) -> dict:
    """Send what is due for the practice; returns the counts {delivered, retrying, parked}."""
    now = now or timezone.now()
    connection = EhrConnection.objects.filter(practice_id=practice_id).first()
    if connection is None:
        raise NotFound("The practice has no EHR connection.")
    client = EhrClient(connection, session)
    counts = {"delivered": 0, "retrying": 0, "parked": 0}
    due = list(
        Outgoing.objects.filter(practice_id=practice_id, status="queued", next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not due:
        return counts
    try:
        client.token()
    except EhrError as exc:
        if exc.transient:
            later = now + dt.timedelta(seconds=backoff(1, exc.retry_after))
            Outgoing.objects.filter(id__in=due).update(next_attempt_at=later, last_error=str(exc)[:1000])
            counts["retrying"] = len(due)
            return counts
        raise Conflict(f"The EHR refused ccmops's authorization: {exc}") from None
    found: dict[str, str] = {}
    structured = structured_kinds(connection)
    for row_id in due:
        counts[_send(client, connection, row_id, found, now, structured)] += 1
    return counts


def _deliver_one(client: EhrClient, connection: EhrConnection, row: Outgoing, patient_id: str, structured: set) -> str:
    """Send the row as the practice chose; returns the EHR's id of what it keeps for the row."""
    match = f"identifier={IDENTIFIER_SYSTEM}|{row.identifier}"
    if row.kind == "episode":  # it follows the enrollment: the EHR's copy is replaced, never doubled
        return client.update(episode_of_care(row, patient_id), query=match, what="EpisodeOfCare")[1]
    if row.kind in ("consent", "revocation") and "consent" in structured:
        consent = consent_of(row)  # one Consent, made active, then made inactive by its revocation
        query = f"identifier={IDENTIFIER_SYSTEM}|{consent_identifier(consent)}"
        return client.update(consent_resource(consent, patient_id), query=query, what="Consent")[1]
    as_careplan = row.kind == "care_plan" and "care_plan" in structured
    if as_careplan:  # the CarePlan, then the plan's PDF as a document: each created once under the row's identifier
        client.create(care_plan_resource(row, patient_id), if_none_exist=match, what="CarePlan")
    pdf = as_pdf if connection.send_pdf or as_careplan else None
    return client.create(document_for(row, connection, patient_id, pdf=pdf), if_none_exist=match,
                         what="DocumentReference")[1]  # fmt: skip


def _send(
    client: EhrClient, connection: EhrConnection, row_id: int, found: dict, now: dt.datetime, structured: set
) -> str:
    with transaction.atomic():
        row = Outgoing.objects.select_for_update().select_related("patient").filter(id=row_id, status="queued").first()
        if row is None:
            return "delivered"  # another worker sent it meanwhile
        row.attempts += 1
        try:
            patient_id = _patient_in_ehr(client, row.patient.mrn, found)
            rid = _deliver_one(client, connection, row, patient_id, structured)
        except EhrError as exc:
            row.last_error = str(exc)[:1000]
            if exc.transient:
                row.next_attempt_at = now + dt.timedelta(seconds=backoff(row.attempts, exc.retry_after))
                outcome = "retrying"
            else:
                row.status, outcome = "parked", "parked"
        except InvalidInput as exc:
            row.status, row.last_error, outcome = "parked", str(exc)[:1000], "parked"
        else:
            row.status, row.sent_at, row.location, row.last_error = "sent", now, rid, ""
            outcome = "delivered"
        row.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "location", "sent_at"])
        return outcome


@transaction.atomic
def resend(*, row: Outgoing, by) -> Outgoing:
    """Send a parked item again (after fixing what the EHR said)."""
    row = Outgoing.objects.select_for_update().get(pk=row.pk)
    if row.status != "parked":
        raise Conflict("Only an item that needs a person is resent; the others are sent by themselves.")
    row.status, row.next_attempt_at, row.attempts = "queued", timezone.now(), 0
    row.save(update_fields=["status", "next_attempt_at", "attempts"])
    record_audit(action=AuditAction.UPDATE, user=by, patient=row.patient, obj=row, detail={"resend": row.identifier})
    return row
