"""Run as a separate process by the fault tests: seed, close (optionally dying by SIGKILL mid-close), dump lines.

python close_worker.py seed|close|close-and-die|dump  (database from CCMOPS_DATABASE_URL)
"""

import json
import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
os.environ.setdefault("CCMOPS_DEBUG", "true")

import django

django.setup()


def main(action: str, month: str) -> None:
    from ccmops.billing import evaluation as close_module
    from ccmops.billing.models import ClaimLine
    from ccmops.demo import world
    from ccmops.organizations.models import Organization

    practice = Organization.objects.get(slug=world.MAPLE)
    if action in ("close", "close-and-die"):
        close_module.CHUNK = close_module.STEP = close_module.CLI_STEP = 1  # a kill lands between steps
        if action == "close-and-die":
            original = close_module._persist
            calls = {"n": 0}

            def persist_then_die(*args, **kwargs):
                original(*args, **kwargs)
                calls["n"] += 1
                if calls["n"] == 2:
                    os.kill(os.getpid(), signal.SIGKILL)

            close_module._persist = persist_then_die
        close_module.close_month(practice=practice, month=month)
        return
    rows = sorted(
        (line.patient.family_name, line.code, line.units, str(line.allowed_amount), str(line.date_of_service))
        for line in ClaimLine.objects.filter(practice=practice, month=month).select_related("patient")
    )
    sys.stdout.write(json.dumps(rows))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
