"""Fault tests' worker processes: a scratch database per test, and a worker run against it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import databases

WORKER = Path(__file__).with_name("close_worker.py")


def sqlite_database(path: Path) -> str:
    """A migrated SQLite database at `path` (a copy of the run's migrated database)."""
    return databases.copy_of(databases.template("migrated", sqlite=True), path)


def _database(tmp_path, name: str, *, seeded: bool = False) -> str:
    """A scratch database for one fault run, already migrated (a copy of the run's migrated database) or also
    holding the demo world with last month's activity (`seeded`: a copy of the run's seeded database)."""
    return databases.copy_of(databases.template("seeded" if seeded else "migrated"), tmp_path / f"{name}.sqlite3")


def _drop(url: str) -> None:
    databases.drop(url)


def run(url: str, *args: str, worker: Path = WORKER, **extra_env: str) -> subprocess.CompletedProcess:
    """Run a fault worker script as its own process against `url` (extra_env: e.g. where to die)."""
    return databases.python(url, str(worker), *args, **extra_env)


def env_for(url: str, **extra_env: str) -> dict[str, str]:
    """The environment of a worker process on `url`: the product's settings, not the test settings."""
    return databases.product_env(url, **extra_env)


def copy_of(url: str, tmp_path, name: str) -> str:
    """A scratch database holding what `url` holds now (a file copy on SQLite, a template copy on PostgreSQL)."""
    return databases.copy_of(url, tmp_path / f"{name}.sqlite3")
