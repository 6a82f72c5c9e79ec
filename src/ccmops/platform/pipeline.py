"""Statements sent to the database together: one round trip to PostgreSQL for several.

The busy write paths (a timer's stop, an audited write) are made of short statements, each of which costs the
server a fraction of a millisecond; across a network each also costs a round trip. `together` sends a run of
statements whose values do not depend on each other's results in psycopg's pipeline mode: the server runs them
in order, inside the caller's transaction, and answers once. On SQLite (an embedded library, no round trips)
they simply run in order.

What it buys depends on the distance to the server. On loopback a round trip costs about 0.1 ms and psycopg's
pipeline about as much in Python: ten one-row reads took 1.1 ms one by one and 1.3 ms pipelined on the 2-core
machine, and the timer benchmark's stop measured the same with and without (p95 103 and 94 ms back to back,
within run-to-run noise). With PostgreSQL on another host, each statement saved is a network round trip.

On PostgreSQL the values are bound on the server (Django's own cursors merge them into the SQL text), so psycopg
prepares a statement once it has run five times on a connection and the server stops planning it anew; see
docs/settings.md, "Prepared statements".

The statements are plain SQL. The ORM cannot take part: it reads a write's row count straight after sending it,
and in pipeline mode the count is not known until the pipeline is synchronized.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import psycopg
from django.db import connection


def together(*statements: tuple[str, Sequence]) -> list[list[tuple]]:
    """Run each (SQL, parameters) in order on the default connection; return the rows of each (an empty list
    for a statement that returns none). A failing statement raises Django's database error, as a cursor's would;
    the statements before it have run (the caller's transaction decides what is kept)."""
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            out = []
            for sql, params in statements:
                cursor.execute(sql, params)
                out.append(cursor.fetchall() if cursor.description is not None else [])
            return out
    raw = connection.connection
    # Server-side binding (Django's own cursors merge the values into the SQL text): psycopg prepares a
    # statement it has run five times on the connection, so the server stops planning it anew each time, which
    # cost it more than running it (bench/README.md).
    cursors = [psycopg.Cursor(raw) for _ in statements]
    try:
        with connection.wrap_database_errors, contextlib.ExitStack() as stack:
            if len(statements) > 1 and psycopg.Pipeline.is_supported():
                stack.enter_context(raw.pipeline())
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            stack.close()  # the pipeline's end: every result is in
            return [cursor.fetchall() if cursor.pgresult.status == TUPLES_OK else [] for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


TUPLES_OK = psycopg.pq.ExecStatus.TUPLES_OK  # the statement gave rows (a read, a write with RETURNING)
