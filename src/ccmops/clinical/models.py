"""What the EHR says about a patient's medications, allergies, observations and immunizations. Each row is one
source resource (its FHIR id, or the id plus a component's code), so re-importing the same export changes nothing
and a changed resource updates its row. Codes are kept with their systems and displays: RxNorm for medications,
LOINC for observations, CVX for vaccines, SNOMED CT or RxNorm for allergies."""

from __future__ import annotations

from django.db import models


class Medication(models.Model):
    KINDS = [("request", "Prescription"), ("statement", "Reported by the patient or another source")]
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="medications")
    source_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KINDS)
    status = models.CharField(max_length=20)  # the FHIR status: active, completed, stopped, on-hold…
    system = models.CharField(max_length=20)  # rxnorm | ndc | other
    code = models.CharField(max_length=40, blank=True)
    display = models.CharField(max_length=300)
    dosage = models.CharField(max_length=300, blank=True)
    start = models.DateField(null=True, blank=True)  # authored (a prescription) or effective (a statement)
    end = models.DateField(null=True, blank=True)
    prescriber_npi = models.CharField(max_length=10, blank=True)
    prescriber = models.CharField(max_length=200, blank=True)  # the requester's name or display, as the EHR gave it

    class Meta:
        ordering = ["display", "-start"]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_medication_source")]

    def __str__(self) -> str:
        return self.display

    @property
    def active(self) -> bool:
        return self.status in ("active", "on-hold", "intended", "unknown") and self.end is None


class Allergy(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="allergies")
    source_id = models.CharField(max_length=200)
    system = models.CharField(max_length=20)  # snomed | rxnorm | other
    code = models.CharField(max_length=40, blank=True)
    display = models.CharField(max_length=300)
    clinical_status = models.CharField(max_length=20, blank=True)  # active | inactive | resolved
    category = models.CharField(max_length=20, blank=True)  # food | medication | environment | biologic
    criticality = models.CharField(max_length=20, blank=True)  # low | high | unable-to-assess
    reactions = models.CharField(max_length=300, blank=True)
    recorded = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["display"]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_allergy_source")]

    def __str__(self) -> str:
        return self.display


class Observation(models.Model):
    """One measured value: a vital sign, a laboratory result or a survey score. A panel with components (blood
    pressure) is stored as one row per component, keyed by the resource id and the component's code."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="observations")
    source_id = models.CharField(max_length=220)
    category = models.CharField(max_length=20, blank=True)  # vital-signs | laboratory | survey | …
    code = models.CharField(max_length=20)  # LOINC
    display = models.CharField(max_length=300)
    effective = models.DateTimeField()
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    value_text = models.CharField(max_length=300, blank=True)  # a coded or text result
    low = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)  # its reference range
    high = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["code", "-effective"]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_observation_source")]
        indexes = [models.Index(fields=["patient", "code", "effective"])]

    def __str__(self) -> str:
        return f"{self.display} {self.value if self.value is not None else self.value_text} {self.unit}"


class Immunization(models.Model):
    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="immunizations")
    source_id = models.CharField(max_length=200)
    code = models.CharField(max_length=20)  # CVX
    display = models.CharField(max_length=300)
    status = models.CharField(max_length=20)  # completed | entered-in-error | not-done
    occurred = models.DateField()

    class Meta:
        ordering = ["-occurred"]
        constraints = [models.UniqueConstraint(fields=["patient", "source_id"], name="uniq_immunization_source")]

    def __str__(self) -> str:
        return f"{self.display} {self.occurred}"


class Reconciliation(models.Model):
    """One medication reconciliation with the patient: the list as reconciled that day, a new version each time
    (history kept, never overwritten), with who did it, from what source, and the note that documents it."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="reconciliations")
    number = models.PositiveIntegerField()  # the version: 1, 2, 3 … per patient
    performed_at = models.DateTimeField()
    performed_by = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=200)  # what the list was checked against: the bottles, the pharmacy …
    adherence = models.CharField(max_length=500, blank=True)
    note = models.ForeignKey(
        "documentation.Note", null=True, blank=True, on_delete=models.SET_NULL, related_name="reconciliations"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["patient", "number"], name="one_reconciliation_version")]

    def __str__(self) -> str:
        return f"medication reconciliation v{self.number} of {self.patient}"


class ReconciledItem(models.Model):
    ANSWERS = [
        ("taking", "Taking as prescribed"),
        ("not_taking", "Not taking"),
        ("differently", "Taking differently"),
        ("new", "New, from another prescriber"),
        ("stopped", "Stopped"),
    ]
    DISCREPANCIES = frozenset({"not_taking", "differently", "new", "stopped"})
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="items")
    medication = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    display = models.CharField(max_length=300)  # as on the list that day (a medication row may change later)
    code = models.CharField(max_length=40, blank=True)
    answer = models.CharField(max_length=12, choices=ANSWERS)
    detail = models.CharField(max_length=300, blank=True)  # how differently, who prescribed it, why stopped

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.display}: {self.get_answer_display()}"

    @property
    def discrepancy(self) -> bool:
        return self.answer in self.DISCREPANCIES


class AssessmentResponse(models.Model):
    """One standard assessment given to the patient (`clinical.instruments`): the answers by item, the total as
    published, its band, and the FHIR QuestionnaireResponse it is."""

    practice = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="assessments")
    instrument = models.CharField(max_length=12)  # phq2 | phq9 | gad7 | steadi
    answers = models.JSONField()  # item link id -> the answer's score
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=60)
    positive = models.BooleanField()
    performed_at = models.DateTimeField()
    performed_by = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    response = models.JSONField()  # the QuestionnaireResponse (FHIR R4B), validated
    note = models.ForeignKey(
        "documentation.Note", null=True, blank=True, on_delete=models.SET_NULL, related_name="assessments"
    )

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [models.Index(fields=["patient", "instrument", "performed_at"])]

    def __str__(self) -> str:
        return f"{self.instrument} {self.score} ({self.band}) of {self.patient}"
