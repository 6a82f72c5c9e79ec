"""Chronic-condition classification (R-ELIG-1, R-ELIG-3) from ICD-10-CM and SNOMED CT."""

import csv
from pathlib import Path

import pytest
from tests.rules.builders import doc, entry, finding, finding_codes, run

from ccmops.rules.conditions import classify, icd10_is_valid, table

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synthea" / "condition_codes.csv"


@pytest.mark.parametrize(
    ("codes", "chronic"),
    [
        ([("icd10cm", "E11.9"), ("icd10cm", "E11.65")], {"diabetes"}),  # two diabetes codes, one condition
        ([("icd10cm", "I10"), ("icd10cm", "E78.5")], {"hypertension", "hyperlipid"}),
        ([("icd10cm", "I5032")], {"heart_failure"}),  # dots optional
        ([("icd10cm", "I21.4")], set()),  # acute MI: listed, not a qualifying chronic condition
        ([("icd10cm", "F33.1"), ("icd10cm", "F41.1")], {"depression", "anxiety_disorders"}),
        ([("snomed", "44054006"), ("snomed", "38341003")], {"diabetes", "hypertension"}),
        ([("snomed", "128613002"), ("snomed", "84757009")], {"epilepsy"}),  # seizure disorder = epilepsy
        ([("snomed", "162864005")], set()),  # a BMI finding is not an obesity diagnosis
        ([("icd10cm", "M10.9"), ("snomed", "90560007")], {"gout"}),  # ccmops addition
        ([("snomed", "444814009")], set()),  # viral sinusitis: classified, not chronic
    ],
)
def test_codes_group_into_distinct_conditions(codes, chronic):
    assert classify(codes).chronic == frozenset(chronic)


def test_unknown_codes_are_reported_never_dropped():
    result = classify([("icd10cm", "J02.9"), ("snomed", "999999999"), ("icd10cm", "Z99.999")])
    assert result.unclassified == ("icd10cm:J02.9", "snomed:999999999")
    assert result.invalid == ("Z99.999",)


def test_unclassified_and_invalid_codes_appear_as_findings():
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] += [
        {"code": "J02.9", "system": "icd10cm"},
        {"code": "Q99.XYZ", "system": "icd10cm"},
    ]
    decision = run(d)
    assert "icd10cm:J02.9" in finding(decision, "CONDITIONS.UNCLASSIFIED")["message"]
    assert "Q99.XYZ" in finding(decision, "CONDITIONS.INVALID_ICD10CM")["message"]


def test_diagnosis_codes_come_from_the_qualifying_conditions_in_order():
    """R-CLM-FORM-1: the claim lists the chronic conditions supporting eligibility."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [
        {"code": "J02.9", "system": "icd10cm"},
        {"code": "E1165", "system": "icd10cm"},
        {"code": "I10", "system": "icd10cm"},
        {"code": "E11.9", "system": "icd10cm"},
    ]
    # R-DX-3: E11.9 (without complications) is not reported with the more specific E11.65 of its category
    decision = run(d)
    assert decision["lines"][0]["diagnosis_codes"] == ["E11.65", "I10"]
    assert (
        "E11.9 is not reported with the more specific E11.65"
        in finding(decision, "DIAGNOSIS.UNSPECIFIED_DROPPED")["message"]
    )


@pytest.mark.parametrize(
    ("unspecified", "specific"),
    [("E11.9", "E11.40"), ("I50.9", "I50.32"), ("N18.9", "N18.4"), ("I48.91", "I48.20"), ("J44.9", "J44.1")],
)
def test_an_unspecified_code_is_dropped_beside_a_specific_one_of_its_category(unspecified, specific):
    """R-DX-3: the category's unspecified code never goes beside a more specific code of the same category."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [
        {"code": unspecified, "system": "icd10cm"},
        {"code": specific, "system": "icd10cm"},
        {"code": "I10", "system": "icd10cm"},
    ]
    dx = run(d)["lines"][0]["diagnosis_codes"]
    assert unspecified not in dx and specific in dx


