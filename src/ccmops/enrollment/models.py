"""Enrollment of a patient in a program, with its dated history (never overwritten)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STATUSES = [
    ("candidate", "Candidate"),
    ("outreach", "Outreach in progress"),
    ("consented", "Consented"),
    ("declined", "Declined"),
    ("unable_to_reach", "Unable to reach"),
    ("enrolled_elsewhere", "Enrolled elsewhere"),
    ("active", "Active"),
    ("paused", "Paused"),
    ("disenrolled", "Disenrolled"),
]
PROGRAMS = [("ccm", "CCM"), ("pcm", "PCM"), ("apcm", "APCM")]


class Enrollment(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="enrollments")
    program = models.CharField(max_length=8, choices=PROGRAMS)
    status = models.CharField(max_length=20, choices=STATUSES, default="candidate")
    status_since = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "program"], name="uniq_enrollment")]
        indexes = [models.Index(fields=["practice", "program", "status"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.get_program_display()}: {self.get_status_display()}"


class EnrollmentEvent(models.Model):
    """One status change; the enrollment's history. Append-only."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=STATUSES)
    reason = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    party = models.ForeignKey(
        "organizations.Organization",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The organization whose staff made the change (practice or partner)",
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.from_status or '—'} → {self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Enrollment history is append-only.")
        super().save(*args, **kwargs)
