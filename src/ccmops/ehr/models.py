"""The syncs in from the practice's EHR (issue 34)."""

from __future__ import annotations

from django.db import models


class SyncRun(models.Model):
    """One Bulk Data export from the EHR (`$export` on the practice's Group), downloaded whole and imported."""

    STATUSES = [("running", "Running"), ("succeeded", "Done"), ("failed", "Failed")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)  # `_since`: the start of the last successful run
    status = models.CharField(max_length=10, choices=STATUSES, default="running")
    files = models.JSONField(default=dict)  # resource type -> lines downloaded
    import_run = models.ForeignKey(
        "interop.ImportRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync of {self.practice} {self.started_at:%Y-%m-%d %H:%M}: {self.status}"
