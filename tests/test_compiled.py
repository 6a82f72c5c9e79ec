"""A queryset compiled once gives, run after run, what the ORM gives for the same values: the row's fields
converted as the ORM converts them, and its related objects."""

import datetime as dt

import pytest
from django.db import connection, transaction
from tests.factories.session import demo_patient

from ccmops.patients.models import Patient
from ccmops.platform.compiled import Compiled
from ccmops.timetracking.models import Timer
from ccmops.timetracking.services import start_timer

ID = -5_550_001


def test_each_run_equals_the_orm_with_related_objects_and_converted_values(demo):
    compiled = Compiled(
        Patient.objects.select_related("practice", "care_manager", "billing_practitioner").filter(pk=ID)[:1], id=ID
    )
    for patient in Patient.objects.order_by("id")[:5]:
        got = compiled.first(id=patient.id)
        want = Patient.objects.select_related("practice", "care_manager", "billing_practitioner").get(pk=patient.id)
        assert type(got) is Patient and got.pk == want.pk and not got._state.adding
        assert {f.attname: getattr(got, f.attname) for f in Patient._meta.concrete_fields} == {
            f.attname: getattr(want, f.attname) for f in Patient._meta.concrete_fields
        }
        assert isinstance(got.birth_date, dt.date) and got.practice == want.practice
        assert got.practice.time_zone == want.practice.time_zone and got.care_manager == want.care_manager
        assert "practice" in got._state.fields_cache  # read with the row, not fetched on access
    assert compiled.first(id=-1) is None
    assert compiled.first(id=2**64) is None and compiled.first(id=-(2**63) - 1) is None  # beyond any id column


def test_a_lock_is_taken_in_the_transaction_and_datetimes_come_back_aware(demo):
    twyla = demo_patient("Moen")
    nora = twyla.care_manager
    with transaction.atomic():
        timer = start_timer(patient=twyla, staff=nora, program="ccm", activity="care_coordination_call")
        compiled = Compiled(
            Timer.objects.select_for_update(of=("self",), no_key=True)
            .select_related("patient__billing_practitioner")
            .filter(pk=ID, staff_id=ID - 1)[:1],
            timer=ID,
            staff=ID - 1,
        )
        if connection.vendor == "postgresql":  # the timer's row only (SQLite has no row locks)
            assert compiled.sql.endswith('FOR NO KEY UPDATE OF "timetracking_timer"')
        got = compiled.first(timer=timer.pk, staff=nora.id)
        assert got.created_at == timer.created_at and got.created_at.tzinfo is not None
        assert got.patient.billing_practitioner == twyla.billing_practitioner
        assert compiled.first(timer=timer.pk, staff=nora.id + 1000) is None  # another's timer: nothing


def test_a_sentinel_must_occur_once_among_the_parameters(demo):
    with pytest.raises(ValueError, match="must occur once"):
        Compiled(Patient.objects.filter(pk=ID), id=ID + 1)
    with pytest.raises(ValueError, match="must occur once"):
        Compiled(Patient.objects.filter(pk=ID, practice_id=ID), id=ID)


def test_values_list_rows_equal_the_orms_for_each_run(demo):
    compiled = Compiled(
        Patient.objects.filter(practice_id=ID, family_name="name-sentinel")
        .order_by("id")
        .values_list("id", "birth_date"),
        practice=ID,
        name="name-sentinel",
    )
    for patient in Patient.objects.order_by("id")[:3]:
        want = list(
            Patient.objects.filter(practice_id=patient.practice_id, family_name=patient.family_name)
            .order_by("id")
            .values_list("id", "birth_date")
        )
        assert compiled.rows(practice=patient.practice_id, name=patient.family_name) == want != []
    assert compiled.rows(practice=-1, name="nobody") == []


def test_a_query_is_compiled_once_per_key_and_its_annotations_come_with_the_row(demo):
    from django.db.models import F

    from ccmops.platform.compiled import compiled

    builds = []

    def build():
        builds.append(1)
        return Compiled(Patient.objects.annotate(tz=F("practice__time_zone")).filter(pk=ID)[:1], id=ID)

    first = compiled(("test: patient with zone", 1), build)
    assert compiled(("test: patient with zone", 1), build) is first and len(builds) == 1
    assert compiled(("test: patient with zone", 2), build) is not first and len(builds) == 2
    patient = Patient.objects.select_related("practice").order_by("id").first()
    assert first.first(id=patient.id).tz == patient.practice.time_zone


def test_a_statement_sent_with_others_gives_the_same_instances(demo):
    from ccmops.platform.pipeline import together

    compiled = Compiled(Patient.objects.select_related("practice").filter(pk=ID)[:1], id=ID)
    patients = list(Patient.objects.order_by("id")[:3])
    found = together(*(compiled.statement(id=p.id) for p in patients), compiled.statement(id=-1))
    got = [compiled.instances(rows) for rows in found]
    assert [[p.pk for p in g] for g in got] == [[p.pk] for p in patients] + [[]]
    assert [g[0].practice.time_zone for g in got[:3]] == [p.practice.time_zone for p in patients]
    assert [g[0].birth_date for g in got[:3]] == [p.birth_date for p in patients]
    assert compiled.statement(id=2**64) is None  # no row can match: nothing to send
