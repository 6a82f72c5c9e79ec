"""CY2027 (R-2027-1 … R-2027-7), fee schedules as data (PPRRVU files), and the practitioner's share of the fee
schedule (R-PAY-4, R-PAY-5)."""

from decimal import Decimal
from pathlib import Path

import pytest
from tests.rules.builders import codes, doc, entry, finding, run

from ccmops.rules.contract import parse_patient_month
from ccmops.rules.engine import evaluate
from ccmops.rules.pprrvu import FeeFileError, parse_pprrvu, required_codes
from ccmops.rules.years import RULE_SETS, operational_rule_set_for

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "cms" / "pprrvu22_jan_care_management.csv"


def january_2027(**changes) -> dict:
    changes.setdefault("time_entries", [entry(45, "2027-01-06T09:00:00-06:00")])
    return doc(month="2027-01", **changes)


def test_2027_has_a_rule_set_so_nothing_is_provisional_in_counting():
    """R-2027-4: CCM/PCM/APCM/BHI unchanged; January 2027 evaluates under 2027's own rule set."""
    rules, provisional = operational_rule_set_for(2027)
    assert rules is RULE_SETS[2027] and provisional is False
    assert rules.apcm_bh_addons and not rules.g0511_transition


def test_january_2027_is_priced_at_the_proposed_factors_and_says_so():
    """R-2027-2: $32.8409 × the 2026 RVU 1.98 = $65.02 for 99490; R-2027-3: every decision says where its
    amounts come from, and a provisional month carries a finding citing it (R-2027-1: the proposed rule)."""
    decision = run(january_2027())
    assert codes(decision) == [("99490", 1), ("99439", 1)]
    assert [line["allowed_amount"] for line in decision["lines"]] == ["65.02", "49.59"]
    assert decision["fees_provisional"] is True
    assert "CMS-1848-P" in decision["fee_source"] and "provisional" in decision["fee_source"]
    assert decision["status"] == "ready"
    assert finding(decision, "FEES.PROVISIONAL")["rules"] == ["R-2027-3", "R-2027-2"]


def test_qp_practitioners_get_the_qp_proposed_factor():
    decision = run(
        january_2027(practice={"timezone": "America/Chicago", "setting": "office", "qualifying_apm_participant": True})
    )
    assert decision["lines"][0]["allowed_amount"] == str(
        (Decimal("1.98") * Decimal("33.1693")).quantize(Decimal("0.01"))
    )


def test_provisional_fees_can_hold_under_a_policy():
    decision = run(january_2027(policy={"provisional_fees": "hold"}))
    assert decision["status"] == "hold" and finding(decision, "FEES.PROVISIONAL")["severity"] == "hold"


def test_a_loaded_fee_file_prices_the_year_and_is_named():
    """R-2027-3: a loaded file replaces the provisional amounts; `fee_source` names it."""
    text = "\n".join(
        [
            "2027 National Physician Fee Schedule Relative Value File January Release",
            "HCPCS,MOD,STATUS CODE,WORK RVU,NON-FAC PE RVU,FACILITY PE RVU,MP RVU,"
            "NON-FACILITY TOTAL,FACILITY TOTAL,CONV FACTOR",
            *[f"{code},,A,1.00,0.90,0.40,0.10,2.00,1.50,32.5000" for code in sorted(required_codes(2027))],
            "99490,26,A,1.00,0.90,0.40,0.10,9.99,9.99,32.5000",  # a modifier row: not the global one
        ]
    )
    fees = parse_pprrvu(text, year=2027, source="PPRRVU27_JAN.csv")
    assert fees.conversion_factor == Decimal("32.5000") and not fees.provisional
    decision = evaluate(parse_patient_month(__import__("json").dumps(january_2027())), fees=fees)
    assert decision.lines[0].allowed_amount == Decimal("65.00")
    assert decision.fee_source.startswith("PPRRVU27_JAN.csv (2027 National") and not decision.fees_provisional


@pytest.mark.skipif(not SAMPLE.exists(), reason="../shared is not beside this checkout")
def test_cms_sample_layout_loads():
    fees = parse_pprrvu(SAMPLE.read_text(), year=2022, source=SAMPLE.name)
    assert fees.conversion_factor == Decimal("34.6062")
    assert fees.status["99490"] == "A" and not fees.has("G0556")  # APCM did not exist in 2022
    assert fees.rate("99424", facility=False) == (Decimal("2.41") * Decimal("34.6062")).quantize(Decimal("0.01"))


@pytest.mark.skipif(not SAMPLE.exists(), reason="../shared is not beside this checkout")
def test_a_file_of_another_year_is_refused_by_name():
    with pytest.raises(FeeFileError) as err:
        parse_pprrvu(SAMPLE.read_text(), year=2027, source=SAMPLE.name)
    assert any("is for 2022, not 2027" in p for p in err.value.problems)


def test_a_broken_file_names_every_problem_and_returns_nothing():
    text = "\n".join(
        [
            "HCPCS,MOD,STATUS CODE,NON-FACILITY TOTAL,FACILITY TOTAL,CONV FACTOR",
            "99490,,A,abc,1.31,33.4009",
            "99439,,A,1.51,0.92,33.5000",
        ]
    )
    with pytest.raises(FeeFileError) as err:
        parse_pprrvu(text, year=2026, source="broken.csv")
    problems = "\n".join(err.value.problems)
    assert "broken.csv line 2: 99490 non-facility total 'abc' is not a number" in problems
    assert "care-management codes missing: 99424" in problems
    with pytest.raises(FeeFileError, match="no header row beginning HCPCS"):
        parse_pprrvu("just,some,text\n1,2,3\n", year=2026, source="x.csv")
    with pytest.raises(FeeFileError, match="no conversion factor column"):
        parse_pprrvu("HCPCS,MOD,NON-FACILITY TOTAL\n99490,,1.98\n", year=2026, source="y.csv")


@pytest.mark.parametrize(
    ("credential", "allowed", "share"),
    [
        ("MD", "66.13", "13.23"),
        ("NP", "56.21", "11.24"),
        ("PA", "56.21", "11.24"),
        ("CNS", "56.21", "11.24"),
        ("CNM", "66.13", "13.23"),
    ],
)
def test_np_pa_and_cns_are_paid_85_percent(credential, allowed, share):
    """R-PAY-4: $66.13 × 0.85 = $56.21, patient share $11.24 (cms-rules.md's example); CNMs at 100% since 2011.
    R-PAY-5: the patient share is 20% of each line's allowed amount, an estimate."""
    d = doc(time_entries=[entry(25)])
    d["billing_practitioner"]["credential"] = credential
    line = run(d)["lines"][0]
    assert (line["allowed_amount"], line["patient_share"]) == (allowed, share)


def test_every_2027_item_to_recheck_is_stated_not_applied():
    """R-2027-5, R-2027-6, R-2027-7: proposals and requests for information are not applied: partner staff's CCM
    minutes still count in 2027 (the RPM/RTM employed-staff proposal does not reach CCM), and the employer of every
    counted minute stays in the facts."""
    d = january_2027(time_entries=[entry(45, "2027-01-06T09:00:00-06:00", employer="partner")])
    assert codes(run(d)) == [("99490", 1), ("99439", 1)]
    assert parse_patient_month(__import__("json").dumps(d)).time_entries[0].employer == "partner"
