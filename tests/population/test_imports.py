"""Imports are validated whole, rejected whole with every problem named, idempotent and resumable."""

import json
from pathlib import Path

import pytest
from django.db import connection
from tests.factories.population import PATIENT, bundle, condition, write

from ccmops.billing.evaluation import begin_evaluation
from ccmops.errors import Conflict
from ccmops.interop import services as import_services
from ccmops.interop import writer
from ccmops.interop.csv_read import COLUMNS, TEMPLATE
from ccmops.interop.generator import generate_population
from ccmops.interop.models import ImportRun
from ccmops.interop.services import ImportRejected, Source, import_source
from ccmops.months.models import MonthClose
from ccmops.organizations.models import Organization
from ccmops.patients.models import CoverageRecord, Encounter, Patient, PatientCondition

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "data" / "synthea" / "fhir-r4"
DEMO_BUNDLES = Path(__file__).resolve().parents[2] / "src" / "ccmops" / "demo" / "data" / "synthea"
TABLES = (Patient, PatientCondition, Encounter, CoverageRecord)


def snapshot():
    return {m.__name__: m.objects.count() for m in TABLES}


def test_bad_json_imports_nothing_and_names_line_and_column(practice, tmp_path):
    path = write(tmp_path, "broken.json", '{"resourceType": "Bundle",\n  "entry": [ }')
    before = snapshot()
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert snapshot() == before
    assert "broken.json, line 2, column" in info.value.run.problems[0]
    assert "not valid JSON" in info.value.run.problems[0]
    assert info.value.run.status == "rejected"


def test_condition_without_subject_rejects_the_whole_file(practice, tmp_path):
    path = write(tmp_path, "b.json", bundle(PATIENT, condition("c1"), condition("c2", subject=None)))
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert Patient.objects.count() == 0
    assert info.value.run.problems == [
        "b.json, entry[2] Condition/c2: subject: required: the patient this condition belongs to"
    ]


def test_unknown_code_system_is_named(practice, tmp_path):
    path = write(tmp_path, "b.json", bundle(PATIENT, condition("c1", system="http://loinc.org", code="1234-5")))
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert "unknown code system http://loinc.org" in info.value.run.problems[0]
    assert "code.coding.system" in info.value.run.problems[0]
    assert snapshot() == dict.fromkeys(snapshot(), 0)


def test_fhir_validation_errors_name_the_field(practice, tmp_path):
    bad = {**PATIENT, "birthDate": "1950-13-45"}
    path = write(tmp_path, "b.json", bundle(bad))
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert "entry[0] Patient/p1: birthDate:" in info.value.run.problems[0]


def test_reference_to_an_unknown_patient_is_refused(practice, tmp_path):
    path = write(tmp_path, "b.json", bundle(condition("c1", subject="Patient/nobody")))
    with pytest.raises(ImportRejected, match="references patient 'nobody'"):
        import_source(practice=practice, source=Source("fhir", path, path.name))


def test_every_problem_is_reported_not_just_the_first(practice, tmp_path):
    path = write(tmp_path, "b.json", bundle(PATIENT, condition("a", subject=None), condition("b", system="urn:x")))
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert len(info.value.run.problems) == 2


def test_csv_missing_column_imports_nothing(practice, tmp_path):
    header, *rows = TEMPLATE.splitlines()
    broken = header.replace(",payer", "") + "\n" + "\n".join(r.replace(",medicare", "", 1) for r in rows)
    path = write(tmp_path, "export.csv", broken)
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("csv", path, path.name))
    assert info.value.run.problems == [
        "export.csv, line 1 (header): payer: missing column(s); the header must name all of: " + ", ".join(COLUMNS)
    ]
    assert Patient.objects.count() == 0


def test_csv_row_problems_name_line_and_field(practice, tmp_path):
    text = TEMPLATE + "diagnosis,MRN-1001,,,,,,,,icd9,250.00,,,,,,\nvisit,MRN-1001,,,,,,,,,,,,,2026-02-30,em,\n"
    path = write(tmp_path, "export.csv", text)
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("csv", path, path.name))
    n = len(TEMPLATE.splitlines())  # the header and the template's rows: the bad rows follow
    assert info.value.run.problems == [
        f"export.csv, line {n + 1}: code_system: unknown code system 'icd9'; expected icd10cm or snomed",
        f"export.csv, line {n + 2}: visit_date: expected a date YYYY-MM-DD, got '2026-02-30'",
    ]


