"""A lean INSERT … ON CONFLICT DO UPDATE for big imports (SQLite ≥ 3.24 and PostgreSQL share the syntax).

Values go through each field's own `get_db_prep_save`, so dates and instants are stored exactly as the ORM
stores them; only the per-object query compilation of `bulk_create` is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def upsert(
    model, columns: Sequence[str], rows: Sequence[Sequence], *, conflict: Sequence[str], update: Sequence[str]
) -> None:
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    qn = connection.ops.quote_name
    cols = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    target = ", ".join(qn(meta.get_field(n).column) for n in conflict)
    sets = ", ".join(f"{qn(meta.get_field(n).column)} = excluded.{qn(meta.get_field(n).column)}" for n in update)
    # identifiers come from model metadata, quoted by the backend; values are parameters
    sql = f"INSERT INTO {qn(meta.db_table)} ({cols}) VALUES ({marks}) ON CONFLICT ({target}) DO UPDATE SET {sets}"  # noqa: S608
    convert = [_converter(f) for f in fields]
    prepared = [tuple(v if c is None or v is None else c(v) for c, v in zip(convert, row, strict=True)) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)


def _converter(field):
    """The backend adapter for dates and instants; other values pass as they are."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "JSONField":
        return lambda value: field.get_db_prep_save(value, connection)
    return None
