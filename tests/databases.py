"""The databases a test run starts from, each built once per run and shared by its pytest-xdist workers:

- *migrated*: every migration applied (data migrations included), by the product's own `migrate` in a process of
  its own. Each worker's test database starts as a copy of it (SQLite: loaded into the in-memory database;
  PostgreSQL: `CREATE DATABASE … TEMPLATE`), and so does every fault test's scratch database. Migrating costs
  about 25 seconds of one core (Django renders the model states of 130 migrations); a run used to pay it twice
  per worker.
- *seeded*: the migrated database with the demo world and last month's activity (`seed_demo(with_activity=True)`),
  the starting point of the fault tests' worker processes, which used to seed it again in each test.

The first worker to need one builds it under a file lock; the others wait for it and copy it. The controller
(or the only process, without xdist) removes them at the end of the run (`remove_run_databases`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from tests import forkserver

ROOT = Path(__file__).resolve().parents[1]
MIGRATE = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('migrate', verbosity=0)"
)
SEED = "import django; django.setup(); from ccmops.demo.seed import seed_demo; seed_demo(with_activity=True)"
STEPS = {"migrated": (None, MIGRATE), "seeded": ("migrated", SEED)}


def run_id() -> str:
    """This test run's id, set by the first process of the run (tests/conftest.py) and inherited by its workers."""
    return os.environ.setdefault("CCMOPS_TEST_RUN_ID", uuid.uuid4().hex)


def run_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"ccmops-test-run-{run_id()[:12]}"
    folder.mkdir(exist_ok=True)
    return folder


def server() -> str | None:
    """The PostgreSQL server of this run (`postgresql://user@host:port`), or None on SQLite."""
    base = os.environ.get("CCMOPS_TEST_DATABASE_URL", "")
    return base.rsplit("/", 1)[0] if base.startswith("postgres") else None


def _prefix() -> str:
    """Names of this run's PostgreSQL databases start with it."""
    return f"ccmops_t_{run_id()[:10]}"


@contextmanager
def locked(name: str):
    """One process of the run at a time in the block (a file lock in the run's folder)."""
    with (run_folder() / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def product_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a product process on `url`: the product's settings, not the test settings."""
    env = {**os.environ, "CCMOPS_DATABASE_URL": url, "CCMOPS_DEBUG": "true", "PYTHONPATH": str(ROOT), **extra}
    env["DJANGO_SETTINGS_MODULE"] = "ccmops.config.settings"
    return env


def python(url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """Run Python with the product's settings on `url` (a script and its arguments, -m MODULE or -c CODE) as a
    process of its own, forked from the test process's fork server (tests/forkserver.py)."""
    return forkserver.run(list(args), product_env(url, **extra_env), timeout=600)


def _pg(sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{server()}/postgres", autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def template(kind: str, *, sqlite: bool = False) -> str:
    """The database URL of this run's `kind` ("migrated" or "seeded"), built on first use: on the run's database
    server, or a SQLite file (`sqlite`, or when the run has no server)."""
    before, code = STEPS[kind]
    if sqlite or server() is None:
        path = run_folder() / f"{kind}.sqlite3"
        with locked(kind):
            if not path.exists():
                partial = path.with_suffix(".partial")
                if before is None:
                    partial.unlink(missing_ok=True)
                else:
                    shutil.copyfile(template(before, sqlite=True).removeprefix("sqlite:///"), partial)
                done = python(f"sqlite:///{partial}", "-c", code)
                assert done.returncode == 0, f"building the {kind} test database failed:\n{done.stderr}"
                partial.rename(path)  # whole or absent
        return f"sqlite:///{path}"
    name = f"{_prefix()}_{kind}"
    with locked(f"pg-{kind}"):
        if not _pg(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            partial = f"{name}_partial"
            _pg(f'DROP DATABASE IF EXISTS "{partial}"')
            source = f' TEMPLATE "{template(before).rsplit("/", 1)[1]}"' if before else ""
            _pg(f'CREATE DATABASE "{partial}"{source}')
            done = python(f"{server()}/{partial}", "-c", code)
            assert done.returncode == 0, f"building the {kind} test database failed:\n{done.stderr}"
            _pg(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')  # whole or absent
    return f"{server()}/{name}"


def copy_of(url: str, target: Path | str) -> str:
    """A new database holding what `url` holds (a file copy on SQLite, a template copy on PostgreSQL). `target`:
    the SQLite file, or a name the PostgreSQL database's name is made from."""
    if url.startswith("postgres"):
        source = url.rsplit("/", 1)[1]
        db = f"{_prefix()}_{Path(target).stem[:24]}_{uuid.uuid4().hex[:8]}"
        _pg(f'CREATE DATABASE "{db}" TEMPLATE "{source}"')
        return f"{server()}/{db}"
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def drop(url: str) -> None:
    if url.startswith("postgres"):
        _pg(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')


def load_migrated_into(connection) -> None:
    """Make the worker's (in-memory SQLite) test database a copy of the run's migrated database."""
    import sqlite3

    from django.contrib.contenttypes.models import ContentType

    connection.ensure_connection()
    source = sqlite3.connect(template("migrated", sqlite=True).removeprefix("sqlite:///"))
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    ContentType.objects.clear_cache()


def remove_run_databases() -> None:
    """Remove this run's shared databases (the end of the run)."""
    if server() is not None:
        for (name,) in _pg(f"SELECT datname FROM pg_database WHERE datname LIKE '{_prefix()}%'"):
            _pg(f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(run_folder(), ignore_errors=True)
