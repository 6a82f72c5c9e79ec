"""The demo's first practice convinces: Maple Street has a realistic panel and six months of program at work,
including the things that hold a month in a real program (issue 32)."""

from __future__ import annotations

from ccmops.billing.models import KnownService, PatientMonthDecision
from ccmops.demo import world
from ccmops.enrollment.models import ConsentRevocation, Enrollment
from ccmops.months.models import MonthClose
from ccmops.organizations.models import Organization
from ccmops.patients.models import CoverageRecord, Patient
from ccmops.timetracking.models import TimeEntry


def test_maple_street_has_a_panel_of_hundreds_and_dozens_in_ccm(history):
    maple = Organization.objects.get(slug=world.MAPLE)
    assert Patient.objects.filter(practice=maple).count() >= 200
    active = Enrollment.objects.filter(practice=maple, program="ccm", status="active").count()
    assert 36 <= active <= 60
    # Every completed history month but the last is closed; the last waits for the biller's evaluation.
    closes = list(MonthClose.objects.filter(practice=maple).order_by("month"))
    assert len(closes) == world.HISTORY_MONTHS - 1 and all(c.status == "closed" for c in closes)
    # Each closed month bills most of the enrolled patients and touches more.
    for close in closes:
        ready = PatientMonthDecision.objects.filter(practice=maple, month=close.month, status="ready").count()
        assert ready >= 30, close.month
    # The work is recorded by the care manager, as live timer entries and as late ones entered from the call log.
    sources = set(
        TimeEntry.objects.filter(practice=maple, patient__mrn__startswith="G14-").values_list("source", flat=True)
    )
    assert {"timer", "manual"} <= sources


def test_maple_streets_months_met_what_real_programs_meet(history):
    maple = Organization.objects.get(slug=world.MAPLE)
    # Another practitioner's CCM: the month was held and the biller resolved it with her reason, audited.
    known = KnownService.objects.filter(patient__practice=maple, code="99490").select_related("patient")
    assert known.count() == 2
    overridden = PatientMonthDecision.objects.filter(practice=maple, review="overridden")
    reasons = {d.override_reason for d in overridden}
    assert any("cardiologist" in r for r in reasons)
    assert all(d.override_action == "do_not_bill" and d.override_by is not None for d in overridden)
    assert all(any(r["severity"] == "hold" for r in d.reasons) for d in overridden)  # only held months were overridden
    # A move to Medicare Advantage, a death and a revocation, each recorded with its source, end the enrollment.
    assert CoverageRecord.objects.filter(practice=maple, payer="medicare_advantage").exists()
    died = Patient.objects.get(practice=maple, deceased_on__isnull=False, enrollments__status="disenrolled")
    assert not TimeEntry.objects.filter(patient=died, start__date__gt=died.deceased_on).exists()
    assert ConsentRevocation.objects.filter(practice=maple).count() == 1
    assert Enrollment.objects.filter(practice=maple, status="disenrolled").count() == 3