def test_csv_template_imports(practice, tmp_path):
    path = write(tmp_path, "template.csv", TEMPLATE)
    run = import_source(practice=practice, source=Source("csv", path, path.name))
    assert run.status == "succeeded"
    p = Patient.objects.get(mrn="MRN-1001")
    assert (p.family_name, p.medicare_coverage, p.conditions.count(), p.encounters.get().visit_kind) == (
        "Moen",
        "medicare",
        2,
        "em",
    )


def test_reimport_updates_and_never_duplicates(practice, tmp_path):
    path = write(tmp_path, "b.json", bundle(PATIENT, condition("c1"), condition("c2", code="E11.9")))
    import_source(practice=practice, source=Source("fhir", path, path.name))
    first = snapshot()
    renamed = {**PATIENT, "name": [{"use": "official", "family": "Okafor-Smith", "given": ["Ada"]}]}
    path.write_text(bundle(renamed, condition("c1"), condition("c2", code="E11.9")))
    import_source(practice=practice, source=Source("fhir", path, path.name))
    assert snapshot() == first
    assert Patient.objects.get().family_name == "Okafor-Smith"


def coverage(cid, payer, start, subject="Patient/p1"):
    return {
        "resourceType": "Coverage",
        "id": cid,
        "status": "active",
        "beneficiary": {"reference": subject},
        "payor": [{"display": payer}],
        "period": {"start": start},
    }


def test_the_current_payer_is_the_most_recent_coverage_in_the_whole_input(practice, tmp_path, monkeypatch):
    """Coverage records are written a chunk at a time; the patient's payer is the latest by date over all of
    them, not the last chunk's."""
    monkeypatch.setattr(writer, "CHUNK", 2)
    records = [
        coverage("v1", "Medicaid", "2019-01-01"),
        coverage("v2", "Medicare", "2025-01-01"),
        coverage("v3", "Blue Cross private plan", "2022-06-01"),
    ]
    path = write(tmp_path, "b.json", bundle(PATIENT, *records))
    import_source(practice=practice, source=Source("fhir", path, path.name))
    assert Patient.objects.get().medicare_coverage == "medicare"
    assert CoverageRecord.objects.count() == 3


def test_coverage_for_a_patient_already_in_the_registry_sets_their_payer(practice, tmp_path):
    path = write(tmp_path, "p.json", bundle(PATIENT))
    import_source(practice=practice, source=Source("fhir", path, path.name))
    assert Patient.objects.get().medicare_coverage == ""
    later = write(
        tmp_path, "c.json", bundle(coverage("v1", "Medicaid", "2019-01-01"), coverage("v2", "Medicare", "2025-01-01"))
    )
    import_source(practice=practice, source=Source("fhir", later, later.name))
    assert Patient.objects.get().medicare_coverage == "medicare"


def test_a_csv_without_a_payer_keeps_the_one_on_record_and_none_replaces_it(practice, tmp_path):
    path = write(tmp_path, "t.csv", TEMPLATE)
    import_source(practice=practice, source=Source("csv", path, path.name))
    other = "patient,MRN-1002,Doe,Jan,1950-01-01,female,,,medicaid,,,,,,,,\n"  # another patient's payer is given
    path.write_text(TEMPLATE.replace(",medicare,", ",,") + other)  # this export does not say Twyla's
    import_source(practice=practice, source=Source("csv", path, path.name))
    assert Patient.objects.get(mrn="MRN-1001").medicare_coverage == "medicare"
    assert Patient.objects.get(mrn="MRN-1002").medicare_coverage == "medicaid"
    path.write_text(TEMPLATE.replace(",medicare,", ",none,"))  # this one says: no coverage
    import_source(practice=practice, source=Source("csv", path, path.name))
    assert Patient.objects.get(mrn="MRN-1001").medicare_coverage == "none"


def test_bulk_ndjson_problems_name_file_and_line(practice, tmp_path):
    out = tmp_path / "export"
    generate_population(out, patients=5, seed=3)
    lines = (out / "Condition.ndjson").read_text().splitlines()
    lines[1] = lines[1].replace('"subject":{"reference":"Patient/gen-3-0"},', "")
    (out / "Condition.ndjson").write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportRejected) as info:
        import_source(practice=practice, source=Source("bulk", out, "export"))
    assert any(
        p.startswith("Condition.ndjson, line 2 Condition/") and ": subject: required" in p
        for p in info.value.run.problems
    )
    assert Patient.objects.count() == 0


