"""The ledger's records: each patient-month's stored standing, each practice-month's close, and the work
queued for a closed month (adjustments). Their tables keep the names they had under billing."""

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
    holds = models.JSONField(default=list, help_text="codes of the engine's hold findings (why the month is held)")
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "billing_monthstanding"  # kept from before the ledger owned it
        constraints = [models.UniqueConstraint(fields=["patient", "month"], name="uniq_month_standing")]
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.month}: {self.minutes} min"


def is_closed(practice, month: str, *, lock: bool = False) -> bool:
    """Whether the practice's month is approved and closed (locked). With `lock` (a write of the month's facts,
    inside its transaction), the close row is read with a lock: an approval checking the month meanwhile is waited
    for, so the write then finds the month closed and queues an adjustment (`close.closed_month_read`)."""
    if not lock:
        return MonthClose.objects.filter(practice=practice, month=month, status="closed").exists()
    rows = MonthClose.objects.select_for_update(no_key=True).filter(practice=practice, month=month)
    return rows.values_list("status", flat=True).first() == "closed"


class MonthClose(models.Model):
    """A practice's month end: evaluated, reviewed, then approved and closed (locked)."""

    STATUSES = [("evaluating", "Being evaluated"), ("reviewing", "Evaluated, in review"), ("closed", "Closed")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    status = models.CharField(max_length=10, choices=STATUSES, default="reviewing")
    version = models.PositiveIntegerField(
        default=1, help_text="bumped by every evaluation and by closing; approval must name the version reviewed"
    )
    # An evaluation runs in steps (a few hundred patients each), so no request waits long and a crash or a
    # closed browser only pauses it: the next step, from anyone, continues after `cursor`.
    cursor = models.PositiveIntegerField(default=0, help_text="patient id up to which this evaluation has decided")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    step_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField()
    evaluated_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "billing_monthclose"  # kept from before the ledger owned it
        constraints = [models.UniqueConstraint(fields=["practice", "month"], name="uniq_month_close")]

    def __str__(self) -> str:
        return f"{self.practice} {self.month}: {self.status}"


class Adjustment(models.Model):
    """Work recorded for a closed month (time, a note signed late, an addendum): queued for the biller, never
    silently changing a closed claim. The biller sees what the late work changes (the month re-decided with it
    against what was billed) and resolves it: nothing to change, corrected with the Medicare contractor (with its
    reference), or not billed (with a reason) — `ccmops.billing.adjustments`; queued by `ccmops.months.ledger`."""

    OUTCOMES = [
        ("no_change", "No change: the late work changes no code or unit"),
        ("corrected", "Corrected with the Medicare contractor"),
        ("not_billed", "Not billed"),
    ]

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="adjustments")
    month = models.CharField(max_length=7)
    time_entry = models.ForeignKey("timetracking.TimeEntry", null=True, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(  # a note of the month signed after the close (with `addendum`: an addendum to it)
        "documentation.Note", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    addendum = models.ForeignKey(
        "documentation.NoteAddendum", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voids = models.BooleanField(
        default=False, help_text="time_entry voided, or known_service withdrawn, after the close (removed)"
    )
    known_service = models.ForeignKey(  # a service recorded (or, `voids`, withdrawn) after the close
        "billing.KnownService", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=300, blank=True)  # the biller's note
    outcome = models.CharField(max_length=10, choices=OUTCOMES, blank=True)
    reference = models.CharField(
        max_length=60, blank=True, help_text="the contractor's reopening or corrected-claim reference (corrected)"
    )
    billed_after = models.JSONField(
        null=True,
        blank=True,
        help_text="the patient-month's codes as billed once resolved ([{code, units, allowed}]): what a later "
        "adjustment of the same month is compared with",
    )

    class Meta:
        db_table = "billing_adjustment"  # kept from before the ledger owned it
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.month}: {self.description}"

    @property
    def kind(self) -> str:
        """What changed after the close: "time" (added), "void" (time removed), "note" (signed late),
        "addendum", "service" (another service became known) or "service withdrawn"."""
        if self.time_entry_id:
            return "void" if self.voids else "time"
        if self.known_service_id:
            return "service withdrawn" if self.voids else "service"
        return "addendum" if self.addendum_id else "note"
