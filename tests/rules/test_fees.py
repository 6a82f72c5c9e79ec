"""Prices: RVU × conversion factor by year and setting; coinsurance (cms-rules.md §7)."""

from decimal import Decimal

import pytest
from tests.rules.builders import doc, entry, run

from ccmops.rules.fees import patient_share
from ccmops.rules.years import RULE_SETS, load_fee_schedule

TABLE_2026 = {  # code: (non-facility non-QP, QP, facility non-QP) from cms-rules.md §7
    "99490": ("66.13", "66.46", "43.76"),
    "99439": ("50.44", "50.69", "30.73"),
    "99487": ("144.29", "145.01", "79.16"),
    "99489": ("78.16", "78.55", "43.76"),
    "99491": ("89.18", "89.63", "65.47"),
    "99437": ("63.13", "63.44", "43.76"),
    "99424": ("87.51", "87.95", "64.80"),
    "99425": ("61.46", "61.76", "44.09"),
    "99426": ("67.80", "68.14", "44.09"),
    "99427": ("54.11", "54.38", "31.40"),
    "G0506": ("66.47", "66.80", "38.41"),
    "G0556": ("16.37", "16.45", "11.02"),
    "G0557": ("53.78", "54.04", "33.73"),
    "G0558": ("117.24", "117.82", "72.81"),
    "G0568": ("161.66", "162.47", "81.83"),
    "G0569": ("145.96", "146.69", "89.85"),
    "G0570": ("57.78", "58.07", "38.75"),
}
TABLE_2025 = {
    "99490": "60.49",
    "99439": "45.93",
    "99487": "131.65",
    "99489": "70.52",
    "99491": "82.16",
    "99437": "57.58",
    "99424": "80.87",
    "99425": "58.87",
    "99426": "61.78",
    "99427": "50.46",
    "G0506": "60.81",
    "G0556": "15.20",
    "G0557": "48.84",
    "G0558": "107.07",
    "G0511": "54.67",
}


@pytest.mark.parametrize("code", sorted(TABLE_2026))
def test_2026_amounts_match_the_reference_table(code):
    """R-2026-2 (two conversion factors), R-2026-3 (no efficiency adjustment on time-based codes)."""
    fees, rules = load_fee_schedule(2026), RULE_SETS[2026]
    nf, qp, fac = TABLE_2026[code]
    assert fees.rate(code, facility=False, conversion_factor=rules.factor(qualifying_apm_participant=False)) == Decimal(
        nf
    )
    assert fees.rate(code, facility=False, conversion_factor=rules.factor(qualifying_apm_participant=True)) == Decimal(
        qp
    )
    assert fees.rate(code, facility=True, conversion_factor=rules.conversion_factor) == Decimal(fac)


@pytest.mark.parametrize("code", sorted(TABLE_2025))
def test_2025_amounts_match_the_reference_table(code):
    """R-RHC-2: G0511 priced in 2025 only."""
    assert load_fee_schedule(2025).rate(code, facility=False, conversion_factor=Decimal("32.3465")) == Decimal(
        TABLE_2025[code]
    )
    assert load_fee_schedule(2026).has(code) is (code != "G0511")


def test_facility_setting_uses_facility_rate_and_office_non_facility():
    """R-CLM-POS-1: priced by the billing location's setting."""
    office = run(doc(time_entries=[entry(25)]))
    facility = run(doc(practice={"timezone": "America/Chicago", "setting": "facility"}, time_entries=[entry(25)]))
    assert office["lines"][0]["allowed_amount"] == "66.13"
    assert facility["lines"][0]["allowed_amount"] == "43.76"


def test_qp_practice_uses_the_qp_conversion_factor():
    d = doc(
        practice={"timezone": "America/Chicago", "setting": "office", "qualifying_apm_participant": True},
        time_entries=[entry(25)],
    )
    assert run(d)["lines"][0]["allowed_amount"] == "66.46"


@pytest.mark.parametrize(
    ("allowed", "qmb", "share"),
    [
        ("66.13", False, "13.23"),
        ("50.44", False, "10.09"),
        ("100.88", False, "20.18"),
        ("66.13", True, "0.00"),
    ],
)
def test_patient_share_is_twenty_percent_never_waived_except_qmb(allowed, qmb, share):
    """R-PAY-1, R-CONS-5 (no routine waiver), R-PAY-2 (QMB)."""
    assert patient_share(Decimal(allowed), qmb=qmb) == Decimal(share)


def test_add_on_units_multiply_the_amount_and_amounts_are_before_sequestration():
    """R-PAY-3: allowed amounts are RVU × CF; the 2% sequestration is not applied by the engine."""
    decision = run(doc(time_entries=[entry(65)]))
    assert decision["lines"][1] == {
        **decision["lines"][1],
        "code": "99439",
        "units": 2,
        "allowed_amount": "100.88",
        "patient_share": "20.18",
    }


def test_qmb_finding_explains_zero_share():
    d = doc(time_entries=[entry(25)])
    d["patient"]["qmb"] = True
    decision = run(d)
    assert decision["lines"][0]["patient_share"] == "0.00"
    assert any(f["code"] == "CLAIM.QMB.NO_COST_SHARING" for f in decision["findings"])
