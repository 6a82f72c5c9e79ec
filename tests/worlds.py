"""Test worlds built once per test run and written back for each test that needs them (`restored`)."""

from __future__ import annotations

import hashlib
import pickle

from django.apps import apps
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from psycopg.types.json import Jsonb
from tests import databases

from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.organizations.models import User


def _rows(connection) -> dict[str, tuple[list[str], str, dict]]:
    """Every Django table's rows by primary key: {table: (columns, pk column, {pk: row})}."""
    found = {}
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.db_table in found:
                continue
            columns = [f.column for f in meta.local_concrete_fields]
            pk = meta.pk.column
            cursor.execute(f"SELECT {', '.join(map(qn, columns))} FROM {qn(meta.db_table)}")
            at = columns.index(pk)
            found[meta.db_table] = (columns, pk, {row[at]: row for row in cursor.fetchall()})
    return found


class WorldDiff:
    """What seeding the demo world wrote (rows added, changed, removed), kept for the test run and written back
    with plain SQL inside each later test's transaction (rolled back after it): the same rows with the same ids, in
    a fraction of the time of seeding again. Written back only onto the state it was taken from: a row it would
    add already taken, or a row it changes or removes not as it was, and the test seeds the world instead."""

    def __init__(self, before, after):
        self.inserts: dict[str, tuple[list[str], list[tuple]]] = {}
        self.updates: dict[str, tuple[list[str], str, list[tuple[tuple, tuple]]]] = {}
        self.deletes: dict[str, tuple[list[str], str, list[tuple]]] = {}
        for table, (columns, pk, rows) in after.items():
            old = before.get(table, (columns, pk, {}))[2]
            added = [row for key, row in rows.items() if key not in old]
            changed = [(old[key], row) for key, row in rows.items() if key in old and old[key] != row]
            gone = [row for key, row in old.items() if key not in rows]
            if added:
                self.inserts[table] = (columns, added)
            if changed:
                self.updates[table] = (columns, pk, changed)
            if gone:
                self.deletes[table] = (columns, pk, gone)

    def apply(self, connection) -> bool:
        """Write the difference back; False (and nothing written) when the database is not in the state it was
        taken from."""
        qn = connection.ops.quote_name
        postgres = connection.vendor == "postgresql"
        if postgres:

            def value(v):
                return Jsonb(v) if isinstance(v, dict | list) else v
        else:

            def value(v):
                return v

        def current(cursor, table, columns, pk, key):
            cursor.execute(f"SELECT {', '.join(map(qn, columns))} FROM {qn(table)} WHERE {qn(pk)} = %s", [key])
            return cursor.fetchone()

        try:
            # one savepoint: foreign keys are checked at the end of the test's transaction, whatever the order of
            # the tables; a conflict rolls back all of it
            with transaction.atomic(), connection.cursor() as cursor:
                for table, (columns, pk, rows) in [*self.updates.items(), *self.deletes.items()]:
                    at = columns.index(pk)
                    for row in rows:
                        old = row[0] if isinstance(row[0], tuple) else row
                        if current(cursor, table, columns, pk, old[at]) != old:
                            raise _Diverged(table)
                for table, (columns, pk, rows) in self.deletes.items():
                    at = columns.index(pk)
                    cursor.executemany(f"DELETE FROM {qn(table)} WHERE {qn(pk)} = %s", [(r[at],) for r in rows])
                for table, (columns, rows) in self.inserts.items():
                    names = ", ".join(map(qn, columns))
                    if postgres:  # COPY: a third of the time of row-by-row inserts (foreign keys deferred alike)
                        with cursor.cursor.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(tuple(value(v) for v in row))
                        continue
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({marks})", rows)
                for table, (columns, pk, pairs) in self.updates.items():
                    sets = ", ".join(f"{qn(c)} = %s" for c in columns)
                    at = columns.index(pk)
                    cursor.executemany(
                        f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk)} = %s",
                        [(*(value(v) for v in new), new[at]) for _old, new in pairs],
                    )
                if postgres:  # ids taken by the restored rows: the sequences move past them
                    tables = set(self.inserts)
                    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]
                    for sql in connection.ops.sequence_reset_sql(no_style(), models):
                        cursor.execute(sql)
        except (_Diverged, IntegrityError):
            return False
        return True


