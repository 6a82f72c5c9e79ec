"""The first of January 2027 with no release in between (R-2027-1 … R-2027-4): timers count under the 2027 rule
set without a provisional warning, January closes and exports with amounts labelled provisional (the proposed
conversion factors), loading the final fee file re-prices open months and not closed ones (R-2027-3); and a
year with no rule set is refused before anything is written."""

import datetime as dt

import pytest
from django.utils import timezone
from tests.factories.billing import sign_note_of

from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.exports import export_837p
from ccmops.billing.fees import fee_rows, load_fee_file
from ccmops.billing.models import ClaimLine, FeeScheduleRelease, PatientMonthDecision
from ccmops.billing.month import standings
from ccmops.demo.history import make_ready
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.models import MonthClose
from ccmops.organizations.models import User
from ccmops.patients.models import Patient
from ccmops.rules.pprrvu import required_codes
from ccmops.timetracking.services import heartbeat, start_timer, stop_timer

JANUARY = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.UTC)  # 09:00 in Chicago


def frozen(monkeypatch, at: dt.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at)


def pprrvu_2027(cf: str = "33.0000") -> str:
    rows = [f"{code},,A,,,,,2.00,1.50,{cf}" for code in sorted(required_codes(2027) | {"99490", "99439"})]
    return "\n".join(
        [
            "2027 National Physician Fee Schedule Relative Value File January Release (RVU27A)",
            "HCPCS,MOD,STATUS CODE,WORK RVU,NON-FAC PE RVU,FACILITY PE RVU,MP RVU,NON-FACILITY TOTAL,FACILITY TOTAL,"
            "CONV FACTOR",
            *rows,
        ]
    )


def call(patient, staff, at: dt.datetime, minutes: int):
    timer = start_timer(patient=patient, staff=staff, program="ccm", activity="care_coordination_call", now=at)
    for m in range(1, minutes):
        heartbeat(timer=timer, staff=staff, active=True, now=at + dt.timedelta(minutes=m))
    entry = stop_timer(timer=timer, staff=staff, now=at + dt.timedelta(minutes=minutes))
    sign_note_of(entry)
    return entry


@pytest.fixture
def moen_in_2027(demo, monkeypatch):
    frozen(monkeypatch, JANUARY)
    nora = User.objects.get(username="nora.rn")
    moen = Patient.objects.select_related("practice", "billing_practitioner").get(family_name="Moen")
    make_ready(moen, moen.billing_practitioner, nora, dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC))
    return moen, nora


def test_january_2027_counts_closes_and_exports_with_provisional_amounts(moen_in_2027, monkeypatch):
    moen, nora = moen_in_2027
    call(moen, nora, JANUARY, 25)
    standing = standings([moen], {moen.id: "ccm"}, JANUARY.date())[moen.id]
    assert standing.minutes == 25 and standing.provisional_rules is None  # 2027 has its rule set: no warning
    frozen(monkeypatch, dt.datetime(2027, 2, 2, 15, 0, tzinfo=dt.UTC))
    ben = User.objects.get(username="ben.biller")
    close_month(practice=moen.practice, month="2027-01", by=ben)
    d = PatientMonthDecision.objects.get(patient=moen, month="2027-01")
    assert d.status == "ready", d.reasons
    assert [(x["code"], x["allowed_amount"]) for x in d.decision["lines"]] == [("99490", "65.02")]
    assert d.decision["fees_provisional"] is True and "CMS-1848-P" in d.decision["fee_source"]
    assert "FEES.PROVISIONAL" in {f["code"] for f in d.decision["findings"]}
    approve_and_close(practice=moen.practice, month="2027-01", by=ben)
    batch = export_837p(practice=moen.practice, month="2027-01", by=ben)
    assert "SV1*HC:99490*85.00*UN*1" in batch.content  # the practice's charge, whatever the provisional amount
    client_page = moen.practice  # the month page labels the amounts
    from django.test import Client
    from tests.factories.session import mfa_done

    client = Client()
    client.force_login(ben)
    mfa_done(client)
    page = client.get(f"/practices/{client_page.id}/months/2027-01/").content.decode()
    assert 'id="provisional-amounts"' in page


