"""Per patient-month standing, as the rules engine decided it when the facts last changed."""

from __future__ import annotations

from django.db import models

from ccmops.rules.families import OTHER_SERVICE_FAMILY


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
        constraints = [models.UniqueConstraint(fields=["practice", "month"], name="uniq_month_close")]

    def __str__(self) -> str:
        return f"{self.practice} {self.month}: {self.status}"


class PatientMonthDecision(models.Model):
    """The engine's decision for one patient-month at close, with the review that followed."""

    REVIEW = [("none", "No review needed"), ("needs_review", "Needs review"), ("overridden", "Overridden")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="decisions")
    month = models.CharField(max_length=7)
    billing_practitioner = models.ForeignKey("organizations.Practitioner", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20)  # ready | hold | nothing_billable (the engine's)
    review = models.CharField(max_length=14, choices=REVIEW, default="none")
    decision = models.JSONField()
    facts_hash = models.CharField(max_length=64)
    evaluated_at = models.DateTimeField()
    override_action = models.CharField(max_length=12, blank=True)  # bill | do_not_bill
    override_reason = models.TextField(blank=True)
    override_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "month"], name="one_decision_per_patient_month")]
        indexes = [models.Index(fields=["practice", "month", "review"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.month}: {self.status}"

    @property
    def reasons(self) -> list[dict]:
        return [f for f in self.decision.get("findings", []) if f["severity"] in ("hold", "refusal", "warning")]


class ClaimLine(models.Model):
    """A line to bill. One per patient, month and code — enforced by the database, so no close, re-run or
    crash can ever produce a duplicate."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="claim_lines")
    month = models.CharField(max_length=7)
    decision = models.ForeignKey(PatientMonthDecision, on_delete=models.PROTECT, related_name="lines")
    billing_practitioner = models.ForeignKey("organizations.Practitioner", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=5)
    units = models.PositiveSmallIntegerField()
    date_of_service = models.DateField()
    diagnosis_codes = models.JSONField()
    allowed_amount = models.DecimalField(max_digits=9, decimal_places=2)
    patient_share = models.DecimalField(max_digits=9, decimal_places=2)
    remit_status = models.CharField(
        max_length=10, blank=True, choices=[("paid", "Paid"), ("denied", "Denied"), ("adjusted", "Adjusted")]
    )
    paid_amount = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    remit_note = models.CharField(max_length=300, blank=True)
    remit_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "month", "code"], name="no_duplicate_claim_line")]
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"{self.month} {self.code}×{self.units}"


class Adjustment(models.Model):
    """Work recorded for a closed month (time, a note signed late, an addendum): queued for the biller, never
    silently changing a closed claim. The biller sees what the late work changes (the month re-decided with it
    against what was billed) and resolves it: nothing to change, corrected with the Medicare contractor (with its
    reference), or not billed (with a reason) — `ccmops.billing.adjustments`."""

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


class ClaimBatch(models.Model):
    """An 837P interchange produced for a closed month (kept as sent). At most one batch of a practice-month
    stands as sent (submitted and not rejected by the contractor's front end), by constraint: the month's claims
    cannot go out twice. A rejected interchange was never accepted for processing, so the month may be sent
    again (`ccmops.billing.remittance`)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    # The interchange control number (ISA13/GS06) is the submitter's: numbered per submitter from a locked
    # counter (`ControlCounter`), so billers exporting at once never collide.
    submitter = models.ForeignKey(
        "organizations.Organization", null=True, on_delete=models.PROTECT, related_name="submitted_batches"
    )
    control_number = models.PositiveIntegerField()
    test = models.BooleanField(default=False, db_default=False, help_text="a test file (ISA15 = T), never sent")
    held_out = models.JSONField(
        default=list, blank=True, help_text="claims kept out of the file: [{patient_id, patient, reasons}]"
    )
    claims = models.PositiveIntegerField()
    lines = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    content = models.TextField()
    created_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "month"])]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "month"],
                condition=models.Q(submitted_at__isnull=False, rejected_at__isnull=True),
                name="one_sent_claim_batch_per_month",
            ),
            models.UniqueConstraint(fields=["submitter", "control_number"], name="one_control_number_per_submitter"),
        ]

    def __str__(self) -> str:
        return f"837P #{self.control_number} {self.month} ({self.claims} claims)"

    @property
    def state(self) -> str:
        return "rejected" if self.rejected_at else "submitted" if self.submitted_at else "produced"


class ControlCounter(models.Model):
    """The last interchange control number a submitter used: read with a row lock to number the next file."""

    submitter = models.OneToOneField("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.submitter}: {self.last}"


class KnownService(models.Model):
    """A service billed for the patient outside this month's CCM claim and known to the practice — another
    practitioner's CCM learned from a denial, a TCM after a discharge, a specialist's PCM, ESRD monthly
    services, care-plan oversight. The month it falls in is evaluated with it (`other_services` of the
    patient-month contract): a duplicate CCM holds the month for review, an overlapping service of the same
    practitioner refuses or holds the codes it conflicts with (cms-rules.md §2). Recorded with where it became
    known; withdrawn (never deleted) when recorded in error."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="known_services")
    code = models.CharField(max_length=5)
    date_of_service = models.DateField()
    practitioner_npi = models.CharField(max_length=10, blank=True, help_text="empty: the practitioner is not known")
    same_group = models.BooleanField(help_text="the NPI is one of this practice's practitioners")
    source = models.CharField(max_length=200, help_text="how it became known, e.g. the remittance of a claim")
    recorded_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["date_of_service", "id"]
        indexes = [models.Index(fields=["patient", "date_of_service"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.code} on {self.date_of_service}"

    @property
    def month(self) -> str:
        return f"{self.date_of_service:%Y-%m}"

    @property
    def family(self) -> str:
        return OTHER_SERVICE_FAMILY.get(self.code, "")


class FeeScheduleRelease(models.Model):
    """A CMS Physician Fee Schedule relative value file loaded for a rule year (R-2027-3): the care-management
    codes' total RVUs and the year's conversion factors, as read by `ccmops.rules.pprrvu`. The newest release of a
    year prices its open months from their next evaluation; closed months keep the amounts they closed with."""

    year = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=300, help_text="the file's name and the release its title names")
    conversion_factor = models.DecimalField(max_digits=9, decimal_places=4)
    conversion_factor_qp = models.DecimalField(max_digits=9, decimal_places=4)
    nonfacility_rvu = models.JSONField(help_text="code -> total non-facility RVU")
    facility_rvu = models.JSONField(help_text="code -> total facility RVU")
    status = models.JSONField(default=dict, help_text="code -> PFS status code")
    sha256 = models.CharField(max_length=64, help_text="of the file as loaded")
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        "organizations.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-year", "-loaded_at", "-id"]
        indexes = [models.Index(fields=["year", "loaded_at"])]

    def __str__(self) -> str:
        return f"CY{self.year} fees: {self.source}"
