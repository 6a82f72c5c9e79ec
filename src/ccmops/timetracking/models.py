"""Server-side timers and the time entries they (or manual entry) produce."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ccmops.months.month import Month

ACTIVITIES = [
    ("care_coordination_call", "Care coordination call"),
    ("medication_reconciliation", "Medication reconciliation"),
    ("care_plan_review", "Care-plan review"),
    ("standard_assessment", "Standard assessment (PHQ-9, GAD-7, falls, social needs)"),
    ("transition_follow_up", "Transition follow-up"),
    ("referral_coordination", "Referral coordination"),
    ("community_resource", "Community resource"),
    ("record_review", "Record and results review"),
]
PROGRAMS = [("ccm", "CCM"), ("pcm", "PCM"), ("apcm", "APCM"), ("bhi", "BHI")]
STAFF_ROLES = [
    ("clinical_staff", "Clinical staff"),
    ("billing_practitioner", "Billing practitioner"),
    ("other_practitioner", "Other practitioner"),
    ("non_clinical", "Non-clinical staff"),
]


class Timer(models.Model):
    """One staff member's timer on one patient for one program. At most one open timer per staff member, so
    every browser tab shows and drives the same timer."""

    STATES = [("running", "Running"), ("paused", "Paused"), ("stopped", "Stopped"), ("discarded", "Discarded")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="timers")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="timers")
    program = models.CharField(max_length=8, choices=PROGRAMS)
    activity = models.CharField(max_length=32, choices=ACTIVITIES)
    state = models.CharField(max_length=10, choices=STATES, default="running")
    open_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="= staff while running or paused, NULL after; unique, so a second open timer is impossible",
    )
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField(help_text="last sign of the user working (start, resume, active heartbeat)")
    last_heartbeat_at = models.DateTimeField()
    idle_since = models.DateTimeField(null=True, blank=True, help_text="an idle gap awaiting the user's answer")
    idle_until = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["practice"]), models.Index(fields=["staff", "state"])]
        constraints = [models.UniqueConstraint(fields=["open_staff"], name="one_open_timer_per_staff")]

    def __str__(self) -> str:
        return f"{self.staff} on {self.patient} ({self.state})"


class TimerSegment(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    timer = models.ForeignKey(Timer, on_delete=models.CASCADE, related_name="segments")
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"{self.start:%H:%M:%S}–{self.end:%H:%M:%S}" if self.end else f"{self.start:%H:%M:%S}–"


class TimeEntry(models.Model):
    """Time worked on a patient: from a timer (live) or entered after the fact (late, with lag and reason).
    Readers that count time leave out voided entries (`voided_at` set)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="time_entries")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries")
    staff_role = models.CharField(max_length=24, choices=STAFF_ROLES)
    credential = models.CharField(max_length=8, blank=True)
    employer = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="practice or partner employing the staff member",
    )
    program = models.CharField(max_length=8, choices=PROGRAMS)
    activity = models.CharField(max_length=32, choices=ACTIVITIES)
    start = models.DateTimeField()
    end = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    source = models.CharField(max_length=8, choices=[("timer", "Timer (live)"), ("manual", "Entered after the fact")])
    timer = models.OneToOneField(Timer, null=True, blank=True, on_delete=models.PROTECT, related_name="entry")
    entered_at = models.DateTimeField()
    lag_seconds = models.PositiveIntegerField(default=0, help_text="from the end of the work to its record")
    late_reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=500, blank=True)
    located_in_us = models.BooleanField(default=True)
    counted_for = models.CharField(
        max_length=8, blank=True, help_text="code of another service these minutes count for"
    )
    overlaps_with = models.JSONField(
        default=list, help_text="ids of other staff's entries on this patient that overlap"
    )
    # A mistaken entry is voided, never deleted or edited: it stays on record (and in the audit packet) with who
    # voided it, when and why, and counts nowhere (`ccmops.timetracking.entries.void_entry`).
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)
    # A void made by mistake is undone by restoring: a new entry with the voided one's segments, source and
    # time of record (the work was captured then), linked to it; the voided entry stays as it was
    # (`ccmops.timetracking.entries.restore_entry`).
    restored_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="restored_as"
    )
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    restore_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-start"]
        indexes = [
            models.Index(fields=["practice", "start"]),
            models.Index(fields=["patient", "start"]),
            models.Index(fields=["staff", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.start:%Y-%m-%d %H:%M} {self.seconds // 60} min {self.program}"

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def month(self) -> str:
        """The month (YYYY-MM) the entry counts in: its start's, in the practice's time zone (R-TIME-10)."""
        return str(Month.at(self.start, self.practice.time_zone))


class TimeEntrySegment(models.Model):
    """The intervals of an entry (a paused timer leaves several); what overlap checks and the engine read."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(TimeEntry, on_delete=models.CASCADE, related_name="segments")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["practice"]),
            models.Index(fields=["staff", "start"]),
            models.Index(fields=["patient", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S}–{self.end:%H:%M:%S}"
