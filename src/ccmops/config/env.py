"""Every setting ccmops reads from the environment, declared once with its description.

`docs/settings.md` is checked against this table by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ccmops.access.policy import Role
from ccmops.errors import ConfigurationError
from ccmops.platform.numerals import ascii_digits


@dataclass(frozen=True)
class EnvSetting:
    name: str
    default: str
    description: str


SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("CCMOPS_DEBUG", "false", "Debug mode (`true`/`false`). Never on in production."),
    EnvSetting(
        "CCMOPS_SECRET_KEY",
        "",
        "Django secret key. Required with PostgreSQL or CCMOPS_REQUIRE_HTTPS set (ccmops refuses to start "
        "without it); on the embedded SQLite default one is made on first use into CCMOPS_DATA_DIR/secret.key "
        "(mode 0600) when none is given.",
    ),
    EnvSetting("CCMOPS_DATA_DIR", "./var", "Directory for the SQLite database and other local files."),
    EnvSetting(
        "CCMOPS_DATABASE_URL",
        "",
        "Database URL. Empty: a SQLite file `ccmops.sqlite3` in CCMOPS_DATA_DIR. "
        "PostgreSQL: `postgresql://user@host:5432/dbname` (psycopg 3).",
    ),
    EnvSetting(
        "CCMOPS_TEST_DATABASE_URL",
        "",
        "Database URL used by the test suite instead of SQLite (tests create and drop `test_<name>` in it).",
    ),
    EnvSetting(
        "CCMOPS_TEST_WORKERS",
        "auto",
        "Processes `./dev test` runs the suite in (pytest-xdist; read by the dev script, not by the app).",
    ),
    EnvSetting(
        "CCMOPS_PG_RANDOM_PAGE_COST",
        "1.1",
        "PostgreSQL planner's cost of a random page read, set on each connection (`random_page_cost`; the "
        "server's default, 4, assumes spinning disks). 1.1 suits SSDs and a working set held in memory; empty "
        "leaves the server's own setting.",
    ),
    EnvSetting(
        "CCMOPS_PG_PREPARE_THRESHOLD",
        "5",
        "PostgreSQL: the busy paths' statements (`ccmops.platform.pipeline`) are prepared on a connection once they "
        "have run this many times, so the server stops planning them anew. Empty turns preparing off (for a "
        "pooler in transaction mode that cannot keep prepared statements).",
    ),
    EnvSetting(
        "CCMOPS_ALLOWED_HOSTS",
        "127.0.0.1,localhost",
        "Comma-separated host names the server answers for.",
    ),
    EnvSetting(
        "CCMOPS_REQUIRE_HTTPS",
        "true",
        "Outside debug: redirect to HTTPS and send cookies only over HTTPS. Set false only for loopback "
        "benchmarks; in production terminate TLS in front of ccmops instead.",
    ),
    EnvSetting("CCMOPS_LOGIN_MAX_FAILURES", "5", "Failed sign-ins for one username before it is locked."),
    EnvSetting("CCMOPS_LOGIN_LOCKOUT_MINUTES", "15", "How long a username stays locked after too many failures."),
    EnvSetting("CCMOPS_SESSION_IDLE_MINUTES", "15", "Sign a user out after this many minutes without activity."),
    EnvSetting(
        "CCMOPS_MFA_REQUIRED_ROLES",
        "system_admin,compliance_reviewer",
        "Comma-separated roles whose holders must use a TOTP authenticator app to sign in (they are asked to set "
        "one up at their next sign-in). Any user may turn it on for themselves. Roles: care_manager, "
        "billing_practitioner, biller, program_owner, partner_ops_lead, compliance_reviewer, system_admin; "
        "empty for none.",
    ),
    EnvSetting(
        "CCMOPS_JOB_LEASE_SECONDS",
        "60",
        "Background jobs: a running job's worker renews its lease every third of this; a job whose lease lapses "
        "(its worker was killed or its machine lost) is picked up again by another worker.",
    ),
    EnvSetting(
        "CCMOPS_JOBS_INLINE",
        "false",
        "Run background jobs in the process that starts them (web request or command) instead of handing them "
        "to `ccmops worker` processes: for a single-user site without workers. Pages then wait for the work.",
    ),
    EnvSetting(
        "CCMOPS_LOG_FORMAT",
        "plain",
        "`plain` log lines, or `json`: one object per line with time, level, logger, message and the request id, "
        "user, practice and job it belongs to (for a log collector across several app processes and workers).",
    ),
    EnvSetting(
        "CCMOPS_DISPLAY_TIME_ZONE",
        "America/New_York",
        "Time zone for display when a user has no practice of their own (e.g. partner staff without one). "
        "Storage is always UTC; practice staff see their practice's zone.",
    ),
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Environment:
    debug: bool
    secret_key: str
    data_dir: Path
    database_url: str
    test_database_url: str
    pg_random_page_cost: str
    pg_prepare_threshold: int | None
    allowed_hosts: tuple[str, ...]
    display_time_zone: str
    require_https: bool
    login_max_failures: int
    login_lockout_minutes: int
    session_idle_minutes: int
    mfa_required_roles: frozenset[str]
    job_lease_seconds: int
    jobs_inline: bool
    log_format: str


def _flag(environ: Mapping[str, str], name: str, default: str) -> bool:
    raw = environ.get(name, default).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name}: expected true or false, got {raw!r}")


def _local_secret(data_dir: Path) -> str:
    """The secret key of an embedded (SQLite) installation: made on first use into `secret.key` in the data
    directory, readable by its owner only (0600), and read from there afterwards."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigurationError(f"{path}: the secret key file is empty or too short; delete it to make a new one")
    return key


