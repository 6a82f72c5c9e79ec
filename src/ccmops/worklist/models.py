"""Contact windows, scheduled calls, care transitions and the follow-up tasks they create."""

from __future__ import annotations

from django.conf import settings
from django.db import models

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ContactWindow(models.Model):
    """When the patient prefers to be called, in the patient's (or practice's) time zone."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="contact_windows")
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class ScheduledContact(models.Model):
    STATUSES = [
        ("scheduled", "Scheduled"),
        ("done", "Done"),
        ("missed", "Missed (rescheduled)"),
        ("cancelled", "Cancelled"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="scheduled_contacts")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default="scheduled")
    reason = models.CharField(max_length=300)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["practice", "status", "due_at"]), models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"call {self.due_at:%Y-%m-%d %H:%M} ({self.status})"


class CareTransition(models.Model):
    KINDS = [
        ("ed_visit", "ED visit"),
        ("admission", "Hospital admission"),
        ("discharge", "Discharge"),
        ("snf_admission", "SNF admission"),
        ("snf_discharge", "SNF discharge"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="transitions")
    kind = models.CharField(max_length=16, choices=KINDS)
    occurred_at = models.DateTimeField()
    facility = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=[("manual", "Recorded"), ("hl7", "HL7 ADT feed")])
    message_id = models.CharField(max_length=100, blank=True, help_text="HL7 MSH-10, to import a feed idempotently")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["practice"])]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "message_id"], condition=~models.Q(message_id=""), name="uniq_transition_message"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class FollowUpTask(models.Model):
    KINDS = [
        ("transition", "Transition follow-up"),
        ("unreachable", "Unreachable patient"),
        ("care_plan_review", "Care-plan review"),
        ("medication", "Medication discrepancy"),
        ("urgent", "Urgent: a clinician today"),
        ("social_needs", "Social needs: community resources"),
        ("coverage", "Coverage changed: check before billing"),
        ("billed_elsewhere", "Billed elsewhere: confirm with the patient"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=16, choices=KINDS)
    title = models.CharField(max_length=300)
    due_on = models.DateField()
    transition = models.ForeignKey(
        CareTransition, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    status = models.CharField(max_length=8, choices=[("open", "Open"), ("done", "Done")], default="open")
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on"]
        indexes = [models.Index(fields=["practice", "status", "due_on"]), models.Index(fields=["patient", "status"])]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_on})"
