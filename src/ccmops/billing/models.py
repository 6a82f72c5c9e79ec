"""Per patient-month standing, as the rules engine decided it when the facts last changed."""

from __future__ import annotations

from django.db import models


class MonthStanding(models.Model):
    """Cached engine result for a patient-month, refreshed whenever its facts change (time, consent, care plan,
    visits). The worklist reads it instead of re-deciding hundreds of months per page."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="standings")
    month = models.CharField(max_length=7)
    minutes = models.PositiveIntegerField(default=0)
    next_threshold = models.PositiveSmallIntegerField(null=True)
    next_code = models.CharField(max_length=5, blank=True)
    status = models.CharField(max_length=20, blank=True)
    codes = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "month"], name="uniq_month_standing")]
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.month}: {self.minutes} min"
