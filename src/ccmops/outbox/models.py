"""The practice's EHR connection and the outbox of what is owed to it (issue 34).

An `Outgoing` row is written in the same database transaction as the event it reports (a note signed), so an
event never happens without its row and a rolled-back event leaves none; a job delivers the rows (`ccmops.ehr`).
Each row carries the identifier the EHR's copy is created under, so a retry finds the copy instead of making a
second one."""

from __future__ import annotations

from django.db import models


def list_of_kinds() -> list[str]:
    """Every kind the outbox knows: what a new connection sends until the practice says otherwise."""
    return [key for key, _ in Outgoing.KINDS]


class EhrConnection(models.Model):
    """How ccmops reaches the practice's EHR: its FHIR R4 base URL and ccmops's registration there as a SMART
    Backend Services client (`private_key_jwt`: a key pair ccmops generated, its public half published as a JWKS).
    The private key is kept encrypted (`ccmops.outbox.secrets`)."""

    practice = models.OneToOneField("organizations.Organization", on_delete=models.PROTECT, related_name="ehr")
    base_url = models.URLField(max_length=300)
    client_id = models.CharField(max_length=200)
    token_url = models.URLField(max_length=300, blank=True)  # from .well-known/smart-configuration when empty
    scopes = models.CharField(max_length=500, default="system/*.read system/DocumentReference.write")
    group_id = models.CharField(max_length=200, blank=True, help_text="the Group of the practice's panel, for sync in")
    algorithm = models.CharField(max_length=5, default="ES384")  # ES384 or RS384
    key_id = models.CharField(max_length=64, blank=True)
    private_key = models.TextField(blank=True)  # PEM, encrypted
    public_jwk = models.JSONField(default=dict, blank=True)
    write_back = models.BooleanField(
        default=False, help_text="send signed notes, approved care plans, consents and monthly summaries to the EHR"
    )
    note_type = models.CharField(max_length=20, default="11506-3")  # LOINC: progress note
    sends = models.JSONField(default=list_of_kinds, blank=True, help_text="the kinds of document the EHR takes")
    send_pdf = models.BooleanField(default=False, help_text="attach the note as PDF besides its text")
    structured = models.JSONField(
        default=list, blank=True,
        help_text="kinds also sent as their own FHIR resource: care_plan (a CarePlan, with the plan's PDF as a "
        "document), consent (a Consent, revoked by updating it — when the EHR's connection test found Consent create)",
    )  # fmt: skip
    sync_mode = models.CharField(
        max_length=6, default="bulk",
        choices=[("bulk", "Bulk Data export of the Group"), ("search", "FHIR search, patient by patient")],
    )  # fmt: skip
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"EHR of {self.practice}: {self.base_url}"


class Outgoing(models.Model):
    KINDS = [
        ("note", "Signed note"),
        ("care_plan", "Approved care plan"),
        ("consent", "Consent"),
        ("revocation", "Consent revoked"),
        ("month_summary", "Monthly CCM summary"),
        ("episode", "Enrollment (episode of care)"),
    ]
    STATUSES = [("queued", "Waiting"), ("sent", "Delivered"), ("parked", "Needs a person")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="outgoing")
    kind = models.CharField(max_length=14, choices=KINDS)
    object_id = models.PositiveBigIntegerField()
    identifier = models.CharField(max_length=100, unique=True)  # urn:ccmops:<practice>:<kind>:<id>
    status = models.CharField(max_length=8, choices=STATUSES, default="queued")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=1000, blank=True)
    location = models.CharField(max_length=300, blank=True)  # the EHR's id of its copy
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["practice", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} → EHR: {self.status}"
