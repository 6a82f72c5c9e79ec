"""Gather the facts of patient-months from the database into the rules engine's contract (many at once)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from django.db import connection

from ccmops.organizations.models import Organization, Practitioner
from ccmops.patients.coverage import eligibility_first
from ccmops.patients.models import Patient
from ccmops.patients.vocabulary import PAYER_KINDS
from ccmops.platform.pipeline import together
from ccmops.rules.calendar import month_window
from ccmops.rules.contract import PatientMonth


def _aware(instant: dt.datetime | None) -> dt.datetime | None:
    """An instant as read by a plain cursor: PostgreSQL gives it in UTC; SQLite (through Django's converters
    for its declared column types) gives the stored UTC time without a zone."""
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=dt.UTC)


def _iso(instant: dt.datetime) -> str:
    return _aware(instant).isoformat()


def _statements(ids: list[int], *queries: tuple) -> list[tuple[str, list]]:
    """Fact queries over these patients, each (SQL, *days or instants) with `IN ({ids})` standing for their list, as
    statements to send.

    The facts are read with plain SQL, not the ORM: the same six queries run for one patient on every timer
    stop, where building and compiling them took most of the re-decision (about 1 ms of Python per query
    against 0.3 ms to send it and read the rows). Table and column names are Django's defaults for these
    models; the queries run on SQLite and PostgreSQL, and instants are passed as the ORM passes them.

    On PostgreSQL the list is one array parameter, `= ANY(%s::bigint[])` (typed as the ids are, or the
    indexes would not apply): a month close's chunk of 500 ids as 500 placeholders made each query too long
    for the driver's cache of parsed queries. And the queries go out together (`ccmops.platform.pipeline`): one round
    trip to the server for all of them rather than one each.
    """
    if connection.vendor == "postgresql":
        members, head = "= ANY(%s::bigint[])", [list(ids)]
    else:
        members, head = f"IN ({', '.join(['%s'] * len(ids))})", list(ids)
    ops = connection.ops

    def at(value):  # days as the ORM passes a DateField, instants as a DateTimeField
        return ops.adapt_datefield_value(value) if type(value) is dt.date else ops.adapt_datetimefield_value(value)

    return [(sql.replace("IN ({ids})", members), [*head, *map(at, instants)]) for sql, *instants in queries]


# The contract's setting by the billing location's place of service: facility rates for hospital outpatient
# departments; RHC (72) and FQHC (50) care management goes on an institutional claim (R-RHC-4, R-CLM-FORM-2).
SETTING_BY_POS = {"19": "facility", "21": "facility", "22": "facility", "72": "rhc", "50": "fqhc"}
MDM_BY_EM = {"99204": "moderate", "99214": "moderate", "99205": "high", "99215": "high"}


def _group_npis(practice) -> frozenset[str]:
    """The NPIs of the practice's practitioners: a visit by one of them is the group's (R-APCM-4)."""

    return frozenset(Practitioner.objects.filter(practice=practice).values_list("npi", flat=True))


def _documenting_notes(rows) -> dict[int, dict]:
    """Per time entry, the note that documents it (a signed one when there is one), as the contract's `note`."""
    out: dict[int, dict] = {}
    for entry_id, note_id, signed_at, author_id in rows:
        if entry_id in out and out[entry_id]["signed_at"] is not None:
            continue
        out[entry_id] = {
            "id": f"note-{note_id}",
            "signed_at": _iso(signed_at) if signed_at else None,
            "author": f"user-{author_id}",
        }
    return out


def _coverage_periods(rows, window) -> dict[int, list[dict]]:
    """Each patient's coverage as the contract's periods (R-COV-1). Coverage records with dates (FHIR Coverage, the
    CSV, the patient page) are periods as recorded. A payer read off a claim (an ExplanationOfBenefit, `eob:`) is
    an observation on a day: it is taken to hold from then until the next observation of another payer. A
    patient's eligibility response (271) supersedes imported coverage (`eligibility_first`)."""

    by_patient: dict[int, list] = defaultdict(list)
    observed: dict[int, list] = defaultdict(list)
    for patient_id, source_id, payer, start, end, secondary in eligibility_first(rows):
        if source_id.startswith("eob:"):
            if start is not None:
                observed[patient_id].append((start, payer))
            continue
        for kind in PAYER_KINDS.get(payer, ("unknown",)):
            by_patient[patient_id].append(
                {
                    "kind": kind,
                    "start": start.isoformat() if start else None,
                    "end": end.isoformat() if end else None,
                    "medicare_secondary": bool(secondary) and kind == "part_b_ffs",
                }
            )
    for patient_id, seen in observed.items():
        seen.sort()
        spans: list[list] = []  # [payer, first day, last day or None]
        for day, payer in seen:
            if day > window.last_day:
                break
            if spans and spans[-1][0] == payer:
                continue
            if spans:
                spans[-1][2] = day - dt.timedelta(days=1)
            spans.append([payer, day, None])
        for payer, first, last in spans:
            for kind in PAYER_KINDS.get(payer, ("unknown",)):
                by_patient[patient_id].append(
                    {"kind": kind, "start": first.isoformat(), "end": last.isoformat() if last else None}
                )
    return by_patient


