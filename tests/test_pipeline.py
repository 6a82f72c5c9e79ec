"""Statements sent together (`ccmops.platform.pipeline.together`) run in order inside the caller's transaction, give
each statement's rows, and fail as any cursor fails."""

import pytest
from django.db import DatabaseError, transaction

from ccmops.platform.pipeline import together


@pytest.fixture
def table(db):
    (_,) = together(("CREATE TABLE pipeline_probe (id integer PRIMARY KEY, label varchar(20) NOT NULL)", []))


def test_writes_and_reads_run_in_order_and_each_gives_its_rows(table):
    found = together(
        ("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s), (%s, %s)", [1, "one", 2, "two"]),
        ("SELECT id, label FROM pipeline_probe ORDER BY id", []),
        ("UPDATE pipeline_probe SET label = %s WHERE id = %s", ["uno", 1]),
        ("SELECT label FROM pipeline_probe WHERE id = %s", [1]),
        ("SELECT label FROM pipeline_probe WHERE id = %s", [3]),
    )
    assert found == [[], [(1, "one"), (2, "two")], [], [("uno",)], []]


def test_they_belong_to_the_callers_transaction(table):
    with pytest.raises(RuntimeError), transaction.atomic():
        together(("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s)", [1, "one"]))
        raise RuntimeError("the caller's change fails")
    assert together(("SELECT count(*) FROM pipeline_probe", [])) == [[(0,)]]


def test_a_failing_statement_raises_djangos_error_and_its_transaction_keeps_nothing(table):
    with pytest.raises(DatabaseError, match="no_such_column"), transaction.atomic():
        together(
            ("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s)", [1, "one"]),
            ("SELECT no_such_column FROM pipeline_probe", []),
            ("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s)", [2, "two"]),
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        together(("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s), (%s, %s)", [1, "one", 1, "again"]))
    assert together(("SELECT count(*) FROM pipeline_probe", [])) == [[(0,)]]


def test_a_repeated_statement_is_prepared_on_postgresql(table):
    """Values are bound on the server, so psycopg prepares a statement once it repeats and PostgreSQL stops
    planning it each time (docs/settings.md, "Prepared statements")."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite is an embedded library: nothing to plan on a server")
    read = ("SELECT label FROM pipeline_probe WHERE id = %s", [1])
    together(("INSERT INTO pipeline_probe (id, label) VALUES (%s, %s)", [1, "one"]))
    for _ in range(6):
        assert together(read, ("SELECT count(*) FROM pipeline_probe", [])) == [[("one",)], [(1,)]]
    prepared = together(("SELECT statement FROM pg_prepared_statements", []))[0]
    assert any("FROM pipeline_probe WHERE id = $1" in statement for (statement,) in prepared)
