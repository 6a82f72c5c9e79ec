"""What the patient page and the messages keep (issue 36). Links, codes and sessions are stored as hashes only: a
copy of the database does not let anyone in."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

CHANNELS = [("sms", "Text message"), ("email", "Email")]


class MessagingSettings(models.Model):
    """How a practice reaches its patients: the text-message and email providers (credentials encrypted with
    `outbox.secrets`), the care team's phone and after-hours instructions, and the quiet hours for reminders."""

    practice = models.OneToOneField("organizations.Organization", on_delete=models.PROTECT, related_name="messaging")
    sms_provider = models.CharField(
        max_length=8, default="console", choices=[("console", "Console (demo and tests)"), ("twilio", "Twilio")]
    )
    twilio_account_sid = models.CharField(max_length=64, blank=True)
    twilio_auth_token = models.TextField(blank=True)  # sealed
    twilio_from = models.CharField(max_length=32, blank=True, help_text="the sending number, E.164")
    email_provider = models.CharField(
        max_length=8, default="console", choices=[("console", "Console (demo and tests)"), ("smtp", "SMTP")]
    )
    smtp_host = models.CharField(max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_user = models.CharField(max_length=200, blank=True)
    smtp_password = models.TextField(blank=True)  # sealed
    from_email = models.EmailField(blank=True)
    team_phone = models.CharField(max_length=32, blank=True, help_text="the care team's number the patient calls")
    after_hours = models.CharField(max_length=300, blank=True, help_text="how to reach care after hours")
    quiet_start = models.TimeField(default=dt.time(20, 0), help_text="no reminder from (the patient's time)")
    quiet_end = models.TimeField(default=dt.time(8, 0), help_text="no reminder before (the patient's time)")

    def __str__(self) -> str:
        return f"messaging of {self.practice}"


class PatientLink(models.Model):
    """A link sent to a patient: to their page, to give consent electronically, or to a check-in. Kept as the hash
    of its token; it expires, and too many wrong codes lock it."""

    PURPOSES = [("page", "Patient page"), ("consent", "Electronic consent"), ("checkin", "Check-in")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=8, choices=PURPOSES)
    program = models.CharField(max_length=8, blank=True)  # consent: the program asked about
    checkin = models.ForeignKey("CheckIn", null=True, blank=True, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=5, choices=CHANNELS)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failed_codes = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.patient_id}"


class SignInCode(models.Model):
    """A one-time code sent to the phone or address on record; good for ten minutes and one sign-in."""

    link = models.ForeignKey(PatientLink, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for link {self.link_id}"


class CheckIn(models.Model):
    """What the care team asked the patient to fill in on their page: assessments and home readings."""

    KINDS = [("phq9", "PHQ-9"), ("gad7", "GAD-7"), ("steadi", "Fall risk"), ("hrsn", "Social needs"),
             ("bp", "Blood pressure"), ("glucose", "Blood glucose"), ("weight", "Weight")]  # fmt: skip
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="checkins")
    kinds = models.JSONField()
    done = models.JSONField(default=list)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-sent_at"])]

    def __str__(self) -> str:
        return f"check-in {', '.join(self.kinds)} for {self.patient_id}"

    def labels(self) -> list[str]:
        names = dict(self.KINDS)
        return [names.get(k, k) for k in self.kinds]


class Message(models.Model):
    """A secure message between the patient and the care team, on the patient page (or a text the patient sent)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="messages")
    from_patient = models.BooleanField()
    via = models.CharField(max_length=5, default="page", choices=[("page", "Patient page"), *CHANNELS])
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)  # by the care team (from the patient), by the patient
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["practice", "from_patient", "read_at"]), models.Index(fields=["patient"])]

    def __str__(self) -> str:
        return f"message {'from' if self.from_patient else 'to'} {self.patient_id}"


class Delivery(models.Model):
    """One text message or email to the patient — a sign-in code, a link, "a message is waiting", a reminder — with
    what the provider said about it. Its idempotency key makes the same notice never go twice."""

    KINDS = [("code", "Sign-in code"), ("link", "Link"), ("waiting", "Message waiting"), ("reminder", "Reminder")]
    STATUSES = [("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"), ("delivered", "Delivered"),
                ("failed", "Failed")]  # fmt: skip
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=8, choices=KINDS)
    channel = models.CharField(max_length=5, choices=CHANNELS)
    to = models.CharField(max_length=200)
    body = models.TextField(help_text="what was sent: no health information, only that something waits")
    idempotency_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=9, choices=STATUSES, default="queued")
    provider_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"]), models.Index(fields=["practice", "provider_id"])]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel}: {self.status}"


class OptOut(models.Model):
    """The patient asked for no more texts (STOP) or emails on a channel; honoured until they opt back in."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=5, choices=CHANNELS)
    at = models.DateTimeField()
    source = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "channel"], name="one_opt_out_per_channel")]

    def __str__(self) -> str:
        return f"{self.patient_id} stopped {self.channel}"


class UnmatchedText(models.Model):
    """A text to the practice's number from a number no patient of the practice has (or several have): kept for the
    care team to read and place, never dropped."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=32)
    body = models.TextField()
    received_at = models.DateTimeField()
    candidates = models.JSONField(default=list, help_text="the patients sharing the number, when several")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["practice", "handled_at"])]

    def __str__(self) -> str:
        return f"text from {self.phone}"
