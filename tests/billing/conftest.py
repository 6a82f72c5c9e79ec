"""Billing tests' worlds: Twyla's month with a hold, and that month closed."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.factories.billing import previous_month
from tests.factories.monthly import activate

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.review import override
from ccmops.careplans.models import CarePlanVersion
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.timetracking.entries import add_manual_entry


@pytest.fixture
def month_world(demo):
    """Twyla active since two months ago, with 45 minutes last month; her plan was not given to her (a hold)."""
    nora = User.objects.get(username="nora.rn")
    twyla = Patient.objects.get(family_name="Moen")
    month, mid = previous_month()
    activate(twyla, nora)
    from ccmops.enrollment.models import Consent

    Consent.objects.filter(patient=twyla).update(documented_at=mid - dt.timedelta(days=40))
    from ccmops.patients.models import Encounter

    Encounter.objects.filter(patient=twyla, recorded_by__isnull=False).update(start=mid - dt.timedelta(days=41))
    CarePlanVersion.objects.filter(care_plan__patient=twyla, status="approved").update(
        approved_at=mid - dt.timedelta(days=30)
    )
    for activity, start, minutes in (
        ("care_coordination_call", mid, 25),
        ("medication_reconciliation", mid + dt.timedelta(days=3), 20),
    ):
        add_manual_entry(  # written up in no note yet (tests/billing/test_late_notes.py writes them late)
            patient=twyla,
            staff=nora,
            program="ccm",
            activity=activity,
            start=start,
            minutes=minutes,
            reason="Entered from paper log",
        )
    return twyla, month, User.objects.get(username="ben.biller")


@pytest.fixture
def closed(month_world):
    twyla, month, ben = month_world
    practice = twyla.practice
    practice.medicare_contractor_name = "NGS MEDICARE J6"
    practice.medicare_contractor_id = "06102"
    practice.save()
    twyla.medicare_id = "1EG4TE5MK73"
    twyla.save()
    close_month(practice=practice, month=month, by=ben)
    override(
        decision=PatientMonthDecision.objects.get(patient=twyla),
        action="bill",
        reason="Plan handed over at the visit",
        by=ben,
    )
    approve_and_close(practice=practice, month=month, by=ben)
    return twyla, month, ben
