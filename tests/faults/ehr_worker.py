"""Run as a separate process by the EHR fault test: a practice connected to the stand-in EHR, three signed notes
owed to it, and their delivery — optionally dying by SIGKILL right after the EHR filed the Nth document, before
ccmops recorded it as delivered (the worst moment: the EHR has it, ccmops does not know).

python ehr_worker.py setup BASE_URL | deliver | dump   (database from CCMOPS_DATABASE_URL)
env: CCMOPS_KILL_AFTER_CREATE=N
"""

import json
import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmops.config.settings")

import django

django.setup()

from ccmops.demo.seed import seed_demo  # noqa: E402
from ccmops.documentation.services import save_note  # noqa: E402
from ccmops.ehr import client as ehr_client  # noqa: E402
from ccmops.ehr.deliver import deliver  # noqa: E402
from ccmops.ehr.services import new_key, save_connection  # noqa: E402
from ccmops.organizations.models import Organization, User  # noqa: E402
from ccmops.outbox.models import Outgoing  # noqa: E402
from ccmops.patients.models import Patient  # noqa: E402

MAPLE = "maple-street-family-medicine"
FIELDS = {"reason": "Check-in", "patient_status": "Well", "actions": "Reviewed", "next_steps": "Four weeks"}


def setup(base_url: str) -> None:
    seed_demo()
    maple = Organization.objects.get(slug=MAPLE)
    save_connection(practice=maple, by=None, values={"base_url": base_url, "client_id": "ccmops-maple",
                                                     "write_back": True})  # fmt: skip
    connection = new_key(practice=maple, by=None)
    moen = Patient.objects.get(practice=maple, family_name="Moen")
    nora = User.objects.get(username="nora.rn")
    for n in range(3):
        save_note(patient=moen, author=nora, program="ccm", activity="care_coordination_call", sign=True,
                  fields={**FIELDS, "reason": f"Check-in {n + 1}"})  # fmt: skip
    sys.stdout.write(json.dumps({"jwks": {"keys": [connection.public_jwk]}, "mrn": moen.mrn}))


def run_delivery() -> None:
    kill_after = int(os.environ.get("CCMOPS_KILL_AFTER_CREATE", "0") or 0)
    created = {"n": 0}
    real = ehr_client.EhrClient.create

    def create(self, resource, **kwargs):
        answer = real(self, resource, **kwargs)
        created["n"] += 1
        if created["n"] == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return answer

    ehr_client.EhrClient.create = create
    sys.stdout.write(json.dumps(deliver(Organization.objects.get(slug=MAPLE).id)))


def dump() -> None:
    rows = Outgoing.objects.order_by("object_id").values_list("object_id", "status", "attempts")
    sys.stdout.write(json.dumps([list(r) for r in rows]))


if __name__ == "__main__":
    action = sys.argv[1]
    if action == "setup":
        setup(sys.argv[2])
    elif action == "deliver":
        run_delivery()
    else:
        dump()
