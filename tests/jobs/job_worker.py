"""Run as a separate process by the job tests: seed a world with queued jobs, run a worker (optionally dying by
SIGKILL in the middle of a job), dump what the jobs produced.

python job_worker.py seed|work|work-and-die|dump MONTH  (database from CCMOPS_DATABASE_URL)
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
    from django.core.management import call_command

    from ccmops.billing import evaluation, jobs
    from ccmops.billing.models import ClaimLine, PatientMonthDecision
    from ccmops.demo import world
    from ccmops.demo.seed import seed_demo
    from ccmops.enrollment.jobs import start_screening
    from ccmops.jobs.models import Job
    from ccmops.jobs.worker import Worker
    from ccmops.organizations.models import Organization
    from ccmops.patients.models import ScreeningResult, ScreeningRun

    if action == "seed":
        call_command("migrate", verbosity=0)
        seed_demo(with_activity=True)
        for slug in (world.MAPLE, world.RIVERBEND):
            practice = Organization.objects.get(slug=slug)
            jobs.start_evaluation(practice=practice, month=month, by=None, run_here=False)
            start_screening(practice=practice, by=None, run_here=False)
        return
    if action in ("work", "work-and-die"):
        evaluation.CHUNK = jobs.JOB_STEP = 1  # one patient per committed step: a kill lands between steps
        if action == "work-and-die":
            original, calls = evaluation._persist, {"n": 0}

            def persist_then_die(*args, **kwargs):
                original(*args, **kwargs)
                calls["n"] += 1
                if calls["n"] == 2:
                    os.kill(os.getpid(), signal.SIGKILL)

            evaluation._persist = persist_then_die
        ran = Worker(interval=0.2, batch=True, schedules=False).run()
        sys.stdout.write(json.dumps({"ran": ran}))
        return
    out = {"lines": [], "decisions": [], "screening": [], "jobs": []}
    for slug in (world.MAPLE, world.RIVERBEND):
        practice = Organization.objects.get(slug=slug)
        out["lines"] += sorted(
            (slug, line.patient.mrn, line.code, line.units, str(line.allowed_amount), str(line.date_of_service))
            for line in ClaimLine.objects.filter(practice=practice, month=month).select_related("patient")
        )
        out["decisions"] += sorted(
            (slug, d.patient.mrn, d.status, d.review)
            for d in PatientMonthDecision.objects.filter(practice=practice, month=month).select_related("patient")
        )
        out["screening"] += sorted(
            (slug, r.patient.mrn, r.ccm, r.pcm, r.apcm)
            for r in ScreeningResult.objects.filter(practice=practice).select_related("patient")
        )
        out["screening_runs"] = out.get("screening_runs", 0) + ScreeningRun.objects.filter(practice=practice).count()
    out["jobs"] = sorted((j.kind, j.status, j.attempts, j.retries, j.error) for j in Job.objects.all())
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
