"""Run as a separate process by the outage test on SQLite: a signed-in care manager's requests while the
database file becomes unreachable (its directory moved away, as when a volume is unmounted) and after it comes
back. Prints what each request answered.

python outage_worker.py DB_PATH
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
os.environ.setdefault("CCMOPS_DEBUG", "false")
os.environ.setdefault("CCMOPS_SECRET_KEY", "outage-test-" + "x" * 40)
os.environ.setdefault("CCMOPS_REQUIRE_HTTPS", "false")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def main(db: Path) -> None:
    from ccmops.organizations.models import User
    from ccmops.patients.models import Patient
    from ccmops.timetracking.models import TimeEntry
    from ccmops.web.mfa import SESSION_VERIFIED

    twyla = Patient.objects.get(family_name="Moen").id
    entries = TimeEntry.objects.count()
    client = Client(raise_request_exception=False, SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(username="nora.rn"))
    session = client.session
    session[SESSION_VERIFIED] = True
    session.save()
    out = {"before": client.get("/worklist/").status_code}
    connection.close()
    away = db.parent.with_name(db.parent.name + "-away")
    db.parent.rename(away)
    try:
        page = client.get("/worklist/")
        api = client.post(
            f"/api/patients/{twyla}/time-entries",
            {"activity": "care_coordination_call", "start": "2026-11-02T15:00:00Z", "minutes": 12, "reason": "late"},
            content_type="application/json",
        )
        out["down_page"] = [page.status_code, page.get("Retry-After"), page.content.decode()]
        out["down_api"] = [api.status_code, api.content.decode()]
    finally:
        connection.close()
        away.rename(db.parent)
    out["after"] = client.get("/worklist/").status_code
    out["entries_unchanged"] = TimeEntry.objects.count() == entries
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
