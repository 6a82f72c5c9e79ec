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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [models.UniqueConstraint(fields=["practice", "mrn"], name="uniq_patient_mrn")]
        indexes = [models.Index(fields=["practice", "family_name"])]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, on: dt.date) -> int:
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class PatientCondition(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    system = models.CharField(max_length=16, choices=[("icd10cm", "ICD-10-CM"), ("snomed", "SNOMED CT")])
    code = models.CharField(max_length=32)
    display = models.CharField(max_length=300, blank=True)
    onset = models.DateField(null=True, blank=True)
    abated = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["onset", "code"]
        indexes = [models.Index(fields=["practice"])]
        constraints = [
            models.UniqueConstraint(fields=["patient", "system", "code", "onset"], name="uniq_patient_condition")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display}"

    @property
    def active(self) -> bool:
        return self.abated is None
