"""A lean INSERT … ON CONFLICT DO UPDATE for bulk writes — imports, screening results, month standings and
month-close decisions (SQLite ≥ 3.24 and PostgreSQL share the syntax).

Values go through each field's own `get_db_prep_save`, so dates and instants are stored exactly as the ORM
stores them; only the per-object query compilation of `bulk_create` is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction


class JsonText(str):
    """A JSON value already serialized (by json.dumps): stored as it is, not encoded a second time."""


def upsert(
    model,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    keep_when_blank: Sequence[str] = (),
    returning: Sequence[str] = (),
    unless_same: Sequence[str] = (),
    fresh: bool = False,
) -> Written:
    """Insert the rows; a row whose conflict key exists updates the `update` columns instead. A column also in
    `keep_when_blank` keeps its stored value when the new one is empty text (an input that does not say). With
    `unless_same`, a stored row whose values in those columns all equal the new row's is left untouched (not
    rewritten, not counted).

    With `fresh`, the caller read none of the rows' keys as stored: on PostgreSQL a big batch is then copied
    straight into the table, and only if another writer stored one of the keys meanwhile (a unique violation,
    rolled back to a savepoint) does it take the upsert after all.

    Returns how many rows were inserted or updated and, with `returning`, for a batch written in one statement
    (PostgreSQL, COPY_FROM rows or more), those columns of each of them (otherwise `rows` is None)."""
    if not rows:
        return Written(0, None)
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    cols = ", ".join(qn(f.column) for f in fields)
    target = ", ".join(qn(meta.get_field(n).column) for n in conflict)

    def assignment(name: str) -> str:
        col = qn(meta.get_field(name).column)
        if name in keep_when_blank:
            return f"{col} = COALESCE(NULLIF(excluded.{col}, ''), {table}.{col})"
        return f"{col} = excluded.{col}"

    sets = ", ".join(assignment(n) for n in update)
    # identifiers come from model metadata, quoted by the backend; values are parameters
    insert, on_conflict = f"INSERT INTO {table} ({cols})", f"ON CONFLICT ({target}) DO UPDATE SET {sets}"
    if unless_same:
        same = [qn(meta.get_field(n).column) for n in unless_same]
        differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"  # NULL-safe "!="
        stored, new = ", ".join(f"{table}.{c}" for c in same), ", ".join(f"excluded.{c}" for c in same)
        on_conflict += f" WHERE ({stored}) {differs} ({new})"
    prepared = _prepared(fields, rows)
    # A key given twice keeps its last row, as row-by-row upserts would (and one INSERT … ON CONFLICT may not
    # touch a row twice).
    key = itemgetter(*(columns.index(n) for n in conflict))
    last = {key(row): row for row in prepared}
    if len(last) < len(prepared):
        prepared = list(last.values())
    if connection.vendor == "postgresql" and len(prepared) >= COPY_FROM:
        if fresh and not returning and (copied := _copy_fresh(meta.db_table, cols, prepared)) is not None:
            return copied
        if returning:
            on_conflict += " RETURNING " + ", ".join(qn(meta.get_field(n).column) for n in returning)
        return _copy_upsert(meta.db_table, cols, insert, on_conflict, prepared, bool(returning))
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        if len(prepared) == 1:  # one row (a standing after a timer stop): executemany would open a pipeline
            cursor.execute(f"{insert} VALUES ({marks}) {on_conflict}", prepared[0])
        else:
            cursor.executemany(f"{insert} VALUES ({marks}) {on_conflict}", prepared)
        return Written(max(0, cursor.rowcount), None)


class Written(NamedTuple):
    count: int  # rows inserted or updated
    rows: list[tuple] | None  # the `returning` columns of each, when the batch was one statement


COPY_FROM = 500  # rows: below this one statement per row is as quick as staging them


def _copy_upsert(table: str, cols: str, insert: str, on_conflict: str, rows: list[tuple], returning: bool) -> Written:
    """PostgreSQL: COPY the rows (one per key) into a temporary table shaped like the target's columns, then
    one INSERT … SELECT … ON CONFLICT. One statement per batch instead of one per row; the same conflict
    target and updates as the row-by-row statement."""
    qn = connection.ops.quote_name
    stage = qn(f"stage_{table}")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        # identifiers come from model metadata, quoted by the backend
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {cols} FROM {qn(table)} WITH NO DATA")  # noqa: S608
        with cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"{insert} SELECT {cols} FROM {stage} {on_conflict}")  # noqa: S608
        written = Written(max(0, cursor.rowcount), cursor.fetchall() if returning else None)
        cursor.execute(f"DROP TABLE {stage}")
    return written


def _copy_fresh(table: str, cols: str, rows: list[tuple]) -> Written | None:
    """PostgreSQL: COPY rows none of whose keys were stored straight into the table (no staging table, no
    conflict probe per row). None when a key turned out to be stored after all: nothing of the batch is kept
    (a savepoint) and the caller upserts it."""
    import psycopg  # PostgreSQL's driver: this path runs only on PostgreSQL

    qn = connection.ops.quote_name
    try:
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except (IntegrityError, psycopg.IntegrityError):  # the COPY runs on the driver's cursor, unwrapped by Django
        return None
    return Written(len(rows), None)


def _prepared(fields, rows: Sequence[Sequence]) -> list[Sequence]:
    """The rows with each date, instant and JSON value in its backend form (the other columns pass as given)."""
    width = len(fields)
    convert = [(i, c) for i, c in enumerate(map(_converter, fields)) if c is not None]
    out = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row has {len(row)} values for {width} columns")
        if convert:
            row = list(row)
            for i, c in convert:
                if row[i] is not None:
                    row[i] = c(row[i])
        out.append(row)
    return out


def _converter(field):
    """The backend adapter for dates and instants; other values pass as they are."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "JSONField":
        return lambda value: value if type(value) is JsonText else field.get_db_prep_save(value, connection)
    return None
