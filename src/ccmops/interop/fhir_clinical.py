"""Reading the clinical picture from FHIR R4 resources (issue 33): MedicationRequest, MedicationStatement,
AllergyIntolerance, Observation (vital signs, laboratory results, survey scores, any LOINC-coded value) and
Immunization, each validated by `fhir.resources` before it gets here. A resource that cannot be used is named
with the field and what was expected; the import of a file with such a resource writes nothing."""

from __future__ import annotations

from dataclasses import replace

from ccmops.interop.fhir_values import CVX, LOINC, RXNORM, SNOMED, as_date, as_datetime, coded, ref_id
from ccmops.interop.records import AllergyRec, ImmunizationRec, MedicationRec, ObservationRec

SKIPPED_STATUSES = ("entered-in-error", "cancelled")


def _number(quantity) -> float | None:
    return float(quantity.value) if quantity is not None and quantity.value is not None else None


def _dosage(dosages) -> str:
    """The first dosage's text, else its dose and timing as a person would write them ("1 tablet, 2 times a day")."""
    for d in dosages or []:
        if d.text:
            return d.text[:300]
        parts = []
        for rate in d.doseAndRate or []:
            q = rate.doseQuantity
            if q is not None and q.value is not None:
                parts.append(f"{q.value:g} {q.unit or ''}".strip())
        repeat = d.timing.repeat if d.timing else None
        if repeat is not None and repeat.frequency:
            per = f"{repeat.period:g} {repeat.periodUnit}" if repeat.period and repeat.periodUnit else "period"
            parts.append(f"{repeat.frequency} time{'s' if repeat.frequency != 1 else ''} per {per}")
        if parts:
            return ", ".join(parts)[:300]
    return ""


