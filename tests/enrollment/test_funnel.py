"""From candidate to active, and the funnel's history."""

import pytest
from django.utils import timezone
from tests.factories.enrollment import ALL, an_hour_ago

from ccmops.enrollment.consents import record_consent
from ccmops.enrollment.models import Enrollment
from ccmops.enrollment.services import change_status, log_outreach_attempt
from ccmops.errors import InvalidInput
from ccmops.patients.services import record_visit
from ccmops.worklist.queries import worklist


def test_five_failed_attempts_make_a_patient_unable_to_reach(twyla, nora):
    for _ in range(4):
        log_outreach_attempt(
            patient=twyla, program="ccm", purpose="enrollment", channel="phone", outcome="no_answer", by=nora
        )
    assert Enrollment.objects.get(patient=twyla).status == "outreach"
    log_outreach_attempt(
        patient=twyla, program="ccm", purpose="enrollment", channel="phone", outcome="voicemail", by=nora
    )
    enrollment = Enrollment.objects.get(patient=twyla)
    assert enrollment.status == "unable_to_reach" and "5 outreach attempts" in enrollment.reason


def test_declined_on_a_call(twyla, nora):
    log_outreach_attempt(
        patient=twyla,
        program="ccm",
        purpose="enrollment",
        channel="phone",
        outcome="declined",
        note="Not interested now",
        by=nora,
    )
    assert Enrollment.objects.get(patient=twyla).status == "declined"


def test_transitions_are_checked_and_reasons_required(twyla, nora):
    with pytest.raises(InvalidInput, match="cannot go from candidate to active"):
        change_status(patient=twyla, program="ccm", to="active", by=nora)
    with pytest.raises(InvalidInput, match="reason"):
        change_status(patient=twyla, program="ccm", to="declined", by=nora)


def test_candidate_to_active_needs_consent_visit_and_approved_plan(twyla, nora, patel, approved_plan, dr_patel):
    log_outreach_attempt(
        patient=twyla, program="ccm", purpose="enrollment", channel="phone", outcome="reached", by=nora
    )
    record_consent(
        patient=twyla,
        program="ccm",
        practitioner=patel,
        method="verbal",
        documented_at=an_hour_ago(),
        elements=ALL,
        obtained_by=nora,
    )
    enrollment = Enrollment.objects.get(patient=twyla)
    assert enrollment.status == "consented"  # Synthea visits end in 2021: an initiating visit is required first
    record_visit(
        patient=twyla,
        day=timezone.localdate(),
        kind="em",
        code="99214",
        practitioner=patel,
        care_management_discussed=False,
        by=nora,
    )
    assert Enrollment.objects.get(patient=twyla).status == "consented"  # not discussed: does not initiate
    record_visit(
        patient=twyla,
        day=timezone.localdate(),
        kind="awv",
        code="G0439",
        practitioner=patel,
        care_management_discussed=True,
        by=nora,
    )
    assert Enrollment.objects.get(patient=twyla).status == "active"
    from ccmops.patients.scope import scope_for

    rows = worklist(scope_for(nora), nora, on=timezone.localdate(), mine=True)
    assert [r.enrollment.patient for r in rows] == [twyla]
    assert "No touch yet this month" in rows[0].reasons


def test_funnel_page_counts_by_party(login, twyla, nora):
    log_outreach_attempt(
        patient=twyla,
        program="ccm",
        purpose="enrollment",
        channel="phone",
        outcome="reached",
        by=nora,
        party_id=twyla.practice_id,
    )
    page = login("olivia.owner").get(f"/practices/{twyla.practice_id}/enrollment/").content.decode()
    assert "Maple Street Family Medicine" in page and "Outreach in progress" in page
