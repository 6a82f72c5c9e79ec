"""The append-only, hash-chained audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    PRINT = "print"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    UNLOCK = "unlock"


class AuditEvent(models.Model):
    """One audited action. Rows are only ever inserted; each carries the hash of the one before it in its
    chain: a practice's events form that practice's chain (`chain` = the practice's id), events of no practice
    (sign-ins, system tasks) and every event written before chains were per practice form chain 0."""

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(max_length=150, blank=True)
    practice = models.ForeignKey("organizations.Organization", null=True, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="success")
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text="the audit key that signed it (HMAC); '' = SHA-256",
    )
    chain = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["chain", "id"]),
            models.Index(fields=["practice", "at"]),
            models.Index(fields=["patient", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The newest hash and the length of one chain (`id` = the chain: a practice's id, or 0). Locking the row
    serializes appends to that chain only, so practices never wait for each other's audited writes."""

    id = models.PositiveBigIntegerField(primary_key=True)
    last_hash = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit chain {self.id} head ({self.count} events)"
