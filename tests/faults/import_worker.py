"""Run as a separate process by the import fault test: seed, import (optionally dying by SIGKILL inside a
chunk's transaction), dump the registry.

python import_worker.py seed|import|import-and-die|dump DIR  (database from CCMOPS_DATABASE_URL)
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")
os.environ.setdefault("CCMOPS_DEBUG", "true")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

SLUG = "kill-clinic"


def main(action: str, directory: str) -> None:
    from tests.factories.population import die_inside_an_import_chunk

    from ccmops.interop import services, writer
    from ccmops.interop.generator import generate_population
    from ccmops.interop.models import ImportRun
    from ccmops.organizations.models import Organization
    from ccmops.patients.models import CoverageRecord, Encounter, Patient, PatientCondition

    data = Path(directory)
    if action == "seed":
        call_command("migrate", verbosity=0)
        Organization.objects.create(slug=SLUG, kind="practice", name="Kill Clinic", time_zone="America/Chicago")
        if not data.exists():
            generate_population(data, patients=300, seed=7)
        return
    practice = Organization.objects.get(slug=SLUG)
    if action in ("import", "import-and-die"):
        services.ATOMIC_LIMIT = 100  # force the resumable, chunked path for this small population
        writer.CHUNK = 97  # many chunks, not aligned with the record kinds' boundaries
        if action == "import-and-die":
            die_inside_an_import_chunk(services)
        services.import_source(practice=practice, source=services.Source("bulk", data, data.name))
        return
    registry = {
        "patients": sorted(Patient.objects.filter(practice=practice).values_list("mrn", "family_name", "birth_date")),
        "conditions": sorted(
            PatientCondition.objects.filter(practice=practice).values_list("patient__mrn", "system", "code", "onset")
        ),
        "encounters": sorted(
            Encounter.objects.filter(practice=practice).values_list("patient__mrn", "source_id", "start", "code")
        ),
        "coverages": sorted(CoverageRecord.objects.filter(practice=practice).values_list("patient__mrn", "source_id")),
        "runs": sorted(ImportRun.objects.filter(practice=practice).values_list("status", "done", "total")),
    }
    sys.stdout.write(json.dumps(registry, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
