"""Look back under today's rules (the rules-current issue, point 5): closed months re-decided with the rules and
facts as they now stand, nothing changed, every patient-month that would differ listed with rule IDs and amounts —
on the CLI, the page (biller and the practice's compliance reviewer) and the API."""

import json

from django.core.management import call_command
from tests.factories.billing import evaluate_and_bill

from ccmops.billing.lookback import lookback
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.patients.coverage import record_coverage


def test_a_closed_month_that_would_be_billed_differently_today_is_listed_and_not_changed(month_world, login, capsys):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    before = list(ClaimLine.objects.filter(patient=twyla).values_list("code", "units", "allowed_amount"))
    decided = PatientMonthDecision.objects.get(patient=twyla, month=month).decision
    # learned after the close: the patient was in a Medicare Advantage plan that month (R-COV-1)
    record_coverage(patient=twyla, payer="medicare_advantage", start=None, end=None, source="MA plan's letter", by=ben)
    found = lookback(practice=twyla.practice, start=month, end=month, by=ben)
    (d,) = found.differences
    assert d.patient_id == twyla.id and d.now == () and d.status_now == "nothing_billable"
    assert sorted(d.billed) == [("99439", 1), ("99490", 1)] and "R-COV-1" in d.rules
    assert d.difference == -d.billed_amount and found.total_difference == d.difference
    assert list(ClaimLine.objects.filter(patient=twyla).values_list("code", "units", "allowed_amount")) == before
    assert PatientMonthDecision.objects.get(patient=twyla, month=month).decision == decided
    call_command("month", "lookback", "--practice", twyla.practice.slug, "--from", month, "--to", month, "--json")
    assert json.loads(capsys.readouterr().out)[0]["rules"] == list(d.rules)
    page = login("ben.biller").get(f"/practices/{twyla.practice_id}/lookback/?from={month}&to={month}")
    assert page.status_code == 200 and "Medicare Advantage" in page.content.decode()
    api = login("carl.compliance").get(f"/api/practices/{twyla.practice_id}/lookback?from={month}&to={month}")
    assert api.status_code == 200 and api.json()["differences"][0]["patient_id"] == twyla.id
    assert login("nora.rn").get(f"/practices/{twyla.practice_id}/lookback/").status_code == 403
