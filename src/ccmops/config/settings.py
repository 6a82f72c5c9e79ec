"""Django settings, built from the CCMOPS_* environment (see `ccmops.config.env` and docs/settings.md)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from ccmops.config.env import read_environment

ENV = read_environment(os.environ)
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = list(ENV.allowed_hosts)
CCMOPS_DATA_DIR = ENV.data_dir
CCMOPS_DISPLAY_TIME_ZONE = ENV.display_time_zone
CCMOPS_LOGIN_MAX_FAILURES = ENV.login_max_failures
CCMOPS_LOGIN_LOCKOUT_MINUTES = ENV.login_lockout_minutes
CCMOPS_SESSION_IDLE_MINUTES = ENV.session_idle_minutes
CCMOPS_MFA_REQUIRED_ROLES = ENV.mfa_required_roles

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its Swagger UI assets are served from this installation (no CDN, within the CSP)
    "django_tasks",
    "django_tasks_db",
    "ccmops.jobs",
    "ccmops.outbox",
    "ccmops.organizations",
    "ccmops.patients",
    "ccmops.clinical",
    "ccmops.compliance",
    "ccmops.interop",
    "ccmops.enrollment",
    "ccmops.careplans",
    "ccmops.worklist",
    "ccmops.timetracking",
    "ccmops.documentation",
    "ccmops.months",
    "ccmops.billing",
    "ccmops.reporting",
    "ccmops.assessment",
    "ccmops.ehr",
    "ccmops.portal",
    "ccmops.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served by the application itself under gunicorn (collectstatic first): pages keep htmx and
    # the timer's heartbeat without a separate web server (security review, item 10).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ccmops.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ccmops.web.health.RequestContextMiddleware",
    "ccmops.web.input_guard.InputGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ccmops.web.middleware.IdleLogoutMiddleware",
    "ccmops.web.mfa.MfaMiddleware",
    "ccmops.web.account.PasswordChangeRequiredMiddleware",
    "ccmops.web.middleware.PracticeTimeZoneMiddleware",
    "ccmops.web.middleware.DomainErrorMiddleware",
    "ccmops.compliance.phi_reads.PhiReadAuditMiddleware",
]

ROOT_URLCONF = "ccmops.config.urls"
WSGI_APPLICATION = "ccmops.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ccmops.web.context.navigation",
            ],
        },
    },
]

# Set on every PostgreSQL connection (docs/settings.md, "PostgreSQL connections"; figures in bench/README.md):
# - no JIT compilation: our queries are short, and compiling them costs more than running them;
# - a random page read costed for SSDs and a cached working set (CCMOPS_PG_RANDOM_PAGE_COST): the server's
#   default, meant for spinning disks, has the worklist's ranking scan whole tables instead of using indexes.
POSTGRESQL_OPTIONS = "-c jit=off" + (
    f" -c random_page_cost={ENV.pg_random_page_cost}" if ENV.pg_random_page_cost else ""
)

# Django leaves psycopg's preparing off; the statements ccmops.platform.pipeline sends are prepared once they repeat
# (docs/settings.md, "Prepared statements").
POSTGRESQL_CONNECTION = {"options": POSTGRESQL_OPTIONS, "prepare_threshold": ENV.pg_prepare_threshold}

DATABASES = {"default": dj_database_url.parse(ENV.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database needs its directory; create it rather than fail on a fresh checkout.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A kept-alive connection is checked before each request reuses it, so after a database restart or failover
    # the first request reconnects instead of failing (docs/security.md, "Database outages").
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRESQL_CONNECTION)

# Background jobs (docs/jobs.md): django-tasks' database backend is the queue; `ccmops worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CCMOPS_JOB_LEASE_SECONDS = ENV.job_lease_seconds
CCMOPS_JOBS_INLINE = ENV.jobs_inline
# The EHR's addresses must be https outside development: ccmops sends its signed assertions and patients' records
# there, and a plain http address (or one on this machine) is what a mistyped or hostile setting would look like.
CCMOPS_EHR_ALLOW_HTTP = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organizations.User"
AUTHENTICATION_BACKENDS = ["ccmops.web.auth.Backend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_URL_PATH = "/login/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True  # the patient page speaks the patient's language (issue 36); staff pages are English
LANGUAGES = [("en", "English"), ("es", "Español")]
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = ENV.data_dir / "static"
# Development and tests serve the apps' static files as they are (no collectstatic); production serves the
# collected, hashed files (WhiteNoise, security review item 10).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_ENGINE = "ccmops.web.sessions"  # Django's database store, its per-request read compiled once
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and ENV.require_https:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
# HSTS preload is the domain owner's decision (it cannot be undone quickly), not ours.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Plain lines by default; one JSON object per line with CCMOPS_LOG_FORMAT=json, each with the request id, user,
# practice and job it belongs to (docs/deployment.md).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "ccmops.platform.logs.ContextFilter"}},
    "formatters": {
        "json": {"()": "ccmops.platform.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if ENV.log_format == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"ccmops.jobs": {"level": "INFO"}},
}
# The load balancer's checks answer over plain HTTP (TLS ends in front of the app).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