class _Diverged(Exception):
    """The database is not in the state a WorldDiff was taken from."""


_worlds: dict[str, WorldDiff] = {}
_template: dict[str, tuple[list[str], str, dict]] = {}


def remember_template(connection) -> None:
    """Keep the rows of the freshly made test database (the migrations' own rows: consent texts, content types,
    permissions…), to bring the database back to them after a transactional test's flush."""
    _template.clear()
    _template.update({table: found for table, found in _rows(connection).items() if found[2]})


def back_to_template(connection) -> None:
    """After a transactional test (a browser test) Django flushes every table, the migrations' rows too, and
    re-creates content types and permissions under new ids: put the database back as it was made, so every test
    starts from the same state (and the recorded worlds keep applying). SQLite: the run's migrated database is
    loaded again; PostgreSQL: the remembered rows are written back."""
    if connection.vendor == "sqlite":
        databases.load_migrated_into(connection)
        return
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, _pk, rows) in _template.items():
            cursor.execute(f"DELETE FROM {qn(table)}")
            with cursor.cursor.copy(f"COPY {qn(table)} ({', '.join(map(qn, columns))}) FROM STDIN") as copy:
                for row in rows.values():
                    copy.write_row(tuple(_jsonb(v) for v in row))
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(sql)


def _jsonb(v):
    return Jsonb(v) if isinstance(v, dict | list) else v


def _counts(connection) -> int:
    """A fingerprint of the database's state: every Django table's row count."""
    qn = connection.ops.quote_name
    tables = sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed})
    with connection.cursor() as cursor:
        # one row, a column per table: the rows of a UNION ALL come in no set order (PostgreSQL's parallel append)
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {qn(t)})" for t in tables))
        return hash(cursor.fetchone())


def restored(name: str, seed) -> None:
    """Seed a world (`seed()`) once per test run and database server, and write it back from its row difference
    in each later test that asks for it by `name`, in this process or another of the run (inside the test's
    transaction; a transactional test's — a browser test's — commits, onto the database as the previous one's
    flush left it, which has a key of its own). The recorded differences are files in the run's folder."""
    # The key names the state the world is seeded onto (each table's row count), not only the world: a module's
    # shared world (tests/reporting's history) under a test that also asks for the demo world must not leave an
    # empty difference for the tests after it.
    key = f"{connection.vendor}:{name}:{_counts(connection)}"
    if key not in _worlds:
        # One recording per run: the first process to need it seeds and records; the others wait for it and write
        # it back (their databases are copies of one template). Two seedings would differ (times, random ids, hash
        # chains), and a world recorded on top of one would not apply on top of the other.
        recorded = databases.run_folder() / f"world-{hashlib.sha256(key.encode()).hexdigest()[:20]}.pickle"
        with databases.locked(recorded.stem):
            if not recorded.exists():
                _seed_and_record(key, seed)
                partial = recorded.with_suffix(".partial")
                partial.write_bytes(pickle.dumps(_worlds[key]))
                partial.rename(recorded)  # whole or absent
                return
            _worlds[key] = pickle.loads(recorded.read_bytes())  # written by this run's own processes
    if not _worlds[key].apply(connection):  # not in the state it was recorded on after all: seed here
        _seed_and_record(key, seed)


def _seed_and_record(key: str, seed) -> None:
    before = _rows(connection)
    seed()
    # this process's own seeding from now on: the worlds recorded on top of it are taken on these rows
    _worlds[key] = WorldDiff(before, _rows(connection))


def demo_world(*, with_activity: bool = False) -> dict[str, User]:
    """The demo world as `seed_demo()` builds it, seeded once per test run and database server and restored from
    what it wrote for each later test (inside the test's transaction; a transactional test seeds it). Returns the
    demo users by username."""
    restored("world", seed_demo)
    if with_activity:  # last month's program activity, on top of the world
        restored("activity", lambda: seed_demo(with_activity=True))
    return {
        u.username: u
        for u in User.objects.filter(username__in=[*(s.username for s in world.STAFF), world.ADMIN_USERNAME])
    }
