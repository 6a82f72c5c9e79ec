"""Patient-record use cases recorded in ccmops (rather than imported)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Practitioner
from ccmops.patients.models import Encounter

VISIT_KINDS = {
    "em": "Office/outpatient E/M",
    "awv": "Annual wellness visit",
    "ippe": "Welcome to Medicare (IPPE)",
    "tcm": "TCM face-to-face visit",
}


@transaction.atomic
def record_visit(
    *, patient, day: dt.date, kind: str, code: str, practitioner: Practitioner, care_management_discussed: bool, by
) -> Encounter:
    """Record a face-to-face visit that may initiate care management (R-INIT-2, R-INIT-3)."""
    if kind not in VISIT_KINDS:
        raise InvalidInput(f"kind: expected one of {', '.join(VISIT_KINDS)}")
    if kind == "em" and code.strip() == "99211":
        raise InvalidInput("code: 99211 (level 1 E/M) does not initiate care management; use a level 2–5 E/M")
    if day > timezone.localdate():
        raise InvalidInput("date: a visit cannot be in the future")
    if practitioner.practice_id != patient.practice_id:
        raise InvalidInput("practitioner: must belong to the patient's practice")
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    visit = Encounter.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        source_id=f"ccmops:{uuid.uuid4()}",
        start=start,
        setting="ambulatory",
        visit_kind=kind,
        code=code.strip(),
        display=VISIT_KINDS[kind],
        practitioner_npi=practitioner.npi,
        care_management_discussed=care_management_discussed,
        recorded_by=by,
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=visit,
        detail={"kind": kind, "code": code, "cm_discussed": care_management_discussed},
    )
    from ccmops.enrollment.activation import activate_if_ready

    for program in ("ccm", "pcm", "apcm"):
        activate_if_ready(patient=patient, program=program, by=by)
    return visit
