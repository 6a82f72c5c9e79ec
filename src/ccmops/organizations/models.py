"""Organizations (practices and partners), staff, engagements and the responsibility matrix."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from ccmops.access.operating_model import Function, Preset
from ccmops.access.policy import OrgKind, Role
from ccmops.organizations.validators import (
    validate_npi,
    validate_place_of_service,
    validate_rule_policies,
    validate_time_zone,
    validate_tin,
    validate_us_phone,
    validate_us_zip,
)

CREDENTIALS = [
    ("MD", "MD"),
    ("DO", "DO"),
    ("NP", "NP"),
    ("PA", "PA"),
    ("CNS", "CNS"),
    ("CNM", "CNM"),
]
STAFF_CREDENTIALS = [
    *CREDENTIALS,
    ("RN", "Registered nurse"),
    ("LPN", "Licensed practical nurse"),
    ("MA", "Medical assistant"),
    ("CHW", "Community health worker"),
    ("SW", "Social worker"),
    ("", "None"),
]


class Organization(models.Model):
    kind = models.CharField(max_length=16, choices=[(k.value, k.value.title()) for k in OrgKind])
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    npi = models.CharField("group NPI", max_length=10, blank=True, validators=[validate_npi])
    tin = models.CharField("TIN", max_length=9, blank=True, validators=[validate_tin])
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    address_line = models.CharField("billing address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(
        "ZIP code",
        max_length=10,
        blank=True,
        validators=[validate_us_zip],
        help_text="ZIP+4 (62704-1248): an 837P needs the billing provider's nine digits",
    )
    place_of_service = models.CharField(
        max_length=2,
        default="11",
        validators=[validate_place_of_service],
        help_text="CMS POS code, e.g. 11 office",
    )
    billing_provider_type = models.CharField(
        max_length=12,
        choices=[("organization", "Organization (group NPI)"), ("person", "Person (a practitioner's NPI)")],
        default="organization",
        db_default="organization",
        help_text="the 837P billing provider's entity type (NM1*85 01)",
    )
    taxonomy_code = models.CharField(
        max_length=10,
        blank=True,
        default="",
        db_default="",
        validators=[
            RegexValidator(r"^[0-9]{3}[0-9A-Z]{6}X$", "expected a 10-character taxonomy code such as 207Q00000X")
        ],
        help_text="the billing provider's taxonomy, sent in PRV when set",
    )
    # The practice's own charge per code (R-CLM-CHG-1): {"99490": "85.00", …}; organizations/charges.py
    charge_schedule = models.JSONField(default=dict, blank=True)
    rule_policies = models.JSONField(
        default=dict,
        blank=True,
        help_text="Overrides of the rules engine's named policies for this practice (docs/rules-engine.md).",
        validators=[validate_rule_policies],
    )
    medicare_contractor_name = models.CharField(max_length=60, blank=True, help_text="MAC receiving the 837P")
    medicare_contractor_id = models.CharField(max_length=15, blank=True, help_text="MAC payer/receiver ID")
    edi_submitter_id = models.CharField(
        "EDI submitter ID",
        max_length=15,
        blank=True,
        help_text="The submitter ID (ETIN) the Medicare contractor assigned at EDI enrollment (837P ISA06, NM1*41)",
    )
    billing_contact_name = models.CharField(
        max_length=60, blank=True, help_text="Whom the Medicare contractor contacts about a claim file (837P PER)"
    )
    billing_contact_phone = models.CharField(
        max_length=10, blank=True, validators=[validate_us_phone], help_text="Their phone: 10 digits (837P PER)"
    )
    claims_submitter = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submits_claims_for",
        limit_choices_to={"kind": "partner"},
        help_text="Who sends this practice's 837P files: empty for the practice itself, or the billing partner "
        "registered with the Medicare contractor as its billing agent (its EDI submitter ID and billing contact "
        "go in ISA06, GS02, NM1*41 and PER; the billing provider stays the practice)",
    )
    timer_idle_credit_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Idle up to this long is credited to a running timer"
    )
    timer_idle_drop_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Idle longer than this is dropped automatically; in between, the user is asked"
    )
    unreachable_after_attempts = models.PositiveSmallIntegerField(
        default=5, help_text="Failed monthly outreach attempts in a row before a patient is marked unreachable"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:

        if self.claims_submitter_id is not None:
            if self.claims_submitter_id == self.pk:
                raise ValidationError({"claims_submitter": "leave it empty for the practice itself"})
            if self.claims_submitter.kind != "partner":
                raise ValidationError({"claims_submitter": "a billing partner (an organization of kind partner)"})

    @property
    def is_practice(self) -> bool:
        return self.kind == OrgKind.PRACTICE


class User(AbstractUser):
    """Staff user; what they may do comes from their memberships."""

    title = models.CharField(max_length=100, blank=True)
    # TOTP second factor (RFC 6238). The secret is set only once the user has proved their app produces codes.
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_enabled_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0, help_text="Last accepted 30-second step; a code works once")
    password_change_required = models.BooleanField(
        default=False, help_text="Signed in with a one-time password: nothing works until it is changed"
    )
    # A user whose role requires MFA enrols an authenticator only with a one-time enrollment code that their
    # organization's lead (or the operator, `ccmops mfa enrollment-code`) issued: knowing the password is not enough.
    mfa_enrollment_code = models.CharField(max_length=128, blank=True, help_text="hash of the enrollment code")
    mfa_enrollment_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Practitioner(models.Model):
    practice = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="practitioners")
    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="practitioner")
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    credential = models.CharField(max_length=3, choices=CREDENTIALS)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["practice"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}, {self.credential}"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role])
    is_clinical_staff = models.BooleanField(
        default=False, help_text="Counts as clinical staff for CCM time (R-TIME rules); false for schedulers."
    )
    credential = models.CharField(max_length=3, choices=STAFF_CREDENTIALS, blank=True)
    # The state whose licence the person works under (R-SUP-4; shown in the audit packet for every minute, R-SUP-6)
    licence_state = models.CharField(max_length=2, blank=True, db_default="", default="")
    active = models.BooleanField(default=True)
    committed_hours_per_week = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=0,
        help_text="Hours a week this person is committed to CCM work here (capacity planning)",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization", "role"], name="uniq_membership")]
        ordering = ["organization__name", "role"]

    def __str__(self) -> str:
        return f"{self.user} — {Role(self.role).label} at {self.organization}"


class Engagement(models.Model):
    """A partner's contract to run CCM functions for a practice, between two dates."""

    practice = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="partner_engagements")
    partner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="practice_engagements")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="when the end date was recorded")
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["practice__name", "-starts_on"]
        indexes = [models.Index(fields=["practice"]), models.Index(fields=["partner"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="engagement_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} for {self.practice} from {self.starts_on}"


class ResponsibilityMatrix(models.Model):
    """One immutable version of a practice's responsibility matrix."""

    practice = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="matrix_versions")
    version = models.PositiveIntegerField()
    effective_from = models.DateField()
    preset = models.CharField(max_length=32, choices=[(p.value, p.label) for p in Preset])
    partner = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="matrix_roles"
    )
    reason = models.TextField()
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice", "-version"]
        constraints = [models.UniqueConstraint(fields=["practice", "version"], name="uniq_matrix_version")]
        verbose_name_plural = "responsibility matrices"

    def __str__(self) -> str:
        return f"{self.practice} v{self.version} from {self.effective_from} ({Preset(self.preset).label})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A responsibility matrix version is never changed; record a new version.")
        super().save(*args, **kwargs)


class MatrixAssignment(models.Model):
    matrix = models.ForeignKey(ResponsibilityMatrix, on_delete=models.PROTECT, related_name="assignments")
    function = models.CharField(max_length=32, choices=[(f.value, f.label) for f in Function])
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["matrix", "function"], name="uniq_matrix_function")]

    def __str__(self) -> str:
        return f"{Function(self.function).label}: {self.owner}"
