"""`ccmops backup` / `ccmops restore` on a real SQLite database file, through the real CLI in separate processes:
a restore brings back exactly what was backed up, keeps the replaced database, and bad input changes nothing."""

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from tests import databases, forkserver
from tests.faults.processes import sqlite_database

from ccmops.compliance.backup import backup_database
from ccmops.errors import ConfigurationError

# Tables the restore itself writes to (its own audit event and the id counter that event advances).
AUDIT_TABLES = {"compliance_auditevent", "compliance_auditchainhead", "sqlite_sequence"}


def ccmops(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CCMOPS_DATABASE_URL": f"sqlite:///{db}", "CCMOPS_DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return forkserver.run(["-m", "ccmops.cli", *args], env)  # a process of its own (tests/forkserver.py)


def contents(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def test_backup_then_restore_brings_back_exactly_the_backed_up_database(tmp_path):
    live, saved = tmp_path / "live.sqlite3", tmp_path / "backup.sqlite3"
    databases.copy_of(databases.template("seeded", sqlite=True), live)  # the demo world with last month's activity

    r = ccmops(live, "backup", str(saved))
    assert r.returncode == 0, r.stderr
    assert "integrity check ok" in r.stdout
    at_backup = contents(live)
    assert contents(saved) == at_backup  # the backup-taken event is in both
    assert len(at_backup["patients_patient"]) > 10

    # Later damage: a patient's name changed and every claim line deleted.
    with sqlite3.connect(live) as conn:
        conn.execute("UPDATE patients_patient SET family_name = 'Overwritten'")
        conn.execute("DELETE FROM enrollment_consent")
    damaged = contents(live)
    assert damaged != at_backup

    refused = ccmops(live, "restore", str(saved))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert contents(live) == damaged

    r = ccmops(live, "restore", str(saved), "--yes")
    assert r.returncode == 0, r.stderr
    assert "audit log intact" in r.stdout
    restored = contents(live)
    for table, rows in at_backup.items():
        if table not in AUDIT_TABLES:
            assert restored[table] == rows, table
    # The audit log is the backup's plus one event recording the restore, and its chain verifies.
    assert len(restored["compliance_auditevent"]) == len(at_backup["compliance_auditevent"]) + 1
    assert set(at_backup["compliance_auditevent"]) <= set(restored["compliance_auditevent"])
    verified = ccmops(live, "audit", "verify")
    assert verified.returncode == 0, verified.stdout

    # The replaced (damaged) database was kept beside the live one.
    kept = list(tmp_path.glob("live.pre-restore-*.sqlite3"))
    assert len(kept) == 1
    kept_rows = contents(kept[0])
    assert {t: v for t, v in kept_rows.items() if t not in AUDIT_TABLES} == {
        t: v for t, v in damaged.items() if t not in AUDIT_TABLES
    }


def test_bad_backup_files_are_refused_and_change_nothing(tmp_path):
    live = tmp_path / "live.sqlite3"
    sqlite_database(live)  # migrated
    assert ccmops(live, "migrate", "--verbosity", "0").returncode == 0  # nothing left to apply
    before = contents(live)

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    r = ccmops(live, "restore", str(garbage), "--yes")
    assert r.returncode == 2 and "garbage.sqlite3: not a SQLite database" in r.stderr

    foreign = tmp_path / "other-app.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
    r = ccmops(live, "restore", str(foreign), "--yes")
    assert r.returncode == 2 and "not a ccmops database (missing tables: django_migrations" in r.stderr

    r = ccmops(live, "restore", str(tmp_path / "missing.sqlite3"), "--yes")
    assert r.returncode == 2 and "no such backup file" in r.stderr

    assert contents(live) == before
    assert not list(tmp_path.glob("live.pre-restore-*"))

    existing = tmp_path / "taken.sqlite3"
    existing.write_bytes(b"keep me")
    r = ccmops(live, "backup", str(existing))
    assert r.returncode == 2 and "already exists" in r.stderr
    assert existing.read_bytes() == b"keep me"


@pytest.mark.django_db
def test_backup_refuses_a_database_it_cannot_copy_faithfully(tmp_path):
    # The test database is in-memory SQLite, or PostgreSQL when CCMOPS_TEST_DATABASE_URL is set: both refused
    # with a message that says what to do instead, and no file is written.
    expected = "in memory" if connection.vendor == "sqlite" else "pg_dump"
    with pytest.raises(ConfigurationError, match=expected):
        backup_database(tmp_path / "b.sqlite3")
    assert not list(tmp_path.iterdir())
