"""Fuzzing every input ccmops reads: FHIR bundles, Bulk NDJSON, the patient CSV, HL7 ADT, the patient-month JSON
and the JSON API. Each input is either accepted or rejected with a message that names where and what; nothing
raises an unhandled exception, and a rejected input writes nothing. `fuzz cases run: N` ends the test report."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories.monthly import adt
from tests.factories.population import PATIENT, bundle, condition
from tests.fuzz.strategies import JSON, mutated
from tests.rules.builders import BASE, entry

from ccmops.errors import InvalidInput
from ccmops.interop.csv_read import COLUMNS, TEMPLATE, read_csv_text
from ccmops.interop.fhir_read import read_bundle_text, read_ndjson_lines
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.organizations.models import Organization
from ccmops.patients.models import CoverageRecord, Encounter, Patient, PatientCondition
from ccmops.rules.contract import ContractError, parse_patient_month
from ccmops.rules.engine import evaluate
from ccmops.worklist.adt import import_adt
from ccmops.worklist.models import CareTransition, FollowUpTask

# count_case is function-scoped but holds no per-example state, so sharing it across examples is correct.
FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FUZZ_DB = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
VALID_BUNDLE = json.loads(bundle(PATIENT, condition("c1"), condition("c2", code="E11.9")))
VALID_MONTH = {**BASE, "time_entries": [entry(minutes=25)]}


def assert_clear(problems, label: str) -> None:
    for p in problems:
        assert p.file == label and p.message.strip(), p


@FUZZ
@given(text=st.text(max_size=300) | st.builds(json.dumps, JSON) | st.builds(json.dumps, mutated(VALID_BUNDLE)))
def test_fhir_bundle_reader_accepts_or_explains(count_case, text):
    count_case()
    batch = read_bundle_text(text, "upload.json")
    assert_clear(batch.problems, "upload.json")
    if not batch.problems:
        assert all(p.mrn or p.source_id for p in batch.patients)


@FUZZ
@given(
    lines=st.lists(
        st.text(max_size=80) | st.builds(json.dumps, JSON) | st.builds(json.dumps, mutated(PATIENT)), max_size=6
    )
)
def test_bulk_ndjson_reader_accepts_or_explains(count_case, lines):
    count_case()
    batch = read_ndjson_lines(lines, "Patient.ndjson").finish()
    assert_clear(batch.problems, "Patient.ndjson")


def _template_rows() -> list[dict]:
    return list(csv.DictReader(io.StringIO(TEMPLATE)))


@st.composite
def broken_csv(draw) -> str:
    rows = _template_rows()
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.sampled_from(rows))
        row[draw(st.sampled_from(COLUMNS))] = draw(st.text(max_size=20))
    out = io.StringIO()
    columns = list(COLUMNS)
    if draw(st.booleans()):
        columns.remove(draw(st.sampled_from(columns)))
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@FUZZ
@given(text=st.text(max_size=300) | broken_csv())
def test_patient_csv_reader_accepts_or_explains(count_case, text):
    count_case()
    batch = read_csv_text(text, "patients.csv")
    assert_clear(batch.problems, "patients.csv")


@FUZZ
@given(doc=st.builds(json.dumps, mutated(VALID_MONTH)) | st.text(max_size=200) | st.builds(json.dumps, JSON))
def test_patient_month_is_decided_or_rejected_with_json_paths(count_case, doc):
    count_case()
    try:
        pm = parse_patient_month(doc)
    except ContractError as exc:
        assert exc.problems and all(path.startswith("$") and message for path, message in exc.problems)
        return
    decision = evaluate(pm)
    assert decision is not None


# --- with a database: rejected inputs write nothing -------------------------------------------------------

REGISTRY = (Patient, PatientCondition, Encounter, CoverageRecord)


def counts(*models) -> dict:
    return {m.__name__: m.objects.count() for m in models}


@pytest.mark.django_db
@FUZZ_DB
@given(doc=mutated(VALID_BUNDLE))
def test_a_rejected_fhir_import_writes_nothing(count_case, tmp_path_factory, doc):
    count_case()
    practice, _ = Organization.objects.get_or_create(
        slug="fuzz-clinic", defaults={"kind": "practice", "name": "Fuzz Clinic", "time_zone": "America/Chicago"}
    )
    path = tmp_path_factory.mktemp("fuzz") / "bundle.json"
    path.write_text(json.dumps(doc))
    before = counts(*REGISTRY)
    try:
        import_source(practice=practice, source=Source("fhir", path, "bundle.json"))
    except ImportRejected as exc:
        assert exc.run.problems and all(p.startswith("bundle.json") for p in exc.run.problems)
        assert counts(*REGISTRY) == before
    except InvalidInput as exc:  # refused before reading (e.g. not a practice); says why
        assert str(exc)
        assert counts(*REGISTRY) == before


@st.composite
def broken_adt(draw, mrn: str) -> str:
    segments = adt(draw(st.sampled_from(["A01", "A03", "A04", "A08"])), mrn, "I", "M1").split("\r")
    i = draw(st.integers(0, len(segments) - 1))
    fields = segments[i].split("|")
    fields[draw(st.integers(0, len(fields) - 1))] = draw(st.text(max_size=20))
    segments[i] = "|".join(fields)
    if draw(st.booleans()):
        del segments[draw(st.integers(0, len(segments) - 1))]
    return "\r".join(segments)


@pytest.mark.django_db
@FUZZ_DB
@given(data=st.data())
def test_a_rejected_adt_feed_writes_nothing(count_case, demo, data):
    count_case()
    twyla = Patient.objects.get(family_name="Moen")
    text = data.draw(broken_adt(twyla.mrn) | st.text(max_size=200))
    before = counts(CareTransition, FollowUpTask)
    try:
        import_adt(practice=twyla.practice, text=text, file_label="feed.hl7")
    except InvalidInput as exc:
        assert "feed.hl7" in str(exc) or "expected" in str(exc)
        assert counts(CareTransition, FollowUpTask) == before
