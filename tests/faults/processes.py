"""Fault tests' worker processes: a scratch database per test, and a worker run against it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

WORKER = Path(__file__).with_name("close_worker.py")


MIGRATE = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('migrate', verbosity=0)"
)
_templates: dict[str, str] = {}


def _template(server: str | None) -> str:
    """A database migrated once per test process (a SQLite file, or a PostgreSQL template database dropped when
    the process ends), which each scratch database starts as a copy of: migrating costs seconds per database."""
    key = server or "sqlite"
    if key not in _templates:
        if server is None:
            folder = Path(tempfile.mkdtemp(prefix="ccmops-fault-template-"))
            url = f"sqlite:///{folder / 'template.sqlite3'}"
        else:
            import psycopg

            name = f"ccmops_fault_template_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"{server}/{name}"
            atexit.register(_drop, url)
        done = _python(url, "-c", MIGRATE)
        assert done.returncode == 0, done.stderr
        _templates[key] = url
    return _templates[key]


def sqlite_database(path: Path) -> str:
    """A migrated SQLite database at `path` (a copy of this process's template)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template(None).removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def _database(tmp_path, name: str) -> str:
    """A scratch database for one fault run, already migrated (a copy of this process's template)."""
    base = os.environ.get("CCMOPS_TEST_DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg

        server, _db = base.rsplit("/", 1)
        template = _template(server).rsplit("/", 1)[1]
        db = f"ccmops_fault_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
        return f"{server}/{db}"
    return sqlite_database(tmp_path / f"{name}.sqlite3")


def _drop(url: str) -> None:
    if url.startswith("postgres"):
        import psycopg

        server, db = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')


def run(url: str, *args: str, worker: Path = WORKER, **extra_env: str) -> subprocess.CompletedProcess:
    """Run a fault worker script as its own process against `url` (extra_env: e.g. where to die)."""
    return _python(url, str(worker), *args, **extra_env)


def env_for(url: str, **extra_env: str) -> dict[str, str]:
    """The environment of a worker process on `url`: the product's settings, not the test settings."""
    env = {
        **os.environ,
        "CCMOPS_DATABASE_URL": url,
        "CCMOPS_DEBUG": "true",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        **extra_env,
    }
    env["DJANGO_SETTINGS_MODULE"] = "ccmops.config.settings"
    return env


def _python(url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = env_for(url, **extra_env)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def copy_of(url: str, tmp_path, name: str) -> str:
    """A scratch database holding what `url` holds now (a file copy on SQLite, a template copy on PostgreSQL)."""
    if url.startswith("postgres"):
        import psycopg

        server, source = url.rsplit("/", 1)
        db = f"ccmops_fault_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{source}"')
        return f"{server}/{db}"
    target = tmp_path / f"{name}.sqlite3"
    shutil.copyfile(url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"
