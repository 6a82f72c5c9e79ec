"""Billing's records: each patient-month's decision at close with its review, the claim lines, the 837P batches
and their control numbers, services known to be billed elsewhere and fee schedule releases. The month's close
state, adjustments and standings are the ledger's (`ccmops.months.models`)."""

from __future__ import annotations

from django.db import models

from ccmops.months.month import Month
from ccmops.rules.families import OTHER_SERVICE_FAMILY


class PatientMonthDecision(models.Model):
    """The engine's decision for one patient-month at close, with the review that followed."""

    REVIEW = [("none", "No review needed"), ("needs_review", "Needs review"), ("overridden", "Overridden")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="decisions")
    month = models.CharField(max_length=7)
    billing_practitioner = models.ForeignKey("organizations.Practitioner", on_delete=models.PROTECT, related_name="+")
    STATUS_LABELS = {"ready": "ready to bill", "hold": "held for review", "nothing_billable": "nothing billable"}
    status = models.CharField(max_length=20)  # ready | hold | nothing_billable (the engine's): STATUS_LABELS
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
    def status_label(self) -> str:
        return self.STATUS_LABELS.get(self.status, self.status)

    @property
    def override_label(self) -> str:
        return {"bill": "billed as decided", "do_not_bill": "not billed"}.get(self.override_action, "")

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
    # What the payer's front end said of the claim (a 277CA): accepted for adjudication, or rejected with why.
    ack_status = models.CharField(
        max_length=10,
        blank=True,
        default="",
        db_default="",
        choices=[("accepted", "Accepted"), ("rejected", "Rejected")],
    )
    ack_note = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "month", "code"], name="no_duplicate_claim_line")]
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"{self.month} {self.code}×{self.units}"

    @property
    def claim_id(self) -> str:
        """The claim's id as the 837P writes it (CLM01) and the payer's files give it back: `<patient id>-<YYYY-MM>`."""
        return f"{self.patient_id}-{self.month}"

    @staticmethod
    def of_claim(practice, claim_id: str):
        """The practice's lines of the claim `claim_id` (none when it is not one of ccmops's claim ids)."""
        pid, _, month = claim_id.partition("-")
        if not (pid.isascii() and pid.isdigit()):
            return ClaimLine.objects.none()
        return ClaimLine.objects.filter(practice=practice, patient_id=int(pid), month=month)


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
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="a 999 accepted the interchange")

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
        if self.rejected_at:
            return "rejected"
        return "acknowledged" if self.acknowledged_at else "submitted" if self.submitted_at else "produced"


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
    holds_following = models.BooleanField(
        default=False,
        db_default=False,
        help_text="another provider was paid this service (an 835's CARC B20): the patient's later months are held "
        "as enrolled elsewhere until a person releases them (R-CONS-2)",
    )

    class Meta:
        ordering = ["date_of_service", "id"]
        indexes = [models.Index(fields=["patient", "date_of_service"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.code} on {self.date_of_service}"

    @property
    def month(self) -> str:
        return str(Month.of(self.date_of_service))

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


class PayerFile(models.Model):
    """An X12 file the payer or clearinghouse sent back (a 999, 277CA, 835 or 271), read once: its sender and
    interchange control number (ISA06, ISA13) identify it, so the same file read again changes nothing. Kept as
    received, with what reading it did."""

    KINDS = [
        ("999", "999 acknowledgment"),
        ("277ca", "277CA claim acknowledgment"),
        ("835", "835 remittance"),
        ("271", "271 eligibility response"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=KINDS)
    sender = models.CharField(max_length=15)  # ISA06
    control_number = models.CharField(max_length=9)  # ISA13
    name = models.CharField(max_length=200)
    content = models.TextField()
    summary = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "sender", "control_number"], name="payer_file_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class RemitLine(models.Model):
    """One service line of an 835, as the payer adjudicated it, posted to the claim line it pays (matched by the
    line item control number the 837P sent, REF*6R) — or kept unmatched for the biller. The history of every
    remittance: a claim line shows the newest."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    payer_file = models.ForeignKey(PayerFile, on_delete=models.PROTECT, related_name="remit_lines")
    claim_line = models.ForeignKey(ClaimLine, null=True, on_delete=models.PROTECT, related_name="remittances")
    claim_id = models.CharField(max_length=38)  # CLP01
    claim_status = models.CharField(max_length=2)  # CLP02
    payer_claim_number = models.CharField(max_length=50, blank=True)  # CLP07
    control_number = models.CharField(max_length=50, blank=True)  # REF*6R
    code = models.CharField(max_length=5)
    date_of_service = models.DateField(null=True)
    charge = models.DecimalField(max_digits=9, decimal_places=2)
    paid = models.DecimalField(max_digits=9, decimal_places=2)
    allowed = models.DecimalField(max_digits=9, decimal_places=2, null=True)
    patient_responsibility = models.DecimalField(max_digits=9, decimal_places=2)
    adjustments = models.JSONField(default=list)  # [{group, reason, amount}]
    remarks = models.JSONField(default=list)  # RARC codes
    status = models.CharField(max_length=10)  # paid | adjusted | denied
    denial = models.CharField(
        max_length=20, blank=True
    )  # another_provider | coverage | information | duplicate | other
    next_step = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["practice", "status"])]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.code}: {self.status} {self.paid}"


class EligibilityInquiry(models.Model):
    """A 270 eligibility inquiry ccmops wrote for a month's patients before its close (005010X279A1, validated
    with pyx12), kept as written: the 271 that answers it names each patient by the trace number (TRN) it carries."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    control_number = models.PositiveIntegerField()  # ISA13 and GS06, from the submitter's counter
    content = models.TextField()
    patients = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey("organizations.User", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "month"])]

    def __str__(self) -> str:
        return f"270 for {self.month} ({self.patients} patients)"


