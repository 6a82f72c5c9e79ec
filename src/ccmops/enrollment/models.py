"""Enrollment of a patient in a program, with its dated history (never overwritten)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STATUSES = [
    ("candidate", "Candidate"),
    ("outreach", "Outreach in progress"),
    ("consented", "Consented"),
    ("declined", "Declined"),
    ("unable_to_reach", "Unable to reach"),
    ("enrolled_elsewhere", "Enrolled elsewhere"),
    ("active", "Active"),
    ("paused", "Paused"),
    ("disenrolled", "Disenrolled"),
]
PROGRAMS = [("ccm", "CCM"), ("pcm", "PCM"), ("apcm", "APCM")]


class Enrollment(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="enrollments")
    program = models.CharField(max_length=8, choices=PROGRAMS)
    status = models.CharField(max_length=20, choices=STATUSES, default="candidate")
    status_since = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    unreachable_since = models.DateTimeField(
        null=True, blank=True, help_text="set after a run of failed monthly attempts; off the call list until reached"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "program"], name="uniq_enrollment")]
        indexes = [models.Index(fields=["practice", "program", "status"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.get_program_display()}: {self.get_status_display()}"


class EnrollmentEvent(models.Model):
    """One status change; the enrollment's history. Append-only."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=STATUSES)
    reason = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    party = models.ForeignKey(
        "organizations.Organization",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The organization whose staff made the change (practice or partner)",
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.from_status or '—'} → {self.to_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Enrollment history is append-only.")
        super().save(*args, **kwargs)


class OutreachAttempt(models.Model):
    """One attempt to reach a patient, for enrollment or for monthly care management."""

    CHANNELS = [
        ("phone", "Phone"),
        ("sms", "Text message"),
        ("email", "Email"),
        ("letter", "Letter"),
        ("portal", "Patient portal"),
        ("in_person", "In person"),
    ]
    OUTCOMES = [
        ("reached", "Reached"),
        ("voicemail", "Left voicemail"),
        ("no_answer", "No answer"),
        ("wrong_number", "Wrong number"),
        ("declined", "Declined"),
        ("callback", "Asked for a callback"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="outreach_attempts")
    purpose = models.CharField(max_length=16, choices=[("enrollment", "Enrollment"), ("monthly", "Monthly care")])
    program = models.CharField(max_length=8, choices=PROGRAMS)
    at = models.DateTimeField()
    channel = models.CharField(max_length=16, choices=CHANNELS)
    outcome = models.CharField(max_length=16, choices=OUTCOMES)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    party = models.ForeignKey("organizations.Organization", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["practice"]), models.Index(fields=["patient", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.get_channel_display()}: {self.get_outcome_display()}"


CONSENT_ELEMENTS = [
    ("cost_sharing", "Cost sharing applies (Part B deductible and 20% coinsurance)"),
    ("one_practitioner_per_month", "Only one practitioner can furnish and be paid for this service each month"),
    ("right_to_stop", "The patient may stop at any time, effective at the end of the calendar month"),
]
# BHI and CoCM consent also records the patient's permission to consult relevant specialists (R-CONS-7)
SPECIALIST_ELEMENT = (
    "specialist_consultation",
    "Permission to consult relevant specialists (for collaborative care, a psychiatric consultant) — BHI",
)
ALL_CONSENT_ELEMENTS = [*CONSENT_ELEMENTS, SPECIALIST_ELEMENT]


def required_elements(program: str) -> list[tuple[str, str]]:
    """The elements a program's consent records: the three of R-CONS-2, and for BHI the fourth (R-CONS-7)."""
    return ALL_CONSENT_ELEMENTS if program == "bhi" else CONSENT_ELEMENTS


class ConsentTextVersion(models.Model):
    """The consent script shown to the patient; a new wording is a new version."""

    program = models.CharField(max_length=8, choices=[*PROGRAMS, ("bhi", "BHI")])
    version = models.CharField(max_length=16)
    text = models.TextField()
    effective_from = models.DateField()
    language = models.CharField(max_length=5, default="en", db_default="en", help_text="en, or es for Spanish")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "version"], name="uniq_consent_text")]

    def __str__(self) -> str:
        return f"{self.program.upper()} consent text {self.version}"

    def rendered(self, practitioner) -> str:
        """The script as read to the patient, naming the practitioner who furnishes the program."""
        return self.text.replace("{practitioner}", str(practitioner) if practitioner else "your practitioner")


class Consent(models.Model):
    """A documented consent (R-CONS-1..3). Never changed: revocation and re-consent are new records."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    program = models.CharField(max_length=8, choices=[*PROGRAMS, ("bhi", "BHI")])
    practitioner = models.ForeignKey("organizations.Practitioner", on_delete=models.PROTECT, related_name="consents")
    method = models.CharField(
        max_length=16, choices=[("verbal", "Verbal"), ("written", "Written"), ("electronic", "Electronic")]
    )
    documented_at = models.DateTimeField()
    obtained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    obtained_by_party = models.ForeignKey(
        "organizations.Organization", null=True, on_delete=models.PROTECT, related_name="+"
    )
    elements = models.JSONField(help_text="Elements explained to the patient (CONSENT_ELEMENTS keys)")
    representative_name = models.CharField(max_length=200, blank=True)
    representative_relationship = models.CharField(max_length=100, blank=True)
    text_version = models.ForeignKey(ConsentTextVersion, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True, db_default="", default="", help_text="the script as read, practitioner named")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["documented_at", "id"]
        indexes = [models.Index(fields=["practice"]), models.Index(fields=["patient", "program"])]

    def __str__(self) -> str:
        return f"{self.get_program_display()} consent {self.documented_at:%Y-%m-%d} ({self.get_method_display()})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A consent record is never changed; record a revocation or a new consent.")
        super().save(*args, **kwargs)


class ConsentRevocation(models.Model):
    """The patient stopped; effective at the end of the calendar month it was made in (R-CONS-2)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="revocation")
    revoked_at = models.DateTimeField()
    effective_at = models.DateTimeField(help_text="end of the practice-local month of revoked_at")
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        help_text="empty: the patient stopped on their own page",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"revoked {self.revoked_at:%Y-%m-%d}, effective {self.effective_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A revocation is never changed.")
        super().save(*args, **kwargs)
