"""The facts a month's decision is made from, as read from the database (by plain SQL on both backends)."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone
from tests.factories.monthly import activate

from ccmops.billing.facts import patient_months
from ccmops.careplans.models import CarePlan, CarePlanShare, CarePlanVersion
from ccmops.documentation.models import Note
from ccmops.enrollment.models import Consent, ConsentRevocation, Enrollment
from ccmops.months.month import month_of
from ccmops.organizations.models import User
from ccmops.patients.models import CoverageRecord, Encounter, Patient, PatientCondition
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry, TimeEntrySegment

UTC = dt.UTC


def _entry(patient, staff, start, spans, **extra):
    """An entry of these (start offset, end offset) spans in seconds from `start`."""
    segments = [(start + dt.timedelta(seconds=a), start + dt.timedelta(seconds=b)) for a, b in spans]
    entry = TimeEntry.objects.create(
        practice=patient.practice,
        patient=patient,
        staff=staff,
        staff_role="clinical_staff",
        credential="RN",
        employer=patient.practice,
        program="ccm",
        activity="care_coordination_call",
        start=segments[0][0],
        end=segments[-1][1],
        seconds=sum((b - a).seconds for a, b in segments),
        source="manual",
        entered_at=segments[-1][1],
        **extra,
    )
    TimeEntrySegment.objects.bulk_create(
        TimeEntrySegment(practice=patient.practice, entry=entry, staff=staff, patient=patient, start=a, end=b)
        for a, b in segments
    )
    return entry


def test_every_kind_of_fact_is_read_as_stored(demo):
    nora = User.objects.get(username="nora.rn")
    twyla, latanya = Patient.objects.get(family_name="Moen"), Patient.objects.get(family_name="Kohler")
    activate(twyla, nora)
    practice = twyla.practice
    today = timezone.localdate()
    month = month_of(today)
    first = dt.datetime(today.year, today.month, 1, 15, 0, tzinfo=UTC)

    consent = Consent.objects.get(patient=twyla)
    revoked = first + dt.timedelta(hours=2, microseconds=250)
    ConsentRevocation.objects.create(
        practice=practice,
        consent=consent,
        revoked_at=revoked,
        effective_at=revoked + dt.timedelta(days=30),
        reason="Patient asked to stop",
        recorded_by=nora,
    )
    plan = CarePlan.objects.get(patient=twyla, program="ccm")
    v1 = plan.versions.get(status="approved")
    v2 = CarePlanVersion.objects.create(
        practice=practice,
        care_plan=plan,
        number=v1.number + 1,
        content=v1.content,
        substantial_revision=True,
        status="approved",
        created_by=nora,
        created_at=first,
        approved_by=twyla.billing_practitioner,
        approved_at=v1.approved_at + dt.timedelta(minutes=5),
    )
    for at in (first + dt.timedelta(days=2), first + dt.timedelta(hours=1)):  # the earlier one counts
        CarePlanShare.objects.create(practice=practice, version=v1, shared_at=at, method="printed", recorded_by=nora)
    CarePlanShare.objects.create(practice=practice, version=v2, shared_at=first, method="mailed", recorded_by=nora)
    PatientCondition.objects.filter(patient=twyla).delete()
    PatientCondition.objects.create(
        practice=practice, patient=twyla, system="icd10cm", code="I10", onset=dt.date(2019, 3, 4)
    )
    PatientCondition.objects.create(
        practice=practice,
        patient=twyla,
        system="icd10cm",
        code="E11.9",
        onset=dt.date(2018, 1, 2),
        abated=dt.date(2020, 5, 6),
    )
    Encounter.objects.create(  # not a visit (no visit kind): not a fact
        practice=practice, patient=twyla, source_id="lab-1", start=first, setting="ambulatory"
    )
    paused = _entry(twyla, nora, first + dt.timedelta(days=1), [(0, 30), (100, 1000), (2000, 2600)])
    abroad = _entry(twyla, nora, first + dt.timedelta(days=2), [(0, 1200)], located_in_us=False, counted_for="99495")
    draft = Note.objects.create(  # documents `paused`, unsigned; a signed one of `abroad`
        practice=practice,
        patient=twyla,
        author=nora,
        program="ccm",
        activity="care_coordination_call",
        time_entry=paused,
        created_at=first,
    )
    signed = Note.objects.create(
        practice=practice,
        patient=twyla,
        author=nora,
        program="ccm",
        activity="care_coordination_call",
        time_entry=abroad,
        created_at=first,
        signed_at=first + dt.timedelta(hours=3),
    )
    CoverageRecord.objects.filter(patient=twyla).delete()
    CoverageRecord.objects.create(  # a dated period, and payers seen on claims (observations on a day)
        practice=practice,
        patient=twyla,
        source_id="cov-1",
        payer="dual_eligible",
        start=dt.date(2020, 1, 1),
        end=dt.date(2024, 12, 31),
    )
    for day, payer in (
        (dt.date(2025, 1, 10), "medicare"),
        (dt.date(2025, 6, 1), "medicare"),
        (dt.date(2025, 9, 2), "medicare_advantage"),
    ):
        CoverageRecord.objects.create(practice=practice, patient=twyla, source_id=f"eob:{day}", payer=payer, start=day)
    Patient.objects.filter(pk=twyla.pk).update(deceased_on=today)
    twyla.refresh_from_db()
    _entry(twyla, nora, first - dt.timedelta(days=40), [(0, 1200)])  # another month: not read
    Enrollment.objects.update_or_create(
        patient=latanya,
        program="ccm",
        defaults={"practice": practice, "status": "enrolled_elsewhere", "status_since": first},
    )

    facts = patient_months([twyla, latanya], month)

    pm = facts[twyla.id].model_dump(mode="json")
    assert pm["patient"]["conditions"] == [
        {"code": "E11.9", "system": "icd10cm", "onset": "2018-01-02", "abated": "2020-05-06"},
        {"code": "I10", "system": "icd10cm", "onset": "2019-03-04", "abated": None},
    ]
    visits = Encounter.objects.filter(patient=twyla).exclude(visit_kind="").order_by("-start")
    group = set(practice.practitioners.values_list("npi", flat=True))
    assert len(pm["visits"]) == len(visits) > 1 and not any(v["kind"] == "" for v in pm["visits"])
    assert pm["visits"] == [
        {
            "date": timezone.localtime(v.start, ZoneInfo(practice.time_zone)).date().isoformat(),
            "kind": v.visit_kind,
            "code": v.code,
            "practitioner_id": f"npi-{v.practitioner_npi}",
            "care_management_discussed": v.care_management_discussed,
            "new_patient": False,
            "same_group": v.practitioner_npi in group,  # a visit of the practice's own practitioners (R-APCM-4)
        }
        for v in visits
    ]
    assert pm["visits"][0]["care_management_discussed"] is True  # the initiating visit, the latest
    [read] = pm["consents"]
    assert read["practitioner_id"] == f"npi-{consent.practitioner.npi}"
    assert read["elements"] == consent.elements and read["method"] == "verbal"
    assert dt.datetime.fromisoformat(read["documented_at"]) == consent.documented_at
    assert dt.datetime.fromisoformat(read["revoked_at"]) == revoked
    plan_facts = pm["care_plan"]
    assert dt.datetime.fromisoformat(plan_facts["established_at"]) == v1.approved_at
    assert dt.datetime.fromisoformat(plan_facts["shared_with_patient_at"]) == first
    assert [(dt.datetime.fromisoformat(r["at"]), r["substantial"]) for r in plan_facts["revisions"]] == [
        (v2.approved_at, True)
    ]
    entries = [
        (e["id"], dt.datetime.fromisoformat(e["start"]), e["minutes"], e["located_in_us"], e["counted_for"])
        for e in pm["time_entries"]
    ]
    assert entries == [  # newest entry first, its segments in order; segments under a minute are not facts
        (f"te-{abroad.id}-0", abroad.start, 20, False, "99495"),
        (f"te-{paused.id}-1", paused.start + dt.timedelta(seconds=100), 15, True, None),
        (f"te-{paused.id}-2", paused.start + dt.timedelta(seconds=2000), 10, True, None),
    ]
    # Enrolled elsewhere is a fact about the patient (since the day, in the practice's zone), not a made-up service.
    assert pm["other_services"] == [] and facts[latanya.id].other_services == ()
    assert (
        facts[latanya.id].patient.ccm_elsewhere_since == timezone.localtime(first, ZoneInfo(practice.time_zone)).date()
    )
    assert pm["patient"]["ccm_elsewhere_since"] is None
    notes = {e["id"]: e["note"] for e in pm["time_entries"]}  # R-DOC-1: each entry's note, stated
    assert notes[f"te-{abroad.id}-0"]["id"] == f"note-{signed.id}"
    assert notes[f"te-{abroad.id}-0"]["author"] == f"user-{nora.id}"
    assert dt.datetime.fromisoformat(notes[f"te-{abroad.id}-0"]["signed_at"]) == signed.signed_at
    assert notes[f"te-{paused.id}-1"] == {"id": f"note-{draft.id}", "signed_at": None, "author": f"user-{nora.id}"}
    assert all(e.documentation_stated for e in facts[twyla.id].time_entries)
    assert pm["patient"]["coverage"] == [  # R-COV-1: a dual eligible is Part B and Medicaid; observations run on
        {"kind": "part_b_ffs", "start": "2020-01-01", "end": "2024-12-31", "medicare_secondary": False},
        {"kind": "medicaid", "start": "2020-01-01", "end": "2024-12-31", "medicare_secondary": False},
        {"kind": "part_b_ffs", "start": "2025-01-10", "end": "2025-09-01", "medicare_secondary": False},
        {"kind": "medicare_advantage", "start": "2025-09-02", "end": None, "medicare_secondary": False},
    ]
    assert pm["patient"]["deceased_on"] == today.isoformat()  # R-COV-2


def test_a_confirmed_code_replaces_the_crosswalk_and_no_coverage_is_stated_as_none(demo):
    """R-DX-3: a SNOMED CT problem goes on the claim as the code a person confirmed; R-COV-1: a patient with no
    coverage on record is stated as such (an empty list: unknown, held), never left out."""
    from ccmops.patients.coverage import confirm_diagnosis

    twyla = Patient.objects.get(family_name="Moen")
    month = month_of(timezone.localdate())
    condition = PatientCondition.objects.create(
        practice=twyla.practice, patient=twyla, system="snomed", code="44054006", onset=dt.date(2019, 3, 4)
    )
    confirm_diagnosis(condition=condition, code="E1122", by=User.objects.get(username="dr.patel"))
    CoverageRecord.objects.filter(patient=twyla).delete()
    Patient.objects.filter(pk=twyla.pk).update(medicare_coverage="")
    pm = patient_months([Patient.objects.get(pk=twyla.pk)], month)[twyla.id].model_dump(mode="json")
    assert {"code": "E11.22", "system": "icd10cm", "onset": "2019-03-04", "abated": None} in pm["patient"]["conditions"]
    assert pm["patient"]["coverage"] == []


def test_facts_read_with_a_callers_statements_equal_facts_read_alone(demo):
    """A time entry sends the month's fact reads after its own writes in one round trip (ccmops.platform.pipeline): the
    facts then include what was written before them, and equal what `patient_months` reads by itself."""
    from ccmops.billing.facts import fact_reads
    from ccmops.platform.pipeline import together

    patients = list(Patient.objects.select_related("practice", "billing_practitioner").order_by("id"))
    month = month_of(timezone.localdate())
    nobody = [p for p in patients if not p.billing_practitioner_id]
    assert fact_reads(nobody, month) == [] and patient_months(nobody, month, []) == {}
    patient = next(p for p in patients if p.billing_practitioner_id)
    staff = User.objects.get(username="nora.rn")
    before = patient_months([patient], month)[patient.id]
    start = month_window(month, patient.practice.time_zone).start + dt.timedelta(hours=12)  # within the month
    entry = _entry(patient, staff, start, [(0, 1500)])
    TimeEntrySegment.objects.filter(entry=entry).delete()  # written below, with the reads
    at = connection.ops.adapt_datetimefield_value
    _, *rows = together(
        (
            'INSERT INTO timetracking_timeentrysegment (practice_id, entry_id, staff_id, patient_id, start, "end") '
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [patient.practice_id, entry.id, staff.id, patient.id, at(entry.start), at(entry.end)],
        ),
        *fact_reads([patient], month),
    )
    together_ = patient_months([patient], month, rows)[patient.id]
    assert together_ == patient_months([patient], month)[patient.id]
    assert len(together_.time_entries) == len(before.time_entries) + 1
    assert f"te-{entry.id}-0" in {e.id for e in together_.time_entries}
