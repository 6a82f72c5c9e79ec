"""Settings for the test suite: SQLite in memory, or CCMOPS_TEST_DATABASE_URL (e.g. PostgreSQL)."""

import os

os.environ.setdefault("CCMOPS_DEBUG", "true")
os.environ.setdefault("CCMOPS_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("CCMOPS_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# The audit key and checkpoints of a test run: its own, never a demo's or production's (commands the tests run in
# subprocesses inherit them).
if "CCMOPS_AUDIT_CHECKPOINTS" not in os.environ:
    import tempfile

    _audit_dir = tempfile.mkdtemp(prefix="ccmops-test-audit-")
    os.environ["CCMOPS_AUDIT_CHECKPOINTS"] = os.path.join(_audit_dir, "checkpoints.jsonl")
    os.environ["CCMOPS_AUDIT_KEYS_FILE"] = os.path.join(_audit_dir, "audit.keys")

import dj_database_url

from ccmops.config.settings import *  # noqa: F403
from ccmops.config.settings import ENV, POSTGRESQL_CONNECTION

if ENV.test_database_url:
    DATABASES = {"default": dj_database_url.parse(ENV.test_database_url)}
    DATABASES["default"]["OPTIONS"] = dict(POSTGRESQL_CONNECTION)  # as in production settings
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "OPTIONS": {"init_command": "PRAGMA foreign_keys=ON;"},
            "TEST": {"NAME": ":memory:"},
        }
    }

# Hashing with argon2 is made slow on purpose; the suite logs in hundreds of times (bench/README.md).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Jobs run in the process that starts them, so a test sees their result in its own transaction (the worker's own
# tests run real workers against scratch databases: tests/jobs).
CCMOPS_JOBS_INLINE = True
CCMOPS_EHR_ALLOW_HTTP = True  # the stand-in EHR of tests/ehr listens on http://127.0.0.1
CCMOPS_JOB_SCHEDULES = False
