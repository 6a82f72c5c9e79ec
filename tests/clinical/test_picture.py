"""The clinical picture on the patient page (issue 33): active medications with prescriber, dose and start;
allergies; the latest vital signs and results flagged against the lab's range or a named one; trends over two
years as charts with their values as text; immunizations due as information."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from ccmops.clinical.models import Allergy, Immunization, Medication, Observation
from ccmops.clinical.picture import clinical_picture
from ccmops.patients.models import Patient

TODAY = dt.date(2026, 12, 6)


def moen() -> Patient:
    """Moen, without the clinical picture the demo imported for her: each test sets out its own."""
    twyla = Patient.objects.get(family_name="Moen")
    for model in (Medication, Allergy, Observation, Immunization):
        model.objects.filter(patient=twyla).delete()
    return twyla


def observe(patient, code, value, when, *, unit="", low=None, high=None, n=[0]):  # noqa: B006 — a counter
    n[0] += 1
    return Observation.objects.create(
        practice=patient.practice, patient=patient, source_id=f"o{n[0]}", category="vital-signs", code=code,
        display=code, effective=dt.datetime.combine(when, dt.time(9), tzinfo=dt.UTC), value=Decimal(str(value)),
        unit=unit, low=low, high=high,
    )  # fmt: skip


def test_flags_rest_on_the_labs_range_else_on_a_named_one(demo):
    twyla = moen()
    observe(twyla, "8480-6", 152, dt.date(2026, 11, 2), unit="mm[Hg]")  # no range sent: the named one
    observe(twyla, "8462-4", 78, dt.date(2026, 11, 2), unit="mm[Hg]")
    observe(twyla, "4548-4", 6.1, dt.date(2026, 10, 1), unit="%", low=Decimal(4), high=Decimal("5.6"))  # the lab's
    observe(twyla, "33914-3", 48, dt.date(2026, 9, 1), unit="mL/min/{1.73_m2}")
    readings = {r.code: r for r in clinical_picture(twyla, TODAY).readings}
    assert readings["8480-6"].flag == "high" and "ACC/AHA 2017" in readings["8480-6"].compared_with
    assert readings["8480-6"].unit == "mmHg"
    assert readings["8462-4"].flag == "" and readings["8462-4"].compared_with.startswith("60–89 mmHg")
    assert readings["4548-4"].flag == "high" and readings["4548-4"].compared_with == "4–5.6 % (the lab's range)"
    assert readings["33914-3"].flag == "low" and readings["33914-3"].unit == "mL/min/1.73 m²"


def test_the_latest_of_each_measure_and_a_trend_over_two_years(demo, login):
    twyla = moen()
    for months_ago, systolic in ((30, 170), (20, 158), (10, 149), (1, 138)):
        day = TODAY - dt.timedelta(days=30 * months_ago)
        observe(twyla, "8480-6", systolic, day, unit="mm[Hg]")
        observe(twyla, "8462-4", systolic - 60, day, unit="mm[Hg]")
    picture = clinical_picture(twyla, TODAY)
    (systolic,) = [r for r in picture.readings if r.code == "8480-6"]
    assert systolic.value == Decimal("138.0") and systolic.flag == ""
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert 'aria-label="Blood pressure (mmHg)"' in page
    today = timezone.localdate()
    within = [p for p in (30, 20, 10, 1) if (today - (TODAY - dt.timedelta(days=30 * p))).days <= 24 * 31]
    values = page[page.index("<strong>Systolic</strong>") :].split("</p>")[0]
    assert values.count(";") == len(within) - 1  # the chart's values as text: the last two years only
    assert "mm[Hg]" not in page


def test_active_medications_one_line_each_and_allergies(demo, login):
    twyla = moen()
    common = {"practice": twyla.practice, "patient": twyla, "kind": "request", "system": "rxnorm"}
    Medication.objects.create(**common, source_id="m1", status="completed", code="197361", display="Amlodipine 5 MG",
                              start=dt.date(2024, 1, 5))  # fmt: skip
    Medication.objects.create(**common, source_id="m2", status="active", code="197361", display="Amlodipine 5 MG",
                              start=dt.date(2026, 2, 1), prescriber="Dr. Anika Patel", prescriber_npi="1003000019",
                              dosage="1 tablet daily")  # fmt: skip
    Medication.objects.create(**common, source_id="m3", status="stopped", code="310798", display="HCTZ 25 MG",
                              start=dt.date(2025, 1, 1))  # fmt: skip
    Allergy.objects.create(practice=twyla.practice, patient=twyla, source_id="a1", system="snomed", code="91936005",
                           display="Allergy to penicillin", clinical_status="active", criticality="high")  # fmt: skip
    Allergy.objects.create(practice=twyla.practice, patient=twyla, source_id="a2", system="snomed", code="1",
                           display="Allergy to dust", clinical_status="resolved")  # fmt: skip
    picture = clinical_picture(twyla, TODAY)
    assert [(m.display, m.start) for m in picture.medications] == [("Amlodipine 5 MG", dt.date(2026, 2, 1))]
    assert [a.display for a in picture.allergies] == ["Allergy to penicillin"]
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert "Dr. Anika Patel" in page and "1 tablet daily" in page and "high criticality" in page
    assert "HCTZ" not in page and "Allergy to dust" not in page


def test_immunizations_due_follow_the_season_and_age(demo):
    twyla = moen()  # born 1945: 65 or over
    assert twyla.age_on(TODAY) >= 65

    def give(code, display, day):
        Immunization.objects.create(practice=twyla.practice, patient=twyla, source_id=f"{code}{day}", code=code,
                                    display=display, status="completed", occurred=day)  # fmt: skip

    give("140", "Influenza, seasonal", dt.date(2026, 7, 20))  # last season's
    give("33", "Pneumococcal polysaccharide PPV23", dt.date(2015, 3, 1))
    due = clinical_picture(twyla, TODAY).due
    assert any(d.startswith("Influenza: none on record this season (since August 1, 2026)") for d in due)
    assert any("no conjugate vaccine" in d and "PPV23" in d for d in due)
    give("140", "Influenza, seasonal", dt.date(2026, 9, 15))
    give("216", "Pneumococcal conjugate PCV20", dt.date(2026, 9, 15))
    assert clinical_picture(twyla, TODAY).due == []
    # In July, the season that counts began the August before.
    assert clinical_picture(twyla, dt.date(2027, 7, 1)).due == []
