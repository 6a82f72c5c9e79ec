"""Bulk enrollment-status import from an EHR export (CSV: mrn, program, status, date, reason). All or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.db import transaction
from django.utils import timezone

from ccmops.enrollment.models import Enrollment, EnrollmentEvent
from ccmops.errors import InvalidInput
from ccmops.patients.models import Patient

COLUMNS = ("mrn", "program", "status", "date", "reason")
IMPORTABLE = {"candidate", "outreach", "declined", "unable_to_reach", "enrolled_elsewhere", "disenrolled"}


@transaction.atomic
def import_statuses(*, practice, text: str, file_label: str, by) -> int:
    """Set enrollment statuses from an EHR export; each change is an event dated as in the file.

    Consented, active and paused are not importable: they follow from a consent (and care plan) recorded in
    ccmops, never from a spreadsheet cell.

    Raises:
        InvalidInput: every bad row, named by line; nothing is written.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(
            f"{file_label}, line 1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
    problems, rows = [], []
    patients = {p.mrn: p for p in Patient.objects.filter(practice=practice)}
    for lineno, row in enumerate(reader, start=2):
        where = f"{file_label}, line {lineno}"
        patient = patients.get((row["mrn"] or "").strip())
        status = (row["status"] or "").strip().lower()
        program = (row["program"] or "").strip().lower()
        try:
            day = dt.date.fromisoformat((row["date"] or "").strip())
        except ValueError:
            problems.append(f"{where}: date: expected YYYY-MM-DD, got {row['date']!r}")
            continue
        if patient is None:
            problems.append(f"{where}: mrn: no patient {row['mrn']!r} in {practice.name}")
        elif program not in ("ccm", "pcm", "apcm"):
            problems.append(f"{where}: program: expected ccm, pcm or apcm, got {row['program']!r}")
        elif status not in IMPORTABLE:
            problems.append(
                f"{where}: status: {status!r} cannot be imported; expected one of "
                f"{', '.join(sorted(IMPORTABLE))} (consent and activation are recorded in ccmops)"
            )
        elif day > timezone.localdate():
            problems.append(f"{where}: date: {day} is in the future")
        else:
            rows.append((patient, program, status, day, (row["reason"] or "").strip()))
    if problems:
        raise InvalidInput("\n".join(problems))
    for patient, program, status, day, reason in rows:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        enrollment, created = Enrollment.objects.get_or_create(
            patient=patient,
            program=program,
            defaults={"practice_id": practice.id, "status": status, "status_since": at, "reason": reason},
        )
        if not created and enrollment.status in ("consented", "active", "paused"):
            raise InvalidInput(f"{file_label}: {patient.mrn} is {enrollment.status} in ccmops; change it there")
        EnrollmentEvent.objects.create(
            practice_id=practice.id,
            enrollment=enrollment,
            at=at,
            from_status="" if created else enrollment.status,
            to_status=status,
            reason=f"Imported from {file_label}: {reason}".strip(": "),
            by=by,
        )
        if not created:
            enrollment.status, enrollment.status_since, enrollment.reason = status, at, reason
            enrollment.save(update_fields=["status", "status_since", "reason"])
    return len(rows)
