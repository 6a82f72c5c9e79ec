import re
from pathlib import Path

import pytest

from ccmops.config.env import SETTINGS, read_environment
from ccmops.errors import ConfigurationError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_refuses_to_start_without_secret_key_when_configured_for_a_server(tmp_path):
    """PostgreSQL, or HTTPS asked for: a production configuration never makes up its own key."""
    for extra in ({"CCMOPS_DATABASE_URL": "postgresql://ccm@db:5432/ccmops"}, {"CCMOPS_REQUIRE_HTTPS": "true"}):
        with pytest.raises(ConfigurationError, match="CCMOPS_SECRET_KEY is not set"):
            read_environment({"CCMOPS_DEBUG": "false", "CCMOPS_DATA_DIR": str(tmp_path), **extra})
    assert not (tmp_path / "secret.key").exists()


def test_the_embedded_default_makes_its_own_key_once_readable_by_its_owner_only(tmp_path):
    """A fresh shell on the embedded SQLite default needs no CCMOPS_SECRET_KEY (nor CCMOPS_DEBUG): a key is made
    into the data directory on first use, mode 0600, and the same key is read afterwards."""
    first = read_environment({"CCMOPS_DATA_DIR": str(tmp_path)})
    key = tmp_path / "secret.key"
    assert first.debug is False and len(first.secret_key) >= 50
    assert key.stat().st_mode & 0o777 == 0o600
    assert read_environment({"CCMOPS_DATA_DIR": str(tmp_path)}).secret_key == first.secret_key
    assert read_environment({"CCMOPS_DATA_DIR": str(tmp_path), "CCMOPS_SECRET_KEY": "k" * 50}).secret_key == "k" * 50
    key.write_text("short")
    with pytest.raises(ConfigurationError, match="secret key file is empty or too short"):
        read_environment({"CCMOPS_DATA_DIR": str(tmp_path)})


def test_debug_runs_without_secret_key_and_defaults_to_sqlite_in_data_dir(tmp_path):
    env = read_environment({"CCMOPS_DEBUG": "true", "CCMOPS_DATA_DIR": str(tmp_path)})
    assert env.debug is True
    assert env.database_url == f"sqlite:///{tmp_path / 'ccmops.sqlite3'}"
    assert env.allowed_hosts == ("127.0.0.1", "localhost")


def test_postgresql_url_is_taken_as_is():
    env = read_environment(
        {"CCMOPS_SECRET_KEY": "k" * 50, "CCMOPS_DATABASE_URL": "postgresql://ccm@db.internal:5432/ccmops"}
    )
    assert env.database_url == "postgresql://ccm@db.internal:5432/ccmops"
    assert env.debug is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CCMOPS_DEBUG": "maybe"}, "CCMOPS_DEBUG: expected true or false"),
        (
            {"CCMOPS_DEBUG": "1", "CCMOPS_DATABASE_URL": "mysql://x/y"},
            "CCMOPS_DATABASE_URL: expected a sqlite",
        ),
        *(
            (
                {"CCMOPS_DEBUG": "1", "CCMOPS_PG_RANDOM_PAGE_COST": raw},
                "CCMOPS_PG_RANDOM_PAGE_COST: expected a positive",
            )
            for raw in ("0", "-1", "nan", "inf", "fast", "1.1 -c jit=on")
        ),
    ],
)
def test_malformed_settings_are_named(environ, message):
    with pytest.raises(ConfigurationError, match=message):
        read_environment(environ)


def test_every_setting_is_documented_and_every_documented_setting_exists():
    text = DOCS.read_text()
    documented = set(re.findall(r"^\| `(CCMOPS_[A-Z_]+)`", text, flags=re.M))
    declared = {s.name for s in SETTINGS}
    assert documented == declared


def test_a_booted_web_worker_sets_what_it_loaded_aside_from_the_garbage_collector(tmp_path):
    """The WSGI module (what gunicorn loads in each worker) loads at boot what the first requests would
    (the URL map with every view and the API, ccmops's templates, the code and condition tables) and then
    freezes it: the cyclic collector's full collections skip it. Left to the first request, the URL map alone
    added some 70,000 objects that every full collection walked (60–90 ms each on a 2-core machine)."""
    import os
    import subprocess
    import sys

    script = (
        "import gc\n"
        "before = gc.get_freeze_count()\n"
        "import ccmops.config.wsgi\n"
        "frozen, enabled = gc.get_freeze_count(), gc.isenabled()\n"
        "from django.template.loader import get_template\n"
        "from django.urls import resolve\n"
        "from ccmops.rules.conditions import icd10_conditions\n"
        "tracked = len(gc.get_objects())\n"
        "resolve('/worklist/'), resolve('/api/timer/1/stop'), get_template('worklist/worklist.html')\n"
        "icd10_conditions('E11.9')\n"
        "print(before, frozen, enabled, len(gc.get_objects()) - tracked)\n"
    )
    env = {**os.environ, "CCMOPS_DEBUG": "true", "CCMOPS_DATA_DIR": str(tmp_path)}
    env.pop("CCMOPS_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    before, after, enabled, grown = out.stdout.split()
    assert (int(before), enabled) == (0, "True")
    assert int(after) > 100_000  # Django, the URL map, the views, the templates (about 157,000 objects today)
    assert int(grown) < 1_000  # serving the first pages loads next to nothing more (70,000+ before boot did)


def test_the_random_page_cost_is_kept_as_given_or_left_to_the_server():
    assert read_environment({"CCMOPS_DEBUG": "1"}).pg_random_page_cost == "1.1"
    assert read_environment({"CCMOPS_DEBUG": "1", "CCMOPS_PG_RANDOM_PAGE_COST": " 4 "}).pg_random_page_cost == "4"
    assert read_environment({"CCMOPS_DEBUG": "1", "CCMOPS_PG_RANDOM_PAGE_COST": ""}).pg_random_page_cost == ""


def test_the_prepare_threshold_is_a_whole_number_or_off():
    assert read_environment({"CCMOPS_DEBUG": "1"}).pg_prepare_threshold == 5
    assert read_environment({"CCMOPS_DEBUG": "1", "CCMOPS_PG_PREPARE_THRESHOLD": " 2 "}).pg_prepare_threshold == 2
    assert read_environment({"CCMOPS_DEBUG": "1", "CCMOPS_PG_PREPARE_THRESHOLD": ""}).pg_prepare_threshold is None
    with pytest.raises(ConfigurationError, match="CCMOPS_PG_PREPARE_THRESHOLD: expected a whole number"):
        read_environment({"CCMOPS_DEBUG": "1", "CCMOPS_PG_PREPARE_THRESHOLD": "often"})


def test_postgresql_connections_run_without_jit_and_with_ssd_page_costs(db):
    """The options reach the server on every connection (the suite's too, as production settings set them)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL connection options; this run is on SQLite")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('random_page_cost')")
        assert cursor.fetchone() == ("off", "1.1")