class EligibilityResult(models.Model):
    """What a 271 said about one patient: the coverage it reported (as coverage records with the response as their
    source), in words, and whether it changed what ccmops knew of the patient's coverage for the month."""

    OUTCOMES = [
        ("part_b", "Part B active"),
        ("medicare_advantage", "Medicare Advantage"),
        ("secondary", "Medicare secondary payer"),
        ("no_part_b", "No Part B"),
        ("deceased", "Deceased"),
        ("not_verified", "Not verified"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="eligibility_results")
    payer_file = models.ForeignKey(PayerFile, on_delete=models.PROTECT, related_name="eligibility_results")
    inquiry = models.ForeignKey(EligibilityInquiry, null=True, on_delete=models.PROTECT, related_name="results")
    month = models.CharField(max_length=7)
    checked_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=OUTCOMES)
    words = models.CharField(max_length=500)
    changed = models.BooleanField()
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ["-checked_on", "-id"]
        indexes = [models.Index(fields=["practice", "month"]), models.Index(fields=["patient", "-checked_on"])]
        constraints = [models.UniqueConstraint(fields=["payer_file", "patient"], name="eligibility_once_per_file")]

    def __str__(self) -> str:
        return f"{self.patient_id} {self.month}: {self.get_outcome_display()}"


class ClaimWriteOff(models.Model):
    """A claim's open balance written off by a biller (a denial not worth appealing, a timely-filing limit
    passed), with the reason: the claim then counts as *written off* in receivables, its balance closed."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    claim_id = models.CharField(max_length=38)  # CLM01: <patient id>-<YYYY-MM>
    amount = models.DecimalField(max_digits=9, decimal_places=2, help_text="the open balance written off")
    reason = models.CharField(max_length=300)
    written_off_by = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    written_off_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "claim_id"], name="claim_written_off_once")]

    def __str__(self) -> str:
        return f"{self.claim_id} written off: {self.amount}"
