"""Services billed for a patient outside this month's CCM claim and known to the practice (cms-rules.md §2).

The federal audits' top findings were CCM paid twice for a patient-month and CCM billed alongside overlapping
care-management services. ccmops can check only what it knows: the practice's own claims, "enrolled elsewhere",
and what is recorded here — another practitioner's CCM learned from a denial or from the patient, a TCM after a
discharge, a specialist's PCM, ESRD monthly services, care-plan oversight, remote monitoring. Each goes into its
month's evaluation as an `other_services` fact, and the rules engine decides what it means: a duplicate CCM
holds the month for review (R-CONS-2, R-CCM-7), an overlapping service of the same practitioner refuses the codes
it conflicts with (R-PCM-1, R-TIME-5, R-APCM-2/6), the rest are noted (their minutes must not be counted twice).

Recorded for a month already closed, or withdrawn from one, it goes to the month's adjustment queue: the claim
may have gone out as a duplicate, and only the biller can correct it with the contractor.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ccmops.billing.csvfile import csv_rows
from ccmops.billing.models import KnownService
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.ledger import is_closed, queue_adjustment
from ccmops.months.models import MonthClose
from ccmops.organizations.models import Practitioner
from ccmops.organizations.validators import npi_is_valid
from ccmops.patients.models import Patient
from ccmops.rules.families import OTHER_SERVICE_FAMILIES, OTHER_SERVICE_FAMILY


def code_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The codes grouped by family, for a select's optgroups."""
    return [(label, [(c, c) for c in sorted(codes)]) for label, codes in OTHER_SERVICE_FAMILIES]


def _checked(
    code: str, date_of_service: dt.date, practitioner_npi: str, source: str, today: dt.date
) -> tuple[str, str, str]:
    """(code, NPI, source) cleaned, or InvalidInput naming the field (`today`: the practice's)."""
    code = code.strip().upper()
    if code not in OTHER_SERVICE_FAMILY:
        raise InvalidInput(
            f"code: {code or '(empty)'} is not a service weighed against care management; expected one of the "
            "CCM, PCM, APCM, TCM, BHI, care plan oversight, ESRD, remote monitoring or interprofessional codes"
        )
    npi = practitioner_npi.strip()
    if npi and not npi_is_valid(npi):
        raise InvalidInput(f"practitioner_npi: {npi!r} is not a valid NPI (10 digits with a correct check digit)")
    source = source.strip()
    if len(source) < 5:
        raise InvalidInput("source: say how it became known (e.g. the remittance of a claim, the patient, the HIE)")
    if len(source) > 200:
        raise InvalidInput(f"source: at most 200 characters, got {len(source)}")
    if date_of_service > today:
        raise InvalidInput(f"date_of_service: {date_of_service} is in the future; record a service once it is known")
    return code, npi, source


@transaction.atomic
def record_known_service(
    *,
    patient,
    code: str,
    date_of_service: dt.date,
    practitioner_npi: str = "",
    source: str,
    by,
    holds_following: bool = False,
) -> KnownService:
    """Record a service known to be billed for the patient. Its month is evaluated with it; for a month already
    closed it is queued for the biller. `holds_following`: another provider was paid it (B20), so the patient's
    later months are held as enrolled elsewhere until released (`release_following`).

    Raises:
        InvalidInput: a code the engine does not weigh against care management, a malformed NPI, no source, a
            date in the future.
    """
    code, npi, source = _checked(code, date_of_service, practitioner_npi, source, _today(patient.practice))
    practice_id = patient.practice_id
    service = _create(
        patient, code, date_of_service, npi, source, by, _practice_npis(practice_id), _closed(practice_id)
    )
    if holds_following:
        KnownService.objects.filter(pk=service.pk).update(holds_following=True)
        service.holds_following = True
    return service


