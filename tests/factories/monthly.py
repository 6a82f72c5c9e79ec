"""Monthly work in tests: an active patient, instants in a timer's minute, ADT messages."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ccmops.enrollment.models import Enrollment


def activate(patient, by):
    """Put a demo patient straight into active CCM (consent, visit, approved plan), as the enrollment tests do."""
    from tests.factories.enrollment import ALL, complete

    from ccmops.careplans.services import approve, create_from_template, save_version
    from ccmops.enrollment.consents import record_consent
    from ccmops.patients.services import record_visit

    practitioner = patient.billing_practitioner
    now = timezone.now()
    record_consent(
        patient=patient,
        program="ccm",
        practitioner=practitioner,
        method="verbal",
        documented_at=now - dt.timedelta(days=20),
        elements=ALL,
        obtained_by=by,
    )
    record_visit(
        patient=patient,
        day=timezone.localdate() - dt.timedelta(days=20),
        kind="em",
        code="99214",
        practitioner=practitioner,
        care_management_discussed=True,
        by=by,
    )
    plan = create_from_template(patient=patient, program="ccm", by=by)
    save_version(plan=plan, content=complete(plan.latest.content), by=by, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    approve(version=plan.latest, by=practitioner.user, expected_lock=plan.lock_version)
    assert Enrollment.objects.get(patient=patient).status == "active"


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def adt(event: str, mrn: str, klass: str, control: str, when: str = "202611181200") -> str:
    return "\r".join(
        [
            f"MSH|^~\\&|EPIC|GENHOSP|CCMOPS|MAPLE|{when}||ADT^{event}|{control}|P|2.5",
            f"EVN|{event}|{when}",
            f"PID|1||{mrn}^^^MAPLE^MR||DOE^JANE||19450101|F",
            f"PV1|1|{klass}|ED^01^1^GENHOSP" + "|" * 41 + f"{when}|{when}",
        ]
    )


T0 = timezone.make_aware(dt.datetime(2026, 11, 10, 9, 0), timezone=dt.UTC)
