"""Backup and restore of the embedded SQLite database, through SQLite's online backup API.

The online backup API copies a consistent snapshot while the server keeps running (WAL readers and writers are
not blocked for long), so `ccmops backup` needs no downtime. Restore copies a verified backup *into* the live
database file in one backup-API transaction, after first saving the current contents beside it, so a mistaken
restore can itself be undone. PostgreSQL deployments use `pg_dump` / `pg_restore` (docs/security.md); these
functions refuse to run there rather than produce something that looks like a backup and is not.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

from ccmops.errors import ConfigurationError, InvalidInput

# Tables a file must hold to be a ccmops database (checked before anything is overwritten).
_REQUIRED_TABLES = ("django_migrations", "compliance_auditevent", "patients_patient", "organizations_organization")


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    tables: int
    rows: int
    audit_events: int


def _live_sqlite_path() -> Path:
    if connection.vendor != "sqlite":
        raise ConfigurationError(
            f"`ccmops backup` and `ccmops restore` handle the embedded SQLite database; this deployment uses "
            f"{connection.vendor}. Use pg_dump --format=custom and pg_restore --clean (see docs/security.md)."
        )
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise ConfigurationError("the database is in memory; there is no file to back up or restore")
    return Path(name)


def _summarise(db: sqlite3.Connection, source: Path) -> tuple[int, int, int]:
    """(tables, rows, audit events) of a SQLite database, after checking it is an intact ccmops database."""
    try:
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{source}: not a SQLite database ({exc})") from exc
    if ok != "ok":
        raise InvalidInput(f"{source}: SQLite integrity check failed: {ok}")
    missing = [t for t in _REQUIRED_TABLES if t not in tables]
    if missing:
        raise InvalidInput(f"{source}: not a ccmops database (missing tables: {', '.join(missing)})")
    # Names come from the file's own catalogue; quoted as SQL identifiers (embedded quotes doubled).
    quoted = ['"' + t.replace('"', '""') + '"' for t in tables]
    rows = sum(db.execute(f"SELECT COUNT(*) FROM {q}").fetchone()[0] for q in quoted)  # noqa: S608
    audit = db.execute("SELECT COUNT(*) FROM compliance_auditevent").fetchone()[0]
    return len(tables), rows, audit


def backup_database(target: Path) -> BackupReport:
    """Write a consistent snapshot of the live SQLite database to `target` (which must not exist)."""
    live = _live_sqlite_path()
    target = Path(target)
    if target.exists():
        raise InvalidInput(f"{target}: already exists; choose a new file name (backups are never overwritten)")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent}: directory does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(live)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            tables, rows, audit = _summarise(dst, partial)
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(partial, 0o600)  # a backup holds every patient's record: readable by its owner only
    partial.rename(target)  # only a complete, verified backup ever carries the requested name
    return BackupReport(target, target.stat().st_size, tables, rows, audit)


def restore_database(source: Path) -> tuple[BackupReport, Path]:
    """Replace the live database's contents with the backup at `source`.

    Returns the restored summary and the path where the previous contents were saved first.
    """
    live = _live_sqlite_path()
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"{source}: no such backup file")
    probe = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        tables, rows, audit = _summarise(probe, source)
    finally:
        probe.close()
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    saved = live.with_name(f"{live.stem}.pre-restore-{stamp}{live.suffix}")
    connection.close()  # Django's own connection must not hold the file while it is replaced
    if live.exists():
        backup_database(saved)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(live, timeout=20)
        try:
            src.backup(dst)  # one transaction on the destination: readers see the old or the new, never a mix
        finally:
            dst.close()
    finally:
        src.close()
    return BackupReport(live, live.stat().st_size, tables, rows, audit), saved
