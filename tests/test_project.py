"""Project-level checks: migrations match the models; Django's system checks pass outside debug."""

import subprocess
import sys

from django.core.management import call_command


def test_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_deploy_checks_pass_with_production_settings(tmp_path):
    env = {
        "CCMOPS_SECRET_KEY": "x" * 64 + "production-like-secret-key-for-check",
        "CCMOPS_DEBUG": "false",
        "CCMOPS_DATA_DIR": str(tmp_path),
        "CCMOPS_ALLOWED_HOSTS": "ccm.example.org",
        "DJANGO_SETTINGS_MODULE": "ccmops.config.settings",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_works_in_a_fresh_shell_on_the_embedded_default(tmp_path):
    env = {"CCMOPS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_ccmops_refuses_to_start_without_a_secret_key_when_configured_for_https(tmp_path):
    env = {
        "CCMOPS_DEBUG": "false",
        "CCMOPS_REQUIRE_HTTPS": "true",
        "CCMOPS_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ccmops.cli", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "CCMOPS_SECRET_KEY is not set" in result.stderr