def test_loading_the_final_2027_file_reprices_open_months_not_closed_ones(moen_in_2027, monkeypatch):
    """R-2027-3: January closed at the provisional 65.02 keeps it; February, open, is priced with the file at its
    next evaluation (and must be evaluated again before approval: its facts hash includes the fee source)."""
    moen, nora = moen_in_2027
    call(moen, nora, JANUARY, 25)
    frozen(monkeypatch, dt.datetime(2027, 2, 2, 15, 0, tzinfo=dt.UTC))
    ben = User.objects.get(username="ben.biller")
    close_month(practice=moen.practice, month="2027-01", by=ben)
    approve_and_close(practice=moen.practice, month="2027-01", by=ben)
    call(moen, nora, dt.datetime(2027, 2, 2, 15, 0, tzinfo=dt.UTC), 22)
    close_month(practice=moen.practice, month="2027-02", by=ben)  # a preview of the month in progress
    before = PatientMonthDecision.objects.get(patient=moen, month="2027-02").decision
    assert before["lines"][0]["allowed_amount"] == "65.02" and before["fees_provisional"]
    release = load_fee_file(text=pprrvu_2027("33.0000"), name="PPRRVU27_JAN.csv", year=2027, by=ben)
    assert release.conversion_factor == 33 and "RVU27A" in release.source
    assert next(r for r in fee_rows() if r["year"] == 2027)["provisional"] is False
    close_month(practice=moen.practice, month="2027-02", by=ben)
    after = PatientMonthDecision.objects.get(patient=moen, month="2027-02").decision
    assert after["lines"][0]["allowed_amount"] == "66.00"  # 2.00 RVU × $33.0000
    assert after["fees_provisional"] is False and after["fee_source"].startswith("PPRRVU27_JAN.csv")
    assert str(ClaimLine.objects.get(patient=moen, month="2027-01", code="99490").allowed_amount) == "65.02"


def test_a_broken_fee_file_stores_nothing_and_names_each_problem(demo):
    broken = pprrvu_2027().replace("99439,,A,,,,,2.00", "99439,,A,,,,,two").replace("2027 National", "2026 National")
    with pytest.raises(InvalidInput) as refused:
        load_fee_file(text=broken, name="mixed.csv", year=2027)
    message = str(refused.value)
    assert "nothing was stored" in message
    assert "the file is for 2026, not 2027" in message and "99439 non-facility total 'two' is not a number" in message
    with pytest.raises(InvalidInput, match="no Medicare rule set for 2031"):
        load_fee_file(text=pprrvu_2027(), name="x.csv", year=2031)
    assert not FeeScheduleRelease.objects.exists()


def test_the_cli_loads_the_shipped_layout_and_lists_what_prices_each_year(demo, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "PPRRVU27_JAN.csv"
    path.write_text(pprrvu_2027())
    from django.core.management import call_command

    call_command("fees", "load", str(path), "--year", "2027", "--qp-conversion-factor", "33.3300")
    release = FeeScheduleRelease.objects.get()
    assert (release.year, str(release.conversion_factor_qp)) == (2027, "33.3300")
    assert next(r["in_force"] for r in fee_rows() if r["year"] == 2027).startswith("PPRRVU27_JAN.csv")
    usage = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "rules", "load-fees", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 0 and "--year" in usage.stdout


def test_a_year_without_a_rule_set_is_refused_and_leaves_no_close_row(demo):
    """R-2027-3 and the security review (item 7): a refusal with the reason, no close row left "evaluating"."""
    practice = Patient.objects.get(family_name="Moen").practice
    with pytest.raises(Conflict, match="no Medicare rule set for 2031"):
        close_month(practice=practice, month="2031-01")
    assert not MonthClose.objects.filter(practice=practice, month="2031-01").exists()