def _today(practice) -> dt.date:
    """The practice's today: a service on its date is not in the future, whoever records it from wherever."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(practice.time_zone))


def _practice_npis(practice_id: int) -> set[str]:
    """The NPIs of the practice's practitioners: a service by one of them is the group's own."""
    return set(Practitioner.objects.filter(practice_id=practice_id).values_list("npi", flat=True))


def _closed(practice_id: int) -> set[str]:
    """The practice's closed months, their close rows read with a lock (an approval under way is waited for, so
    a service recorded meanwhile finds its month closed and is queued: `close.closed_month_read`)."""
    rows = MonthClose.objects.select_for_update(no_key=True).filter(practice_id=practice_id)
    return {month for month, status in rows.values_list("month", "status") if status == "closed"}


def _create(
    patient, code: str, date_of_service: dt.date, npi: str, source: str, by, practice_npis: set, closed: set
) -> KnownService:
    """Create, audit and — for a closed month — queue one service (`practice_npis`, `closed`: read once by the
    caller, for every row of a file)."""
    service = KnownService.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        code=code,
        date_of_service=date_of_service,
        practitioner_npi=npi,
        same_group=npi in practice_npis,
        source=source,
        recorded_by=by,
        recorded_at=timezone.now(),
    )
    record_audit(
        action=AuditAction.CREATE,
        user=by,
        patient=patient,
        obj=service,
        detail={"code": code, "date_of_service": date_of_service.isoformat(), "npi": npi, "source": source},
    )
    if service.month in closed:
        _queue(service, f"{code} ({OTHER_SERVICE_FAMILY[code]}) {_by(service)} on {date_of_service} became known")
    return service


COLUMNS = ("mrn", "code", "date_of_service")  # required; practitioner_npi and source are optional


@dataclass(frozen=True)
class Recorded:
    created: list[KnownService]
    already_on_record: int  # rows equal to a service on record (not withdrawn), or to an earlier row


@transaction.atomic
def record_known_services(*, practice, rows: list[tuple[str, dict]], by) -> Recorded:
    """Record many known services — e.g. the practice's own TCM and PCM claims from its practice-management
    system, or the duplicates its remittances reported — all or nothing. Each row is (where, {mrn, code,
    date_of_service, practitioner_npi, source}); a row without a source is known from its `where`. A row equal to
    a service on record (same patient, code, date and NPI) is not recorded twice, so the same file can be
    imported again. Every problem is named with its `where` and field."""
    if not rows:
        raise InvalidInput("rows: no services to record")
    problems, good = [], []
    mrns = {str(row.get("mrn") or "").strip() for _, row in rows}
    registry = Patient.objects.filter(practice=practice)
    if len(mrns) <= 500:  # else the practice's whole registry: a long IN list would exceed SQLite's parameters
        registry = registry.filter(mrn__in=mrns)
    patients = {p.mrn: p for p in registry}
    today = _today(practice)
    for where, row in rows:
        mrn = str(row.get("mrn") or "").strip()
        patient = patients.get(mrn)
        if patient is None:
            problems.append(f"{where}: mrn: no patient {mrn!r} in {practice.name}" if mrn else f"{where}: mrn: empty")
            continue
        raw_day = str(row.get("date_of_service") or "").strip()
        try:
            day = dt.date.fromisoformat(raw_day)
        except ValueError:
            problems.append(f"{where}: date_of_service: expected a date YYYY-MM-DD, got {raw_day!r}")
            continue
        try:
            code, npi, source = _checked(
                str(row.get("code") or ""),
                day,
                str(row.get("practitioner_npi") or ""),
                str(row.get("source") or "").strip() or where,
                today,
            )
        except InvalidInput as exc:
            problems.append(f"{where}: {exc}")
            continue
        good.append((patient, code, day, npi, source))
    if problems:
        raise InvalidInput("\n".join(problems))
    days = [g[2] for g in good]
    on_record = set(
        KnownService.objects.filter(
            practice=practice, date_of_service__gte=min(days), date_of_service__lte=max(days), withdrawn_at__isnull=True
        ).values_list("patient_id", "code", "date_of_service", "practitioner_npi")
    )
    npis, closed = _practice_npis(practice.id), _closed(practice.id)
    created, repeated = [], 0
    for patient, code, day, npi, source in good:
        key = (patient.id, code, day, npi)
        if key in on_record:
            repeated += 1
            continue
        on_record.add(key)
        created.append(_create(patient, code, day, npi, source, by, npis, closed))
    return Recorded(created, repeated)


def import_known_services(*, practice, text: str, file_label: str, by) -> Recorded:
    """A CSV of known services (COLUMNS, optional practitioner_npi and source), all or nothing; problems name the
    file, the line and the field."""
    return record_known_services(practice=practice, rows=csv_rows(text, file_label, COLUMNS), by=by)


@transaction.atomic
def withdraw_known_service(*, service: KnownService, reason: str, by) -> KnownService:
    """Withdraw a service recorded in error: it stays on record and counts in no evaluation after.

    Raises:
        InvalidInput: no reason.
        Conflict: already withdrawn.
    """
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput("reason: say what was wrong (it is kept with the record)")
    if len(reason) > 300:
        raise InvalidInput(f"reason: at most 300 characters, got {len(reason)}")
    service = KnownService.objects.select_for_update().select_related("patient").get(pk=service.pk)
    if service.withdrawn_at is not None:
        raise Conflict(f"known service {service.id} was already withdrawn on {service.withdrawn_at:%Y-%m-%d}")
    service.withdrawn_at, service.withdrawn_by, service.withdraw_reason = timezone.now(), by, reason
    service.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    record_audit(action=AuditAction.UPDATE, user=by, patient=service.patient, obj=service, detail={"withdrawn": reason})
    if is_closed(service.practice, service.month, lock=True):
        _queue(service, f"{service.code} {_by(service)} on {service.date_of_service} withdrawn: {reason}")
    return service


@transaction.atomic
def release_following(*, service: KnownService, reason: str, by) -> KnownService:
    """Release the patient's months after another provider's paid service (an 835's B20): a person confirmed
    with the patient that the other practice no longer furnishes their care management (R-CONS-2). The service
    stays known for its own month; the months after it are decided without the hold at their next evaluation.

    Raises:
        InvalidInput: no reason.
        Conflict: it holds no months.
    """
    reason = reason.strip()
    if not 5 <= len(reason) <= 300:
        raise InvalidInput("reason: say what the patient confirmed (5 to 300 characters; kept in the audit log)")
    service = KnownService.objects.select_for_update().select_related("patient").get(pk=service.pk)
    if not service.holds_following or service.withdrawn_at is not None:
        raise Conflict(f"known service {service.id} holds no later months")
    service.holds_following = False
    service.save(update_fields=["holds_following"])
    record_audit(action=AuditAction.UPDATE, user=by, patient=service.patient, obj=service, detail={"released": reason})
    return service


def _by(service: KnownService) -> str:
    if not service.practitioner_npi:
        return "by a practitioner not known"
    return f"by NPI {service.practitioner_npi}" + (" (this practice)" if service.same_group else "")


def _queue(service: KnownService, description: str) -> None:
    """Queue the service (recorded, or withdrawn) in its closed month's adjustment queue."""
    month = service.month
    queue_adjustment(
        service,
        month,
        f"{description} after {month} was closed",
        known_service=service,
        voids=service.withdrawn_at is not None,
    )
