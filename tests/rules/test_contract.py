"""The patient-month contract: the shared example, strict validation with JSON paths, the CLI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.rules.builders import doc, entry, run

from ccmops.rules.contract import ContractError, parse_patient_month

SHARED = Path(__file__).resolve().parents[3] / "shared" / "contracts" / "patient-month-examples"
EXAMPLE_IN = SHARED / "basic-ccm.input.json"
needs_shared = pytest.mark.skipif(not EXAMPLE_IN.exists(), reason="../shared is not beside this checkout")


@needs_shared
def test_shared_example_gives_the_shared_decision():
    expected = json.loads((SHARED / "basic-ccm.decision.json").read_text())
    actual = run(json.loads(EXAMPLE_IN.read_text()))
    # the decision is extended compatibly: every key of the first version as it was, plus new ones
    assert {k: actual[k] for k in expected} == expected
    assert set(actual) - set(expected) == {"family", "fee_source", "fees_provisional", "undocumented_time"}


@needs_shared
def test_cli_evaluate_prints_the_decision_json():
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "rules", "evaluate", str(EXAMPLE_IN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = json.loads((SHARED / "basic-ccm.decision.json").read_text())
    printed = json.loads(result.stdout)
    assert {k: printed[k] for k in expected} == expected
    assert printed["fee_source"].startswith("PPRRVU2026_care_management.csv")


def test_cli_reads_stdin_and_explain_speaks_to_a_person():
    d = doc(time_entries=[entry(25, "2026-05-04T10:00:00-05:00")])
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "rules", "explain", "-"],
        input=json.dumps(d),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Status: READY" in result.stdout
    assert "99490 × 1  on 2026-05-04  allowed $66.13" in result.stdout


def test_cli_rejects_bad_input_with_paths_and_exit_2():
    d = doc(time_entries=[{**entry(20), "minutes": "20"}])
    d["patient"]["qmbb"] = True
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "rules", "evaluate", "-"],
        input=json.dumps(d),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "$.patient.qmbb: unknown field" in result.stderr
    assert "$.time_entries[0].minutes: Input should be a valid integer" in result.stderr


def test_cli_missing_file_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "rules", "evaluate", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def _problems(d) -> dict[str, str]:
    with pytest.raises(ContractError) as info:
        parse_patient_month(json.dumps(d) if not isinstance(d, str) else d)
    return dict(info.value.problems)


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (lambda d: d.update(month="2026-13"), "$.month", "expected YYYY-MM"),
        (lambda d: d.pop("patient"), "$.patient", "required field is missing"),
        (lambda d: d["practice"].update(timezone="Mars/Olympus"), "$.practice.timezone", "IANA time zone"),
        (lambda d: d["practice"].update(setting="home"), "$.practice.setting", "Input should be"),
        # R-ELIG-5: only MD, DO, NP, PA, CNS, CNM bill CCM
        (
            lambda d: d["billing_practitioner"].update(credential="DPM"),
            "$.billing_practitioner.credential",
            "Input should be",
        ),
        # R-TIME-8: each entry must say who worked (staff, role) and when
        (
            lambda d: d["time_entries"].append({k: v for k, v in entry(20).items() if k != "staff_id"}),
            "$.time_entries[0].staff_id",
            "required field is missing",
        ),
        (
            lambda d: d["time_entries"].append({**entry(20), "start": "2026-05-06T09:00:00"}),
            "$.time_entries[0].start",
            "timezone",
        ),
        (
            lambda d: d["time_entries"].append({**entry(0)}),
            "$.time_entries[0].minutes",
            "greater than or equal to 1",
        ),
        (
            lambda d: d["consents"][0].update(elements=["cost_sharing", "free_lunch"]),
            "$.consents[0].elements[1]",
            "Input should be",
        ),
        (
            lambda d: d["patient"]["facility_stays"].append(
                {"kind": "snf", "start": "2026-05-09", "end": "2026-05-02"}
            ),
            "$.patient.facility_stays[0].end",
            "on or after start",
        ),
        (lambda d: d.update(policy={"cap_99439": 3.5}), "$.policy.cap_99439", "whole number"),
        (lambda d: d.update(policy={"no_such_policy": 1}), "$.policy.no_such_policy", "unknown policy"),
        (lambda d: d.update(schema="ccmops.patient-month/2"), "$.schema", "ccmops.patient-month/1"),
    ],
)
def test_invalid_input_names_the_json_path(mutate, path, message):
    d = doc()
    mutate(d)
    problems = _problems(d)
    assert path in problems, problems
    assert message in problems[path]


def test_top_level_must_be_an_object():
    assert "object" in _problems("[1, 2]")["$"]


def test_duplicate_entry_ids_are_refused():
    problems = _problems(doc(time_entries=[entry(5, id="a"), entry(6, id="a")]))
    assert "repeats the id 'a'" in problems["$.time_entries"]


def test_bad_json_names_line_and_column():
    problems = _problems('{"schema": "ccmops.patient-month/1",\n "month": }')
    assert "not valid JSON" in problems["$"] and "line 2" in problems["$"]


def test_year_without_rules_is_an_input_error():
    with pytest.raises(ContractError, match=r"\$\.month: no Medicare rule set for 2024"):
        run(doc(month="2024-05"))


def test_all_errors_are_reported_together():
    d = doc()
    d["month"] = "May"
    d["patient"]["birth_date"] = "yesterday"
    assert {"$.month", "$.patient.birth_date"} <= set(_problems(d))
