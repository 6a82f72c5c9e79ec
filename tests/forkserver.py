"""Product processes for the fault tests, forked from a process that has already imported Django and ccmops.

A fault test runs the product as separate processes — killed by SIGKILL, restarted, run again — dozens of times per
test. Starting Python and importing Django and ccmops costs about 2 seconds of a core each time (3 without bytecode
caches), which was most of those tests' time. So each test process keeps one server process that has imported
everything once (with the product's settings) and forks a child per run: the child takes the run's environment,
reads the product's settings afresh from it (the settings module runs again, Django's settings and database
connections are reset; nothing had connected before the fork), and runs the script, `-m module` or `-c code` as
`python` would. The child is a process of its own — it dies by SIGKILL, holds its own database connection, and its
exit status is reported as `subprocess.run` reports it (a negative signal number when killed).

Runs that must overlap one another (two job workers at once) or need a fresh interpreter (the CLI in a clean
shell, gunicorn) still start their own Python.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the children import, imported once here (the workers' own imports, the CLI, the demo seed, Django's test
# client used by the outage worker).
PRELOAD = ("ccmops.cli", "ccmops.demo.seed", "django.test", "django.core.management.commands.migrate")


def _run_child(request: dict, out: str, err: str) -> None:
    """In the forked child: become a fresh product process for `request`, run it, and exit with its status."""
    import runpy
    import traceback

    code = 0
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or os.getcwd())
        _fresh_settings()
        argv = request["argv"]
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        elif argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path.insert(0, str(Path(argv[0]).resolve().parent))  # as `python script.py` does
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 — reported as Python reports an uncaught error
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            from django.db import connections

            connections.close_all()
        finally:
            os._exit(code)


def _fresh_settings() -> None:
    """Let Django read the settings again from this process's environment (as a new process would)."""
    from asgiref.local import Local
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections
    from django.utils.functional import empty

    # The settings module runs again when Django first reads a setting: after the script has set what it sets
    # (several workers set defaults in os.environ before `django.setup()`).
    for module in {os.environ.get("DJANGO_SETTINGS_MODULE", "ccmops.config.settings"), "ccmops.config.settings"}:
        sys.modules.pop(module, None)
    settings._wrapped = empty
    for handler in (connections, caches):  # connection objects made while importing were never opened
        handler._settings = None
        handler.__dict__.pop("settings", None)
        handler._connections = Local(handler.thread_critical)


def serve() -> None:
    """The server: set up Django once, then fork one child per request read from stdin (one JSON per line) and
    answer each with its exit status and output (one JSON per line on stdout)."""
    import django

    django.setup()
    for name in PRELOAD:
        __import__(name)
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing the server imports may write into the answers
    folder = tempfile.mkdtemp(prefix="ccmops-forkserver-")
    for line in sys.stdin:
        request = json.loads(line)
        out, err = os.path.join(folder, "out"), os.path.join(folder, "err")
        pid = os.fork()
        if pid == 0:
            _run_child(request, out, err)
        timed_out = False
        try:
            _pid, status = _wait(pid, request.get("timeout", 300))
        except TimeoutError:
            timed_out = True
            os.kill(pid, 9)
            _pid, status = os.waitpid(pid, 0)
        answer = {
            "returncode": os.waitstatus_to_exitcode(status),
            "stdout": Path(out).read_text(errors="replace"),
            "stderr": Path(err).read_text(errors="replace"),
            "timed_out": timed_out,
        }
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def _wait(pid: int, timeout: float) -> tuple[int, int]:
    import select

    fd = os.pidfd_open(pid)
    try:
        if not select.select([fd], [], [], timeout)[0]:
            raise TimeoutError(pid)
        return os.waitpid(pid, 0)
    finally:
        os.close(fd)


class _Client:
    """This test process's fork server (started on first use, stopped at exit)."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ccmops.config.settings",
            "CCMOPS_DEBUG": "true",
            "CCMOPS_DATABASE_URL": f"sqlite:///{tempfile.gettempdir()}/ccmops-forkserver-never-opened.sqlite3",
            "PYTHONPATH": str(ROOT),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tests.forkserver import serve; serve()"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()
        atexit.register(self.close)

    def run(self, argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
        with self.lock:
            self.process.stdin.write(json.dumps({"argv": argv, "env": env, "timeout": timeout}) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server stopped (exit status {self.process.poll()})")
        answer = json.loads(line)
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired([sys.executable, *argv], timeout, answer["stdout"], answer["stderr"])
        return subprocess.CompletedProcess(
            [sys.executable, *argv], answer["returncode"], answer["stdout"], answer["stderr"]
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


_client: _Client | None = None


def run(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`python *argv` with environment `env`, as `subprocess.run(..., capture_output=True, text=True)` answers it,
    forked from this test process's fork server."""
    global _client
    if _client is None or _client.process.poll() is not None:
        _client = _Client()
    return _client.run(list(argv), dict(env), timeout)