def _payer_field(payer: str) -> list[dict]:
    """Coverage from the patient's payer field alone (an EHR's current payer, without dates): none on record →
    an empty list, which the engine holds as unknown (R-COV-1)."""

    return [{"kind": kind} for kind in PAYER_KINDS.get(payer, ())] if payer else []


def month_patients(ids: list[int]) -> list[Patient]:
    """These patients as the month's facts read them: the few fields used (and name and MRN, to name them), one
    practice object per practice and one per billing practitioner shared among them. With `select_related`, every
    row built its own practice and practitioner — two of the three model objects a close made per patient."""
    patients = list(
        Patient.objects.filter(id__in=ids).only(
            "id",
            "practice_id",
            "billing_practitioner_id",
            "birth_date",
            "deceased_on",
            "medicare_coverage",
            "family_name",
            "given_name",
            "mrn",
        )
    )
    practices = Organization.objects.in_bulk({p.practice_id for p in patients})
    practitioners = Practitioner.objects.in_bulk({p.billing_practitioner_id for p in patients} - {None})
    for p in patients:
        p.practice = practices[p.practice_id]
        if p.billing_practitioner_id is not None:
            p.billing_practitioner = practitioners[p.billing_practitioner_id]
    return patients


def _billed(patients: list[Patient]) -> list[Patient]:
    return [p for p in patients if p.billing_practitioner_id]


def fact_reads(patients: list[Patient], month: str) -> list[tuple[str, list]]:
    """The reads of these patients' month facts (none when no patient has a billing practitioner): for a
    caller that sends them with statements of its own (`ccmops.platform.pipeline.together`) and hands their rows to
    `patient_months`."""
    patients = _billed(patients)
    if not patients:
        return []
    window = month_window(month, patients[0].practice.time_zone)
    lo, hi = window.start - dt.timedelta(days=1), window.end + dt.timedelta(days=1)
    return _statements(
        [p.id for p in patients],
        (
            'SELECT patient_id, code, "system", onset, abated, confirmed_code FROM patients_patientcondition '
            "WHERE patient_id IN ({ids}) ORDER BY onset, code",
        ),
        (
            "SELECT patient_id, start, visit_kind, code, practitioner_npi, care_management_discussed "
            "FROM patients_encounter WHERE patient_id IN ({ids}) AND visit_kind <> '' ORDER BY start DESC",
        ),
        (
            "SELECT c.patient_id, c.program, p.npi, c.documented_at, c.method, c.elements, r.revoked_at "
            "FROM enrollment_consent c JOIN organizations_practitioner p ON p.id = c.practitioner_id "
            "LEFT JOIN enrollment_consentrevocation r ON r.consent_id = c.id "
            "WHERE c.patient_id IN ({ids}) ORDER BY c.documented_at, c.id",
        ),
        (
            "SELECT v.id, v.care_plan_id, v.approved_at, v.substantial_revision, p.patient_id, p.program, p.kind, "
            "s.shared_at FROM careplans_careplanversion v JOIN careplans_careplan p ON p.id = v.care_plan_id "
            "LEFT JOIN careplans_careplanshare s ON s.version_id = v.id "
            "WHERE p.patient_id IN ({ids}) AND v.status = 'approved' ORDER BY v.care_plan_id, v.number, s.shared_at",
        ),
        (
            "SELECT patient_id, status_since FROM enrollment_enrollment "
            "WHERE patient_id IN ({ids}) AND status = 'enrolled_elsewhere' AND program = 'ccm'",
        ),
        (
            "SELECT patient_id, code, date_of_service, practitioner_npi, same_group, id FROM billing_knownservice "
            "WHERE patient_id IN ({ids}) AND date_of_service >= %s AND date_of_service <= %s "
            "AND withdrawn_at IS NULL ORDER BY date_of_service, id",
            window.first_day,
            window.last_day,
        ),
        (
            "SELECT patient_id FROM patients_qmbperiod WHERE patient_id IN ({ids}) AND start <= %s "
            'AND ("end" IS NULL OR "end" >= %s)',
            window.last_day,
            window.first_day,
        ),
        # Entries of the window with their segments, one row per segment: entries newest first, each entry's
        # segments in time order.
        (
            "SELECT e.id, e.patient_id, e.staff_id, e.staff_role, e.employer_id, e.program, e.located_in_us, "
            'e.counted_for, s.start, s."end" FROM timetracking_timeentrysegment s '
            "JOIN timetracking_timeentry e ON e.id = s.entry_id "
            'WHERE e.patient_id IN ({ids}) AND e.start < %s AND e."end" > %s AND e.voided_at IS NULL '
            "ORDER BY e.start DESC, e.id, s.start",
            hi,
            lo,
        ),
        # The notes documenting those entries (R-TIME-8, R-DOC-1): signed ones first for each entry.
        (
            "SELECT n.time_entry_id, n.id, n.signed_at, n.author_id FROM documentation_note n "
            "JOIN timetracking_timeentry e ON e.id = n.time_entry_id "
            'WHERE e.patient_id IN ({ids}) AND e.start < %s AND e."end" > %s ORDER BY n.time_entry_id, n.id',
            hi,
            lo,
        ),
        # Coverage on record (R-COV-1): imported Coverage and EOB payers, and coverage entered by hand.
        (
            'SELECT patient_id, source_id, payer, start, "end", medicare_secondary FROM patients_coveragerecord '
            "WHERE patient_id IN ({ids}) ORDER BY patient_id, start, id",
        ),
        # Another provider paid a care-management service before the month (an 835's B20, not released).
        (
            "SELECT patient_id, MIN(date_of_service) FROM billing_knownservice WHERE patient_id IN ({ids}) "
            "AND holds_following AND withdrawn_at IS NULL AND date_of_service < %s GROUP BY patient_id",
            window.first_day,
        ),
    )


