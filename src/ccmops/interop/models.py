"""The import report of every file imported (or rejected)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportRun(models.Model):
    KINDS = [("fhir", "FHIR Bundle"), ("ccda", "C-CDA document"), ("bulk", "Bulk FHIR NDJSON"), ("csv", "CSV")]
    STATUSES = [
        ("queued", "Waiting for a worker"),
        ("validating", "Validating"),
        ("writing", "Writing"),
        ("succeeded", "Succeeded"),
        ("rejected", "Rejected"),
        ("interrupted", "Interrupted (resumable)"),
        ("failed", "Failed (stopped while validating; nothing written)"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="imports")
    kind = models.CharField(max_length=8, choices=KINDS)
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=STATUSES, default="validating")
    total = models.PositiveIntegerField(default=0, help_text="records to write")
    done = models.PositiveIntegerField(default=0, help_text="records written (the resume checkpoint)")
    counts = models.JSONField(default=dict)
    problems = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    unclassified_codes = models.JSONField(default=list)
    started_at = models.DateTimeField(auto_now_add=True)
    chunked = models.BooleanField(
        default=False,
        help_text="written in committed chunks (resumable): until it succeeds, part of the file may be in the registry",
    )
    worker = models.CharField(max_length=100, blank=True, default="", help_text="host:pid of the process running it")
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["practice", "sha256"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.status})"

    @property
    def counted(self) -> str:
        """What the import read, in words: "1 patient, 8 conditions, 20 encounters, 20 coverage records, 26
        medications …" (the clinical picture's kinds only when the input had them)."""
        c = self.counts or {}
        parts = [
            (c.get("patients", 0), "patient", "patients"),
            (c.get("conditions", 0), "condition", "conditions"),
            (c.get("encounters", 0), "encounter", "encounters"),
            (c.get("coverages", 0), "coverage record", "coverage records"),
        ]
        parts += [
            (c[key], one, many)
            for key, one, many in (
                ("qmb_periods", "QMB period", "QMB periods"),
                ("medications", "medication", "medications"),
                ("allergies", "allergy", "allergies"),
                ("observations", "observation", "observations"),
                ("immunizations", "immunization", "immunizations"),
            )
            if c.get(key)
        ]
        return ", ".join(f"{n:,} {one if n == 1 else many}" for n, one, many in parts)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, int(self.done * 100 / self.total))
