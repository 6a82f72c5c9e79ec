"""Care plans: every change is a new version; draft → reviewed → approved by the billing practitioner;
shared with the patient (R-PLAN-1..3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STATUSES = [("draft", "Draft"), ("reviewed", "Reviewed"), ("approved", "Approved")]


class CarePlan(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="care_plans")
    kind = models.CharField(
        max_length=20,
        choices=[("comprehensive", "Comprehensive (CCM/APCM)"), ("disease_specific", "Disease-specific (PCM)")],
    )
    program = models.CharField(max_length=8, choices=[("ccm", "CCM"), ("pcm", "PCM"), ("apcm", "APCM")])
    lock_version = models.PositiveIntegerField(default=1, help_text="optimistic lock: bumps on every change")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["practice"])]
        constraints = [models.UniqueConstraint(fields=["patient", "program"], name="uniq_care_plan_program")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} plan for {self.patient}"

    @property
    def latest(self) -> CarePlanVersion | None:
        return self.versions.order_by("-number").first()

    @property
    def in_force(self) -> CarePlanVersion | None:
        """The latest approved version: the plan on file for billing."""
        return self.versions.filter(status="approved").order_by("-number").first()


class CarePlanVersion(models.Model):
    """One immutable version; status moves forward only through review and approval of this version."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    care_plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    change_summary = models.CharField(max_length=300, blank=True)
    substantial_revision = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUSES, default="draft")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True)
    approved_by = models.ForeignKey("organizations.Practitioner", null=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True)
    next_review_due = models.DateField(null=True)

    class Meta:
        ordering = ["care_plan", "number"]
        constraints = [models.UniqueConstraint(fields=["care_plan", "number"], name="uniq_care_plan_version")]
        indexes = [models.Index(fields=["practice", "status", "next_review_due"])]

    def __str__(self) -> str:
        return f"v{self.number} ({self.get_status_display()})"


class CarePlanShare(models.Model):
    """A record that a version was given to the patient or caregiver (R-PLAN-3)."""

    METHODS = [
        ("printed", "Printed copy handed over"),
        ("mailed", "Mailed"),
        ("portal", "Patient portal"),
        ("email", "Email"),
        ("caregiver", "Given to caregiver"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(CarePlanVersion, on_delete=models.PROTECT, related_name="shares")
    shared_at = models.DateTimeField()
    method = models.CharField(max_length=16, choices=METHODS)
    recipient = models.CharField(max_length=200, default="patient")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["shared_at"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"shared {self.shared_at:%Y-%m-%d} ({self.get_method_display()})"