def test_bulk_import_of_a_generated_population(practice, tmp_path):
    counts = generate_population(tmp_path / "g", patients=40, seed=11)
    run = import_source(practice=practice, source=Source("bulk", tmp_path / "g", "g"))
    assert (run.counts["patients"], run.counts["conditions"]) == (counts.patients, counts.conditions)
    assert Patient.objects.count() == 40
    assert PatientCondition.objects.count() == counts.conditions
    assert Encounter.objects.count() == counts.encounters
    assert run.unclassified_codes and all(c.startswith("icd10cm:") for c in run.unclassified_codes)


def test_generated_patients_have_addresses_and_medicare_patients_mbis(practice, tmp_path):
    """What a claim needs of a patient (837P loop 2010BA): an address, and for Medicare an MBI in CMS's format."""
    import re

    generate_population(tmp_path / "g", patients=80, seed=11)
    import_source(practice=practice, source=Source("bulk", tmp_path / "g", "g"))
    mbi = re.compile(
        r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d"
        r"[AC-HJKMNP-RT-Y]{2}\d\d"
    )
    medicare = Patient.objects.filter(medicare_coverage__in=("medicare", "dual_eligible"))
    assert medicare.exists() and all(mbi.fullmatch(p.medicare_id) for p in medicare)
    assert not Patient.objects.exclude(medicare_coverage__in=("medicare", "dual_eligible")).exclude(medicare_id="")
    assert all(p.address_line and p.city and p.state == "IL" and len(p.postal_code) == 5 for p in Patient.objects.all())


def test_a_population_big_enough_for_the_copy_path_lands_on_the_right_patients(practice, tmp_path):
    """600 patients: on PostgreSQL each chunk of patients is one COPY whose INSERT returns the patients' ids,
    which every later record is linked by; a re-import updates the same rows."""
    folder = tmp_path / "g"
    generate_population(folder, patients=600, seed=5)

    def records(name):
        return [json.loads(line) for line in (folder / name).read_text().splitlines()]

    mrn_of = {
        p["id"]: next(i["value"] for i in p["identifier"] if i["type"]["coding"][0]["code"] == "MR")
        for p in records("Patient.ndjson")
    }
    expected: dict[str, set] = {mrn: set() for mrn in mrn_of.values()}
    for c in records("Condition.ndjson"):
        expected[mrn_of[c["subject"]["reference"].split("/")[-1]]].add(c["code"]["coding"][0]["code"])

    def stored():
        found: dict[str, set] = {mrn: set() for mrn in Patient.objects.values_list("mrn", flat=True)}
        for mrn, code in PatientCondition.objects.values_list("patient__mrn", "code"):
            found[mrn].add(code)
        return found

    import_source(practice=practice, source=Source("bulk", folder, "g"))
    first = snapshot()
    assert stored() == expected and first["Patient"] == 600
    ids = dict(Patient.objects.values_list("mrn", "id"))
    import_source(practice=practice, source=Source("bulk", folder, "g-again"))
    assert snapshot() == first and stored() == expected and dict(Patient.objects.values_list("mrn", "id")) == ids


def test_big_files_read_by_worker_processes_give_what_one_process_reads(tmp_path, monkeypatch):
    """Slices of big files go to a pool of processes while small files are read here; the records come out in
    the same order as one process reads them, and a problem in a slice keeps its file and line."""
    from ccmops.interop import fhir_read

    folder = tmp_path / "g"
    generate_population(folder, patients=40, seed=3)
    (folder / "Procedure.ndjson").write_text('{"resourceType": "Procedure", "id": "o1"}\n' * 3)
    monkeypatch.setattr(fhir_read, "PARALLEL_MIN_LINES", 60)  # Condition and Encounter files are sliced
    monkeypatch.setattr(fhir_read, "SLICE", 17)
    files = fhir_read.bulk_files(folder)

    def read(workers):
        b = fhir_read.read_bulk(files, "g", named_by_file=True, workers=workers)
        return b.patients, b.coverages, b.encounters, b.conditions, b.problems, b.resources_read, b.skipped

    one, pooled = read(1), read(2)
    assert pooled == one
    assert len(one[3]) == 144 and one[6] == {"Procedure": 3}

    lines = (folder / "Condition.ndjson").read_text().splitlines(keepends=True)
    lines[99] = lines[99].replace('"subject"', '"subjectt"')
    (folder / "Condition.ndjson").write_text("".join(lines))
    problems = read(2)[4]
    assert sorted((p.file, p.location.split()[:2], p.field) for p in problems) == [
        ("Condition.ndjson", ["line", "100"], "subject"),  # missing
        ("Condition.ndjson", ["line", "100"], "subjectt"),  # not a Condition field
    ]