def test_snomed_only_patients_get_suggested_icd10_codes_held_until_confirmed():
    """R-DX-3: codes a crosswalk produced go on a claim only after a person confirms them: hold, not warn
    (unless the practice's policy says warn)."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [
        {"code": "44054006", "system": "snomed"},
        {"code": "38341003", "system": "snomed"},
    ]
    decision = run(d)
    assert decision["lines"][0]["diagnosis_codes"] == ["E11.9", "I10"]
    assert decision["status"] == "hold"
    held = finding(decision, "CLAIM.DIAGNOSES.FROM_SNOMED")
    assert held["severity"] == "hold" and "E11.9 (from SNOMED CT 44054006)" in held["message"]
    d["policy"] = {"hold_unconfirmed_crosswalk_diagnoses": False}
    assert finding(run(d), "CLAIM.DIAGNOSES.FROM_SNOMED")["severity"] == "warning"


@pytest.mark.parametrize(("header", "child"), [("N18.3", "N18.30"), ("I48.2", "I48.20"), ("E11.4", "E11.40")])
def test_a_header_code_holds_the_month_naming_its_billable_children(header, child):
    """R-DX-1: a category or subcategory is not a billable code: it is never sent; the month holds naming the
    code and its billable children. The condition still counts (it is documented, only miscoded)."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [{"code": header, "system": "icd10cm"}, {"code": "I50.32", "system": "icd10cm"}]
    decision = run(d)
    assert decision["status"] == "hold"
    assert all(header not in line["diagnosis_codes"] for line in decision["lines"])
    message = finding(decision, "DIAGNOSIS.NOT_BILLABLE")["message"]
    assert header in message and child in message


@pytest.mark.parametrize("acute", ["I63.9", "G45.9", "I21.4", "M80.08XA"])
def test_acute_episode_codes_do_not_qualify_and_are_never_sent(acute):
    """R-DX-2: acute stroke, TIA, acute MI and initial-encounter codes are not chronic conditions: with one other
    condition the patient is not CCM-eligible, and the code is not on any claim."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [{"code": acute, "system": "icd10cm"}, {"code": "I50.32", "system": "icd10cm"}]
    decision = run(d)
    assert decision["lines"] == []
    assert "CCM.ELIGIBILITY.CONDITIONS" in finding_codes(decision)
    assert acute in finding(decision, "DIAGNOSIS.ACUTE_EPISODE")["message"]


def test_stroke_sequelae_with_residual_deficits_qualify():
    """R-DX-2: I69.3- (sequelae of cerebral infarction) is the chronic condition later care is coded as."""
    d = doc(time_entries=[entry(25)])
    d["patient"]["conditions"] = [{"code": "I69.351", "system": "icd10cm"}, {"code": "I50.32", "system": "icd10cm"}]
    assert run(d)["lines"][0]["diagnosis_codes"] == ["I69.351", "I50.32"]


@pytest.mark.skipif(not SYNTHEA.exists(), reason="../shared is not beside this checkout")
def test_crosswalk_covers_every_snomed_code_in_the_synthea_sample():
    with SYNTHEA.open(newline="") as fh:
        sample = {row["snomed_code"] for row in csv.DictReader(fh)}
    assert sample <= set(table().snomed)


def test_every_crosswalk_icd10_suggestion_is_a_valid_code_and_condition_exists():
    t = table()
    for code, (condition, icd10, display) in t.snomed.items():
        assert icd10_is_valid(icd10), (code, display, icd10)
        assert condition is None or condition in t.names, (code, condition)


def test_the_code_set_read_from_the_librarys_list_answers_as_the_library_does():
    """icd10_is_valid reads simple-icd-10-cm's shipped code list instead of importing (parsing) the library;
    for every item, dotted and bare, and for near misses, it must answer exactly as the library."""
    import simple_icd_10_cm as cm

    from ccmops.rules.conditions import icd10_code_set

    assert icd10_code_set() == frozenset(cm.get_all_codes(True))

    def library(code: str) -> bool:
        return cm.is_valid_item(code) or cm.is_valid_item(code.replace(".", ""))

    probes = set(cm.get_all_codes(True)) | set(cm.get_all_codes(False))
    for code in list(cm.get_all_codes(False))[::50]:  # near misses: lower case, a moved dot, a stray character
        probes |= {code.lower(), f"{code[:2]}.{code[2:]}", f"{code}X", f"{code[:-1]}", f" {code}", f"{code}."}
    probes |= {"", ".", "1", "22", "23", "A00-A09", "A00-A0", "E11..9", "E11.9 ", "Z99.999", "Q99.XYZ"}
    wrong = [c for c in probes if icd10_is_valid(c) != library(c)]
    assert not wrong, wrong[:10]
