"""The patient registry of each practice. Every row carries its practice (the tenant key)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models


class Patient(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=64)
    source_identifier = models.CharField(max_length=200, blank=True, help_text="e.g. FHIR Patient id in the EHR")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=16, blank=True)
    deceased_on = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True, db_default="", default="")
    preferred_language = models.CharField(max_length=32, blank=True)
    medicare_coverage = models.CharField(
        max_length=32, blank=True, help_text="Payer as known from the EHR: medicare, dual_eligible, private…"
    )
    care_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_patients",
        help_text="Designated care-team member",
    )
    billing_practitioner = models.ForeignKey(
        "organizations.Practitioner", null=True, blank=True, on_delete=models.PROTECT, related_name="patients"
    )
    time_zone = models.CharField(max_length=64, blank=True, help_text="if different from the practice's")
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    medicare_id = models.CharField("Medicare Beneficiary Identifier", max_length=11, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [models.UniqueConstraint(fields=["practice", "mrn"], name="uniq_patient_mrn")]
        indexes = [
            models.Index(fields=["practice", "family_name"]),
            models.Index(fields=["practice", "source_identifier"]),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, on: dt.date) -> int:
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def condition_key(system: str, code: str, onset: dt.date | None) -> str:
    return f"{system}|{code.upper()}|{onset.isoformat() if onset else ''}"


class PatientCondition(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    system = models.CharField(max_length=16, choices=[("icd10cm", "ICD-10-CM"), ("snomed", "SNOMED CT")])
    code = models.CharField(max_length=32)
    display = models.CharField(max_length=300, blank=True)
    onset = models.DateField(null=True, blank=True)
    abated = models.DateField(null=True, blank=True)
    key = models.CharField(max_length=80, help_text="system|code|onset: what a re-import matches on")
    # A SNOMED CT problem goes on a claim only as the ICD-10-CM code a person confirmed for it (R-DX-3)
    confirmed_code = models.CharField(max_length=10, blank=True, db_default="", default="")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["onset", "code"]
        indexes = [models.Index(fields=["practice"])]
        constraints = [models.UniqueConstraint(fields=["patient", "key"], name="uniq_patient_condition")]

    def __str__(self) -> str:
        return f"{self.code} {self.display}"

    def save(self, *args, **kwargs):
        self.key = condition_key(self.system, self.code, self.onset)
        super().save(*args, **kwargs)

    @property
    def active(self) -> bool:
        return self.abated is None


class Encounter(models.Model):
    """A visit, ED visit or stay known from the EHR; ambulatory face-to-face visits can initiate care management."""

    SETTINGS = [
        ("ambulatory", "Ambulatory"),
        ("emergency", "Emergency"),
        ("inpatient", "Inpatient"),
        ("other", "Other"),
    ]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="encounters")
    source_id = models.CharField(max_length=200)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    setting = models.CharField(max_length=16, choices=SETTINGS)
    visit_kind = models.CharField(max_length=8, blank=True, help_text="em, awv, ippe, tcm when a qualifying visit")
    code = models.CharField(max_length=32, blank=True)
    display = models.CharField(max_length=300, blank=True)
    practitioner_npi = models.CharField(max_length=10, blank=True)
    care_management_discussed = models.BooleanField(
        default=False, help_text="The practitioner discussed care management at this visit (R-INIT-3)"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when recorded in ccmops rather than imported",
    )

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["practice"]), models.Index(fields=["patient", "start"])]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_encounter_source")]

    def __str__(self) -> str:
        return f"{self.get_setting_display()} {self.start:%Y-%m-%d} {self.display}"


class CoverageRecord(models.Model):
    """Payer known for a period (FHIR Coverage, the payer of an ExplanationOfBenefit — `source_id` "eob:…", an
    observation on its date — the CSV, or entered on the patient's page — "manual:…", with its source)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    source_id = models.CharField(max_length=200)
    payer = models.CharField(max_length=20, help_text="one of patients.vocabulary.PAYERS")
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    # database defaults: the importers' bulk writes name only the columns they fill
    medicare_secondary = models.BooleanField(
        default=False, db_default=False, help_text="another payer is primary (R-COV-1)"
    )
    source = models.CharField(
        max_length=200, blank=True, db_default="", help_text="how it is known: an eligibility check, the card…"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["practice"])]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_coverage_source")]

    def __str__(self) -> str:
        return f"{self.payer} from {self.start}"


SCREENING_STATUSES = [
    ("eligible", "Eligible"),
    ("review", "Needs review"),
    ("not_eligible", "Not eligible"),
    ("enrolled", "Already enrolled"),
    ("declined", "Declined"),
    ("enrolled_elsewhere", "Enrolled elsewhere"),
]


class ScreeningRun(models.Model):
    """One screening of a practice's registry: when, by whom, how many patients and how many results changed
    (a result that comes out the same is left as it was)."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    finished_at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    patients = models.PositiveIntegerField()
    changed = models.PositiveIntegerField()
    counts = models.JSONField(default=dict, help_text="program -> status -> patients")

    class Meta:
        indexes = [models.Index(fields=["practice", "-finished_at"])]

    def __str__(self) -> str:
        return f"screening of {self.practice} on {self.on}: {self.patients} patients, {self.changed} changed"


class ScreeningResult(models.Model):
    """The latest eligibility screening of a patient for CCM, PCM and APCM, with reasons and risk. A screening
    whose result for the patient is the same leaves the row untouched: `decided_on` is the date of the
    screening that last changed it (the practice's latest screening is its newest ScreeningRun)."""

    # No index of its own: (practice, ccm, risk_score) below starts with it, and a screening writes one index
    # fewer per result.
    practice = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="screening")
    ccm = models.CharField("CCM", max_length=20, choices=SCREENING_STATUSES)
    pcm = models.CharField("PCM", max_length=20, choices=SCREENING_STATUSES)
    apcm = models.CharField("APCM", max_length=20, choices=SCREENING_STATUSES)
    reasons = models.JSONField(default=dict, help_text="program -> [{code, message, rules}]")
    conditions = models.JSONField(default=list, help_text="names of the qualifying chronic conditions")
    chronic_count = models.PositiveSmallIntegerField(default=0)
    initiating_visit_needed = models.BooleanField(default=True)
    last_visit = models.DateField(null=True, blank=True)
    risk_score = models.FloatField(default=0)
    risk = models.JSONField(default=dict)
    decided_on = models.DateField()
    fingerprint = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="hash of the decided values as the screening wrote them: a rescreen that decides the same "
        "skips the row without sending it ('' for a result written before fingerprints)",
    )

    class Meta:
        indexes = [models.Index(fields=["practice", "ccm", "risk_score"])]

    def __str__(self) -> str:
        return f"{self.patient}: CCM {self.ccm}, PCM {self.pcm}, APCM {self.apcm}"


class QmbPeriod(models.Model):
    """A span in which the patient is a Qualified Medicare Beneficiary: Medicaid pays their Medicare cost sharing,
    and the practice may not bill them any (the claim's patient share is $0; APCM level 3 is G0558). Recorded
    from where it was verified (the eligibility response, the state's notice); kept as history."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="qmb_periods")
    start = models.DateField()
    end = models.DateField(null=True, blank=True, help_text="last day; empty while it lasts")
    source = models.CharField(max_length=200, help_text="where it was verified, e.g. the HETS 271 of 2026-11-03")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["patient", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")), name="qmb_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} QMB from {self.start}" + (f" to {self.end}" if self.end else "")

    def covers(self, first: dt.date, last: dt.date) -> bool:
        """Whether the period overlaps first..last."""
        return self.start <= last and (self.end is None or self.end >= first)
