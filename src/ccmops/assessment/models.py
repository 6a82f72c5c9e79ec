"""Model-fit assessments as run: the questionnaire, the result, and the matrix version it led to (if applied)."""

from __future__ import annotations

from django.db import models


class ModelFitAssessment(models.Model):
    SOURCES = [("questionnaire", "Questionnaire"), ("measured", "Questionnaire with the practice's measured figures")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=SOURCES)
    questionnaire = models.JSONField()
    result = models.JSONField()
    recommended = models.CharField(max_length=32)
    created_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    applied_matrix = models.ForeignKey(
        "organizations.ResponsibilityMatrix", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "created_at"])]

    def __str__(self) -> str:
        return f"{self.practice} {self.created_at:%Y-%m-%d}: {self.recommended}"
