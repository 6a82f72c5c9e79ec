"""Security review item 10: the documented production start — collectstatic, gunicorn, debug off — serves the
static files (WhiteNoise), so a page has its scripts: htmx and the timer's heartbeat work in Chromium."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests import databases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_debug_off_serves_pages_with_their_scripts(tmp_path, browser):
    port = free_port()
    env = {
        **os.environ,
        "CCMOPS_DEBUG": "false",
        "CCMOPS_SECRET_KEY": "production-start-test-" + "x" * 40,
        "CCMOPS_ALLOWED_HOSTS": "127.0.0.1",
        "CCMOPS_DATA_DIR": str(tmp_path),
        "CCMOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # The database starts as the run's migrated one (every migration from empty is applied by the same command when
    # the run builds it, tests/databases.py): `migrate` here finds nothing left to do, as on a second start.
    databases.copy_of(databases.template("migrated", sqlite=True), tmp_path / "prod.sqlite3")
    cli = [sys.executable, "-m", "ccmops.cli"]
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run([*cli, *step], env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "ccmops.config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        proxied = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front of it says
        deadline = time.monotonic() + 120  # gunicorn's start, however loaded the machine
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/login/", headers=proxied), timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "gunicorn did not answer within two minutes"
                time.sleep(0.1)
        script = urllib.request.urlopen(urllib.request.Request(f"{base}/static/ccmops/app.js", headers=proxied))
        assert script.status == 200 and "javascript" in script.headers["Content-Type"]
        context = browser.new_context(extra_http_headers=proxied)
        page = context.new_page()
        page.goto(f"{base}/login/")
        assert page.evaluate("typeof window.htmx") == "object"  # the page's scripts loaded from /static/
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