class ClinicalReading:
    """The clinical half of `fhir_read.FhirReader`, which provides `batch`, `problem` and the practitioners read
    (`_practitioner_npi`, `_practitioner_name`)."""

    READS = ("MedicationRequest", "MedicationStatement", "AllergyIntolerance", "Observation", "Immunization")

    def _subject(self, reference, where: str, field: str, what: str) -> str | None:
        if reference is None or not reference.reference:
            self.problem(where, field, f"required: {what}")
            return None
        return ref_id(reference.reference)

    def _skipped(self, r, where: str, kind: str) -> bool:
        if r.status in SKIPPED_STATUSES:
            self.batch.warnings.append(f"{where}: {kind} {r.status}; not imported")
            return True
        return False

    def _medication(self, r, where: str) -> tuple[str, str, str] | None:
        system, code, display = coded(r.medicationCodeableConcept, RXNORM)
        if not display and r.medicationReference is not None:
            system, code, display = "other", "", r.medicationReference.display or ""
        if not display:
            self.problem(where, "medicationCodeableConcept", "required: the medication (an RxNorm code and name)")
            return None
        return system, code, display

    def _medicationrequest(self, r, where: str) -> None:
        patient = self._subject(r.subject, where, "subject", "the patient the medication is prescribed for")
        medication = self._medication(r, where)
        if patient is None or medication is None or self._skipped(r, where, "prescription"):
            return
        system, code, display = medication
        requester = r.requester
        npi = ""
        if requester is not None and requester.reference and "us-npi|" in requester.reference:
            npi = requester.reference.split("us-npi|", 1)[1]  # a conditional reference by NPI (ccmops's own export)
        elif requester is not None and requester.reference:
            npi = f"ref:{ref_id(requester.reference)}"  # resolved to the NPI and name once every file is read
        validity = r.dispenseRequest.validityPeriod if r.dispenseRequest else None
        self.batch.medications.append(
            MedicationRec(
                patient_ref=patient,
                source_id=r.id or "",
                kind="request",
                status=r.status,
                system=system,
                code=code,
                display=display[:300],
                dosage=_dosage(r.dosageInstruction),
                start=as_date(r.authoredOn),
                end=as_date(validity.end) if validity is not None and r.status != "active" else None,
                prescriber_npi=npi,
                prescriber=(requester.display or "")[:200] if requester is not None else "",
            )
        )

    def _medicationstatement(self, r, where: str) -> None:
        patient = self._subject(r.subject, where, "subject", "the patient taking the medication")
        medication = self._medication(r, where)
        if patient is None or medication is None or self._skipped(r, where, "medication statement"):
            return
        system, code, display = medication
        period = r.effectivePeriod
        source = r.informationSource.display if r.informationSource is not None else ""
        self.batch.medications.append(
            MedicationRec(
                patient_ref=patient,
                source_id=r.id or "",
                kind="statement",
                status=r.status,
                system=system,
                code=code,
                display=display[:300],
                dosage=_dosage(r.dosage),
                start=as_date(r.effectiveDateTime or (period.start if period else None)),
                end=as_date(period.end) if period else None,
                prescriber=(source or "")[:200],
            )
        )

    def _allergyintolerance(self, r, where: str) -> None:
        patient = self._subject(r.patient, where, "patient", "the patient with the allergy")
        system, code, display = coded(r.code, SNOMED)
        risk = [e for e in r.extension or [] if (e.url or "").endswith("allergyintolerance-substanceExposureRisk")]
        if not display and risk:  # "no known allergy to …" (a negated C-CDA allergy): not an allergy
            self.batch.warnings.append(f"{where}: records no known allergy (substance exposure risk); not an allergy")
            return
        if not display:
            self.problem(where, "code", "required: the substance (a SNOMED CT or RxNorm code and name)")
        if patient is None or not display:
            return
        status = coded(r.clinicalStatus)[1]
        if (coded(r.verificationStatus)[1]) == "entered-in-error":
            self.batch.warnings.append(f"{where}: allergy entered in error; not imported")
            return
        reactions = sorted(
            {coded(m)[2] for reaction in r.reaction or [] for m in reaction.manifestation or [] if coded(m)[2]}
        )
        self.batch.allergies.append(
            AllergyRec(
                patient_ref=patient,
                source_id=r.id or "",
                system=system,
                code=code,
                display=display[:300],
                clinical_status=status,
                category=(r.category or [""])[0],
                criticality=r.criticality or "",
                reactions=", ".join(reactions)[:300],
                recorded=as_date(r.recordedDate or r.onsetDateTime),
            )
        )

    def _observation(self, r, where: str) -> None:
        patient = self._subject(r.subject, where, "subject", "the patient observed")
        _system, code, display = coded(r.code, LOINC)
        effective = as_datetime(r.effectiveDateTime or (r.effectivePeriod.start if r.effectivePeriod else None))
        effective = effective or as_datetime(r.issued)
        if not code:
            self.problem(where, "code", "required: what was observed (a LOINC code)")
        if effective is None:
            self.problem(where, "effectiveDateTime", "required: when it was observed")
        if patient is None or not code or effective is None or self._skipped(r, where, "observation"):
            return
        category = next((coded(c)[1] for c in r.category or [] if coded(c)[1]), "")
        base = {"patient_ref": patient, "category": category, "effective": effective}
        parts = [(r, r.id or "", code, display)]
        if r.component:  # a panel (blood pressure): one value per component
            parts = [(c, f"{r.id}#{coded(c.code, LOINC)[1]}", *coded(c.code, LOINC)[1:]) for c in r.component]
        for item, source_id, item_code, item_display in parts:
            value, unit, text = _number(item.valueQuantity), "", ""
            if item.valueQuantity is not None:
                unit = item.valueQuantity.unit or item.valueQuantity.code or ""
            elif item.valueCodeableConcept is not None:
                text = coded(item.valueCodeableConcept)[2]
            elif getattr(item, "valueString", None):
                text = item.valueString
            if value is None and not text:
                continue  # a panel's header, or a result still to come: nothing to show
            ranges = item.referenceRange or []
            low = _number(ranges[0].low) if ranges else None
            high = _number(ranges[0].high) if ranges else None
            self.batch.observations.append(
                ObservationRec(
                    source_id=source_id[:220],
                    code=item_code,
                    display=(item_display or item_code)[:300],
                    value=value,
                    unit=unit[:40],
                    value_text=text[:300],
                    low=low,
                    high=high,
                    **base,
                )
            )

    def _immunization(self, r, where: str) -> None:
        patient = self._subject(r.patient, where, "patient", "the patient immunized")
        _system, code, display = coded(r.vaccineCode, CVX)
        occurred = as_date(r.occurrenceDateTime)
        if occurred is None and r.occurrenceString:  # given, but when is not known ("unknown"): cannot be placed
            self.batch.warnings.append(
                f"{where}: {display or 'vaccine'} given on a date not known ({r.occurrenceString!r}); not imported"
            )
            return
        if not display:
            self.problem(where, "vaccineCode", "required: the vaccine (a CVX code and name)")
        if occurred is None:
            self.problem(where, "occurrenceDateTime", "required: the date the vaccine was given")
        if patient is None or not display or occurred is None or self._skipped(r, where, "immunization"):
            return
        self.batch.immunizations.append(
            ImmunizationRec(
                patient_ref=patient,
                source_id=r.id or "",
                code=code,
                display=display[:300],
                status=r.status,
                occurred=occurred,
            )
        )

    def finish_clinical(self) -> None:
        """Prescribers named by a reference resolve to the Practitioner's NPI and name once every file was read."""
        self.batch.medications = [
            replace(
                m,
                prescriber_npi=self._practitioner_npi.get(m.prescriber_npi[4:], ""),
                prescriber=m.prescriber or self._practitioner_name.get(m.prescriber_npi[4:], ""),
            )
            if m.prescriber_npi.startswith("ref:")
            else m
            for m in self.batch.medications
        ]