def test_generator_is_deterministic_by_seed(tmp_path):
    generate_population(tmp_path / "a", patients=30, seed=5)
    generate_population(tmp_path / "b", patients=30, seed=5)
    generate_population(tmp_path / "c", patients=30, seed=6)
    for name in ("Patient.ndjson", "Condition.ndjson", "Encounter.ndjson", "Coverage.ndjson"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "Condition.ndjson").read_bytes() != (tmp_path / "c" / "Condition.ndjson").read_bytes()


def crash_at_the_second_encounter_chunk(tmp_path, monkeypatch):
    """A generated population of 60 in `tmp_path / "g"`, written 25 records a chunk, whose import dies (a power
    cut) at its second chunk of encounters. Returns the real encounter writer."""
    generate_population(tmp_path / "g", patients=60, seed=2)
    monkeypatch.setattr(writer, "CHUNK", 25)
    original = writer._write_encounters
    calls = {"n": 0}

    def crash_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("power cut")
        return original(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_encounters", crash_once)
    return original


def test_interrupted_big_import_resumes_to_the_same_result(practice, tmp_path, monkeypatch):
    """A big import writes in checkpointed chunks; after a crash a re-run continues and the result equals an
    uninterrupted import (nothing lost, nothing twice)."""
    monkeypatch.setattr(import_services, "ATOMIC_LIMIT", 10)
    original = crash_at_the_second_encounter_chunk(tmp_path, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        import_source(practice=practice, source=Source("bulk", tmp_path / "g", "g"))
    run = ImportRun.objects.get()
    assert run.status == "writing" and 0 < run.done < run.total
    partial = snapshot()
    with pytest.raises(Conflict, match=r"import of g is being written \(\d+ of \d+ records written\)"):
        begin_evaluation(practice=practice, month="2026-10")  # no decision from half a file (security item 11)
    ImportRun.objects.filter(pk=run.pk).update(status="interrupted")
    with pytest.raises(Conflict, match="Import the same file again to resume it"):
        begin_evaluation(practice=practice, month="2026-10")
    assert not MonthClose.objects.filter(practice=practice).exists()
    resumed = import_source(practice=practice, source=Source("bulk", tmp_path / "g", "g"))
    assert resumed.id == run.id and resumed.status == "succeeded"
    assert begin_evaluation(practice=practice, month="2026-10").status == "evaluating"
    after = snapshot()
    assert after != partial
    other = Organization.objects.create(slug="fresh", kind="practice", name="Fresh")
    monkeypatch.setattr(writer, "_write_encounters", original)
    import_source(practice=other, source=Source("bulk", tmp_path / "g", "g"))
    for model in TABLES:
        assert model.objects.filter(practice=practice).count() == model.objects.filter(practice=other).count()

    def payers(org):
        return sorted(Patient.objects.filter(practice=org).values_list("mrn", "medicare_coverage"))

    assert payers(practice) == payers(other) and {c for _, c in payers(other)} - {""}


def test_an_input_over_sqlites_atomic_limit_is_all_or_nothing_on_postgresql(practice, tmp_path, monkeypatch):
    """Security review item 11: on PostgreSQL every input is written in one transaction, so a crash part way
    leaves nothing of it in the registry (and nothing for month closes to wait on); on SQLite an input over its
    atomic limit is written in resumable chunks, and the chunks written before the crash are the only part kept."""
    monkeypatch.setattr(import_services, "SQLITE_ATOMIC_LIMIT", 10)
    crash_at_the_second_encounter_chunk(tmp_path, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        import_source(practice=practice, source=Source("bulk", tmp_path / "g", "g"))
    run = ImportRun.objects.get()
    if connection.vendor == "postgresql":
        assert not run.chunked
        assert Patient.objects.filter(practice=practice).count() == 0
        assert begin_evaluation(practice=practice, month="2026-10").status == "evaluating"
    else:
        assert run.chunked and 0 < run.done < run.total
        assert Patient.objects.filter(practice=practice).count() == 60
        with pytest.raises(Conflict, match="import of g is being written"):
            begin_evaluation(practice=practice, month="2026-10")


@pytest.mark.skipif(not SYNTHEA.exists(), reason="../shared is not beside this checkout")
def test_every_synthea_bundle_imports(practice):
    for path in sorted(SYNTHEA.glob("*.json")):
        run = import_source(practice=practice, source=Source("fhir", path, path.name))
        assert run.status == "succeeded", path.name
    assert Patient.objects.filter(practice=practice).count() == 42


def test_demo_bundles_import_without_shared(practice):
    for path in sorted(DEMO_BUNDLES.glob("*.json")):
        import_source(practice=practice, source=Source("fhir", path, path.name))
    assert Patient.objects.count() == 14
    assert Patient.objects.exclude(medicare_coverage="").count() == 14


def test_a_nul_character_is_refused_by_line_and_nothing_is_written(db, tmp_path):
    """The FHIR fuzz found a NUL (\\u0000) reaching PostgreSQL, which stores none: refused up front, by line."""
    from ccmops.interop.services import ImportRejected, Source, import_source
    from ccmops.organizations.models import Organization
    from ccmops.patients.models import Patient

    practice = Organization.objects.create(kind="practice", slug="nul-test", name="NUL Test Practice")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        '{"resourceType": "Bundle", "type": "collection",\n "entry": [{"resource": {"resourceType": "Patient",'
        ' "id": "p1",\n "name": [{"family": "Do\\u0000e"}]}}]}'
    )
    csv_file = tmp_path / "patients.csv"
    csv_file.write_text("mrn,given_name,family_name,birth_date\nM1,Ann,Do\x00e,1950-01-01\n")
    for kind, path, line in (("fhir", bundle, 3), ("csv", csv_file, 2)):
        with pytest.raises(ImportRejected) as err:
            import_source(practice=practice, source=Source(kind, path, path.name))
        assert f"{path.name}, line {line}: a NUL character" in str(err.value)
    assert Patient.objects.filter(practice=practice).count() == 0


def test_a_big_upsert_inserts_updates_and_keeps_a_repeated_keys_last_row(practice):
    """Batches of COPY_FROM rows or more take PostgreSQL's COPY path (smaller ones, and SQLite, one statement
    per row): either way new rows are inserted, known keys updated, and a key given twice keeps its last row."""
    import datetime as dt

    from ccmops.platform.upsert import COPY_FROM, upsert

    patient = Patient.objects.create(
        practice=practice, mrn="U1", given_name="Ada", family_name="Upsert", birth_date=dt.date(1950, 1, 1)
    )
    columns = ["practice", "patient", "system", "code", "display", "onset", "abated", "key"]

    def row(n: int, display: str) -> tuple:
        onset = dt.date(2000, 1, 1) + dt.timedelta(days=n)
        return (practice.id, patient.id, "icd10cm", "E11.9", display, onset, None, f"icd10cm|E11.9|{onset}")

    n = COPY_FROM + 20
    upsert(
        PatientCondition, columns, [row(i, "first") for i in range(n)], conflict=["patient", "key"], update=["display"]
    )
    again = [row(i, "second") for i in range(n)] + [row(n, "new"), row(0, "last wins")]
    upsert(PatientCondition, columns, again, conflict=["patient", "key"], update=["display"])
    displays = list(
        PatientCondition.objects.filter(patient=patient).order_by("onset").values_list("display", flat=True)
    )
    assert len(displays) == n + 1
    assert displays[0] == "last wins" and set(displays[1:n]) == {"second"} and displays[n] == "new"

    keys = range(n - 10, n + COPY_FROM)  # 11 stored keys and COPY_FROM - 1 new ones: one COPY on PostgreSQL
    written = upsert(
        PatientCondition,
        columns,
        [row(i, "third") for i in keys] + [row(n - 10, "third again")],  # one key twice
        conflict=["patient", "key"],
        update=["display"],
        returning=["id", "key"],
    )
    assert written.count == len(keys)  # each key once, however often it was given
    stored = dict(PatientCondition.objects.filter(patient=patient).values_list("key", "id"))
    assert len(stored) == n + COPY_FROM
    if connection.vendor == "postgresql":  # inserted or updated, each with its stored id
        assert sorted(written.rows) == sorted((stored[row(i, "")[-1]], row(i, "")[-1]) for i in keys)
    else:  # row by row: nothing returned, the caller reads back
        assert written.rows is None
    assert PatientCondition.objects.get(patient=patient, key=row(n - 10, "")[-1]).display == "third again"