def patient_months(patients: list[Patient], month: str, rows: list | None = None) -> dict[int, PatientMonth]:
    """Contract facts for each patient's month (billing practitioner = the patient's). Patients without a
    billing practitioner are left out. `rows`: the rows of `fact_reads(patients, month)` when the caller has
    read them already."""
    return {pid: PatientMonth.model_validate_json(doc) for pid, doc in month_documents(patients, month, rows).items()}


def month_documents(patients: list[Patient], month: str, rows: list | None = None) -> dict[int, str]:
    """Each patient's month facts as the contract's JSON document, not yet validated: what a month close
    fingerprints to tell whether a decision still rests on the facts on file (the engine is run, and the document
    validated, only when it does not)."""
    patients = _billed(patients)
    if not patients:
        return {}
    if rows is None:
        rows = together(*fact_reads(patients, month))
    practice = patients[0].practice
    window = month_window(month, practice.time_zone)
    (
        condition_rows,
        visit_rows,
        consent_rows,
        plan_rows,
        elsewhere_rows,
        known_rows,
        qmb_rows,
        segment_rows,
        note_rows,
        coverage_rows,
        paid_elsewhere_rows,
    ) = rows
    group_npis = _group_npis(practice)
    notes = _documenting_notes(note_rows)
    coverage = _coverage_periods(coverage_rows, window)
    qmb = {patient_id for (patient_id,) in qmb_rows}  # a QMB period overlaps the month
    conditions = defaultdict(list)
    for patient_id, code, system, onset, abated, confirmed in condition_rows:
        if confirmed:  # the ICD-10-CM code a person confirmed for a SNOMED CT problem (R-DX-3)
            code, system = confirmed, "icd10cm"
        conditions[patient_id].append(
            {
                "code": code,
                "system": system,
                **({"onset": onset.isoformat()} if onset else {}),
                **({"abated": abated.isoformat()} if abated else {}),
            }
        )
    visits = defaultdict(list)
    mdm = defaultdict(list)
    for patient_id, start, kind, code, npi, discussed in visit_rows:
        day = _aware(start).astimezone(window.zone).date()
        visits[patient_id].append(
            {
                "date": day.isoformat(),
                "kind": kind,
                "code": code,
                "practitioner_id": f"npi-{npi}",
                "care_management_discussed": bool(discussed),
                "same_group": npi in group_npis,
            }
        )
        # The level of an E/M visit is its medical decision making (99214/99204 moderate, 99215/99205 high):
        # documented MDM that complex CCM rests on (R-CCM-5, R-ELIG-2).
        if code in MDM_BY_EM and window.contains_date(day):
            mdm[patient_id].append(
                {"date": day.isoformat(), "complexity": MDM_BY_EM[code], "practitioner_id": f"npi-{npi}"}
            )
    consents = defaultdict(list)
    for patient_id, program, npi, documented_at, method, elements, revoked_at in consent_rows:
        consents[patient_id].append(
            {
                "program": program,
                "practitioner_id": f"npi-{npi}",
                "documented_at": _iso(documented_at),
                "method": method,
                "elements": json.loads(elements) if isinstance(elements, str) else elements,
                "revoked_at": _iso(revoked_at) if revoked_at else None,
            }
        )
    approved = defaultdict(list)  # care plan -> its approved versions, in number order
    plan_of = {}  # care plan -> (patient, program, kind), in plan id order
    shared = defaultdict(list)  # approved version -> when it was shared
    for version_id, plan_id, approved_at, substantial, patient_id, program, kind, shared_at in plan_rows:
        if not approved[plan_id] or approved[plan_id][-1][0] != version_id:
            approved[plan_id].append((version_id, _aware(approved_at), bool(substantial)))
        if shared_at is not None:
            shared[version_id].append(shared_at)
        plan_of[plan_id] = (patient_id, program, kind)
    plans = {}  # patient -> (plan kind, approved versions): the CCM plan, else the first other one approved
    for plan_id, (patient_id, program, kind) in plan_of.items():
        if patient_id not in plans or program == "ccm":
            plans[patient_id] = (kind, approved[plan_id])
    # Services recorded as known (`KnownService`) come as they were recorded; one of unknown practitioner is
    # nobody's on this practice's staff. "Enrolled elsewhere" is a fact about the patient (`ccm_elsewhere_since`):
    # the enrollment says so, or another provider was paid a care-management service in an earlier month (B20).
    elsewhere = {patient_id: _aware(since).astimezone(window.zone).date() for patient_id, since in elsewhere_rows}
    for patient_id, day in paid_elsewhere_rows:  # held as elsewhere since that service (R-CONS-2)
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        elsewhere[patient_id] = min(day, elsewhere.get(patient_id, day))
    other_services = defaultdict(list)
    for patient_id, code, day, npi, same_group, known_id in known_rows:
        other_services[patient_id].append(
            {
                "code": code,
                "practitioner_id": f"npi-{npi}" if npi else f"npi-unknown-{known_id}",
                "same_group": bool(same_group),
                "date": (day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))).isoformat(),
            }
        )
    segments = defaultdict(list)
    entries = defaultdict(list)
    for *e, start, end in segment_rows:
        if e[0] not in segments:
            e[6] = bool(e[6])
            entries[e[1]].append(tuple(e))
        segments[e[0]].append((_aware(start), _aware(end)))
    out = {}
    for p in patients:
        npi_id = f"npi-{p.billing_practitioner.npi}"
        doc = {
            "schema": "ccmops.patient-month/1",
            "month": month,
            "practice": {
                "timezone": practice.time_zone,
                "setting": SETTING_BY_POS.get(practice.place_of_service, "office"),
            },
            "billing_practitioner": {
                "id": npi_id,
                "group_id": f"npi-{practice.npi or practice.id}",
                "credential": p.billing_practitioner.credential,
            },
            "patient": {
                "id": str(p.id),
                "birth_date": p.birth_date.isoformat(),
                "conditions": conditions[p.id],
                "qmb": p.id in qmb,
                "facility_stays": [],
                "coverage": coverage.get(p.id) or _payer_field(p.medicare_coverage),
                "deceased_on": p.deceased_on.isoformat() if p.deceased_on else None,
                # stated only when recorded, so the documents (and fingerprints) of every other patient are as before
                **({"ccm_elsewhere_since": elsewhere[p.id].isoformat()} if p.id in elsewhere else {}),
            },
            "visits": visits[p.id],
            "consents": consents[p.id],
            "care_plan": None,
            "medical_decision_making": mdm[p.id],
            "time_entries": [
                {
                    "id": f"te-{entry_id}-{i}",
                    "start": _iso(start),
                    "minutes": int((end - start).total_seconds() // 60),
                    "staff_id": f"user-{staff_id}",
                    "staff_role": role,
                    "employer": "practice" if employer_id == p.practice_id else "partner",
                    "program": program,
                    "located_in_us": in_us,
                    "counted_for": counted_for or None,
                    "note": notes.get(entry_id),
                }
                for entry_id, _, staff_id, role, employer_id, program, in_us, counted_for in entries[p.id]
                for i, (start, end) in enumerate(segments[entry_id])
                if (end - start).total_seconds() >= 60
            ],
            "other_services": other_services[p.id],
        }
        if p.id in plans:
            kind, versions = plans[p.id]
            first = min(versions, key=lambda v: v[1])
            shares = [at for v in versions for at in shared[v[0]]]
            doc["care_plan"] = {
                "kind": kind,
                "established_at": _iso(first[1]),
                "shared_with_patient_at": _iso(min(shares)) if shares else None,
                "revisions": [{"at": _iso(v[1]), "substantial": v[2]} for v in versions if v is not first],
            }
        out[p.id] = json.dumps(doc)
    return out
