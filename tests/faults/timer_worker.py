"""Run as a separate process by the timer fault test: a care manager's scripted session of timer operations,
as a browser would send them, optionally dying by SIGKILL at the Nth database write (inside a transaction) or
right after an operation committed but before the client heard back.

python timer_worker.py seed|run|dump T0_ISO JOURNAL  (database from CCMOPS_DATABASE_URL)
env: CCMOPS_KILL_AT=N (die at the Nth row saved), CCMOPS_KILL_AFTER_OP=K (die after op K commits)

The client keeps a journal of the operations it saw succeed; a re-run replays the rest. An operation whose
answer was lost is retried, as a browser retries: the server must make the retry harmless.
"""

import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
os.environ.setdefault("CCMOPS_DEBUG", "true")

import django

django.setup()

from django.db.models.signals import post_save  # noqa: E402

SAVES = {"n": 0}


def _count_and_maybe_die(**kwargs):
    SAVES["n"] += 1
    if SAVES["n"] == int(os.environ.get("CCMOPS_KILL_AT", "0") or 0):
        os.kill(os.getpid(), signal.SIGKILL)


def script(t0: dt.datetime):
    m = lambda k: t0 + dt.timedelta(minutes=k)  # noqa: E731
    return [
        ("start", "Moen", m(0)),
        ("heartbeat", None, m(1)),
        ("heartbeat", None, m(2)),
        ("pause", None, m(4)),
        ("resume", None, m(6)),
        ("heartbeat", None, m(7)),
        ("stop", None, m(9)),
        ("manual", "Kohler", m(10)),
        ("start", "Hartmann", m(20)),
        ("heartbeat", None, m(21)),
        ("stop", None, m(23)),
    ]


def run(t0: dt.datetime, journal: Path) -> None:
    from ccmops.errors import Conflict, InvalidInput
    from ccmops.organizations.models import User
    from ccmops.patients.models import Patient
    from ccmops.timetracking import entries
    from ccmops.timetracking import services as s

    post_save.connect(_count_and_maybe_die, dispatch_uid="fault-counter")
    done = set(json.loads(journal.read_text())) if journal.exists() else set()
    nora = User.objects.get(username="nora.rn")
    kill_after = int(os.environ.get("CCMOPS_KILL_AFTER_OP", "-1") or -1)
    for i, (op, family, when) in enumerate(script(t0)):
        if i in done:
            continue
        timer = entries.open_timer(nora)
        try:
            if op == "start":
                s.start_timer(
                    patient=Patient.objects.get(family_name=family),
                    staff=nora,
                    program="ccm",
                    activity="care_coordination_call",
                    now=when,
                )
            elif op == "manual":
                entries.add_manual_entry(
                    patient=Patient.objects.get(family_name=family),
                    staff=nora,
                    program="ccm",
                    activity="medication_reconciliation",
                    start=when,
                    minutes=8,
                    reason="Call from the car",
                    now=when + dt.timedelta(minutes=20),
                )
            elif timer is not None and op == "heartbeat":
                s.heartbeat(timer=timer, staff=nora, active=True, now=when)
            elif timer is not None:
                getattr(s, f"{op}_timer")(timer=timer, staff=nora, now=when)
            # No open timer for a heartbeat, pause, resume or stop: the answer to an earlier try was lost and it
            # already took effect (the timer was stopped); nothing to do.
        except Conflict:
            pass  # "already stopped": the retried operation had taken effect
        except InvalidInput as exc:
            if "overlaps your entry" not in str(exc):
                raise
            # the retried late entry had been saved: the server refuses to count the same minutes twice
        if i == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        done.add(i)
        journal.write_text(json.dumps(sorted(done)))
    sys.stdout.write(json.dumps({"saves": SAVES["n"]}))


def dump() -> None:
    from ccmops.timetracking.models import TimeEntry, Timer

    entries = sorted(
        (e.patient.family_name, e.source, e.seconds, e.start.isoformat(), e.end.isoformat(), e.segments.count())
        for e in TimeEntry.objects.select_related("patient").filter(
            staff__username="nora.rn", start__gte=T0, start__lt=T0 + dt.timedelta(hours=2)
        )  # the session's own hour: not the demo's seeded work
    )
    problems = []
    if Timer.objects.filter(open_staff__isnull=False).count() > 1:
        problems.append("more than one open timer")
    for t in Timer.objects.filter(state="stopped", created_at__gte=T0).prefetch_related("segments"):
        entry = TimeEntry.objects.filter(timer=t).first()
        if entry is None:
            problems.append(f"stopped timer {t.id} without its entry")
        elif entry.seconds != int(sum((x.end - x.start).total_seconds() for x in t.segments.all())):
            problems.append(f"entry {entry.id} seconds differ from its timer's segments")
    sys.stdout.write(json.dumps({"entries": entries, "problems": problems}))


if __name__ == "__main__":
    action = sys.argv[1]
    T0 = dt.datetime.fromisoformat(sys.argv[2])
    if action == "run":
        run(T0, Path(sys.argv[3]))
    else:
        dump()
