"""A job: one piece of long work, its progress and its outcome."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

ACTIVE = ("queued", "running")


class Job(models.Model):
    STATUSES = [
        ("queued", "Waiting for a worker"),
        ("running", "Running"),
        ("succeeded", "Done"),
        ("failed", "Failed"),
    ]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    practice = models.ForeignKey("organizations.Organization", null=True, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=STATUSES, default="queued")
    # The same work asked for twice while the first is waiting or running joins the first (unique among active).
    key = models.CharField(max_length=200, blank=True, default="")
    # A scheduled run's period ("rescreen:3:2026-12-06"): unique for ever, so a period runs once however many
    # workers tick the schedule.
    period_key = models.CharField(max_length=200, null=True, unique=True)  # noqa: DJ001 - NULL: not scheduled
    task_id = models.UUIDField(null=True)  # the django-tasks queue row
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    retries = models.PositiveSmallIntegerField(default=0)  # put back in the queue after a failure or a lost worker
    token = models.CharField(max_length=32, blank=True, default="")  # the attempt that may finish the job
    worker_id = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True)
    step = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(null=True)
    error = models.TextField(blank=True, default="")
    # A refusal's HTTP status (422 bad input, 409 conflict…) for the API to answer with; 500 for a crash.
    error_status = models.PositiveSmallIntegerField(null=True)
    return_url = models.CharField(max_length=300, blank=True, default="")
    file_path = models.CharField(max_length=500, blank=True, default="")
    file_name = models.CharField(max_length=200, blank=True, default="")
    file_expires_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    next_attempt_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(status__in=ACTIVE) & ~Q(key=""), name="jobs_one_active_per_key"
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "-created_at"], name="jobs_by_practice"),
            models.Index(fields=["status", "lease_until"], name="jobs_by_lease"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == "succeeded" else None
        return min(100, round(100 * self.done / self.total))