def read_environment(environ: Mapping[str, str]) -> Environment:
    """Read and check every CCMOPS_* setting.

    Raises:
        ConfigurationError: a value is malformed, or the secret key is missing outside debug.
    """
    defaults = {s.name: s.default for s in SETTINGS}

    def get(name: str) -> str:
        return environ.get(name, defaults[name]).strip()

    debug = _flag(environ, "CCMOPS_DEBUG", defaults["CCMOPS_DEBUG"])
    data_dir = Path(get("CCMOPS_DATA_DIR")).expanduser().resolve()
    database_url = get("CCMOPS_DATABASE_URL") or f"sqlite:///{data_dir / 'ccmops.sqlite3'}"
    secret_key = get("CCMOPS_SECRET_KEY")
    if not secret_key:
        if debug:
            secret_key = "insecure-development-key-do-not-use-in-production"
        elif database_url.startswith("postgres") or "CCMOPS_REQUIRE_HTTPS" in environ:
            raise ConfigurationError(
                "CCMOPS_SECRET_KEY is not set. Set it to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'): a server configured for "
                "PostgreSQL or HTTPS does not make up its own key, or set CCMOPS_DEBUG=true for local development."
            )
        else:  # the embedded default on one machine: a key of its own, kept beside its database
            secret_key = _local_secret(data_dir)
    for name, url in (
        ("CCMOPS_DATABASE_URL", database_url),
        ("CCMOPS_TEST_DATABASE_URL", get("CCMOPS_TEST_DATABASE_URL")),
    ):
        if url and not url.startswith(("sqlite:", "postgres://", "postgresql://")):
            raise ConfigurationError(f"{name}: expected a sqlite:/// or postgresql:// URL, got {url!r}")
    hosts = tuple(h.strip() for h in get("CCMOPS_ALLOWED_HOSTS").split(",") if h.strip())
    return Environment(
        debug=debug,
        secret_key=secret_key,
        data_dir=data_dir,
        database_url=database_url,
        test_database_url=get("CCMOPS_TEST_DATABASE_URL"),
        pg_random_page_cost=_cost(get, "CCMOPS_PG_RANDOM_PAGE_COST"),
        pg_prepare_threshold=_whole(get, "CCMOPS_PG_PREPARE_THRESHOLD") if get("CCMOPS_PG_PREPARE_THRESHOLD") else None,
        allowed_hosts=hosts,
        display_time_zone=get("CCMOPS_DISPLAY_TIME_ZONE"),
        require_https=_flag(environ, "CCMOPS_REQUIRE_HTTPS", defaults["CCMOPS_REQUIRE_HTTPS"]),
        login_max_failures=_whole(get, "CCMOPS_LOGIN_MAX_FAILURES"),
        login_lockout_minutes=_whole(get, "CCMOPS_LOGIN_LOCKOUT_MINUTES"),
        session_idle_minutes=_whole(get, "CCMOPS_SESSION_IDLE_MINUTES"),
        mfa_required_roles=_roles(get, "CCMOPS_MFA_REQUIRED_ROLES"),
        job_lease_seconds=_whole(get, "CCMOPS_JOB_LEASE_SECONDS"),
        jobs_inline=_flag(environ, "CCMOPS_JOBS_INLINE", defaults["CCMOPS_JOBS_INLINE"]),
        log_format=_choice(get, "CCMOPS_LOG_FORMAT", ("plain", "json")),
    )


def _choice(get, name: str, allowed: tuple[str, ...]) -> str:
    raw = get(name).strip().lower()
    if raw not in allowed:
        raise ConfigurationError(f"{name}: expected one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _roles(get, name: str) -> frozenset[str]:
    roles = frozenset(r.strip() for r in get(name).split(",") if r.strip())
    unknown = sorted(roles - {r.value for r in Role})
    if unknown:
        raise ConfigurationError(
            f"{name}: unknown role(s) {', '.join(unknown)}; expected some of {', '.join(r.value for r in Role)}"
        )
    return roles


def _cost(get, name: str) -> str:
    """A positive decimal (kept as text, as it goes into the connection's options), or empty."""
    raw = get(name)
    try:
        if raw and not 0 < float(raw) <= 1000:  # nan and inf fail this too
            raise ValueError
    except ValueError:
        raise ConfigurationError(f"{name}: expected a positive number such as 1.1 (or empty), got {raw!r}") from None
    return raw


def _whole(get, name: str) -> int:
    raw = get(name)
    if not ascii_digits(raw) or int(raw) < 1:
        raise ConfigurationError(f"{name}: expected a whole number of at least 1, got {raw!r}")
    return int(raw)
