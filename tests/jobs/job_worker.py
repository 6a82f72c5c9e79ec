"""Run as a separate process by the job tests: seed a world with queued jobs, run a worker (optionally dying by
SIGKILL in the middle of a job), dump what the jobs produced.

python job_worker.py seed|work|work-and-die|work-and-die-importing|dump MONTH  (database from CCMOPS_DATABASE_URL,
the generated population under JOB_TEST_DATA)
"""

import json
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
os.environ.setdefault("CCMOPS_DEBUG", "true")

import django

django.setup()


SLUG = "kill-clinic"


def main(action: str, month: str) -> None:
    from tests.factories.population import die_inside_an_import_chunk

    from ccmops.billing import evaluation, jobs
    from ccmops.billing.models import ClaimLine, PatientMonthDecision
    from ccmops.demo import world
    from ccmops.enrollment.jobs import start_screening
    from ccmops.interop import services, writer
    from ccmops.interop.generator import generate_population
    from ccmops.interop.jobs import start_import
    from ccmops.interop.models import ImportRun
    from ccmops.jobs.models import Job
    from ccmops.jobs.worker import Worker
    from ccmops.organizations.models import Organization
    from ccmops.patients.models import Encounter, Patient, PatientCondition, ScreeningResult, ScreeningRun

    data = Path(os.environ["JOB_TEST_DATA"]) / "population"
    if action == "seed":  # onto the demo world with last month's activity (the run's seeded database)
        clinic = Organization.objects.create(
            slug=SLUG, kind="practice", name="Kill Clinic", time_zone="America/Chicago"
        )
        if not data.exists():
            generate_population(data, patients=300, seed=7)
        start_import(practice=clinic, kind="bulk", path=data, label="population", by=None)
        for slug in (world.MAPLE, world.RIVERBEND):
            practice = Organization.objects.get(slug=slug)
            jobs.start_evaluation(practice=practice, month=month, by=None, run_here=False)
            start_screening(practice=practice, by=None, run_here=False)
        return
    if action in ("work", "work-and-die", "work-and-die-importing"):
        evaluation.CHUNK = jobs.JOB_STEP = 1  # one patient per committed step: a kill lands between steps
        services.ATOMIC_LIMIT = 100  # the import takes its resumable, chunked path for this small population
        writer.CHUNK = 97
        if action == "work-and-die-importing":
            die_inside_an_import_chunk(services)
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
    clinic = Organization.objects.get(slug=SLUG)
    out["imported"] = {
        "patients": sorted(Patient.objects.filter(practice=clinic).values_list("mrn", "family_name")),
        "conditions": PatientCondition.objects.filter(practice=clinic).count(),
        "encounters": Encounter.objects.filter(practice=clinic).count(),
        "runs": sorted(ImportRun.objects.filter(practice=clinic).values_list("status", "done", "total")),
    }
    out["jobs"] = sorted((j.kind, j.status, j.attempts, j.retries, j.error) for j in Job.objects.all())
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
