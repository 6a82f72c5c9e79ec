"""Six months of recorded program work for the demo's history cohorts (world.COHORTS), written through the real
services: population import, screening, visits, consents, care plans, timers' entries, late entries, calls,
notes and month close. Dates are relative to today. Only the enrollment history and note timestamps are set
back after the fact (the services stamp "now"), as if each had been recorded on the day it happened.

The figures follow world.PROFILES exactly (counts are rounded per month, not drawn at random), so the drifting
practice drifts and the steady ones do not, whatever day the demo is seeded on.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from django.utils import timezone

from ccmops.access.operating_model import Function
from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import close_month
from ccmops.billing.known import record_known_service
from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.review import override
from ccmops.careplans.models import CarePlanShare, CarePlanVersion
from ccmops.careplans.services import approve, create_from_template, save_version
from ccmops.demo import world
from ccmops.documentation.models import Note
from ccmops.documentation.note_templates import TEMPLATES
from ccmops.documentation.services import save_note
from ccmops.enrollment.consents import record_consent, revoke_consent
from ccmops.enrollment.models import Consent, Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.enrollment.screening import screen_practice
from ccmops.enrollment.services import change_status
from ccmops.errors import Conflict
from ccmops.interop.generator import generate_population
from ccmops.interop.services import Source, import_source
from ccmops.organizations.models import Organization, Practitioner, User
from ccmops.organizations.services import owners_in_force
from ccmops.patients.coverage import claim_status, confirm_diagnosis, record_coverage, record_death
from ccmops.patients.models import Patient, ScreeningResult
from ccmops.patients.services import record_visit
from ccmops.rules.calendar import month_window, months_before
from ccmops.rules.conditions import table
from ccmops.timetracking.entries import add_manual_entry, create_entry
from ccmops.timetracking.models import TimeEntry

NOTE_LEVELS = (100, 89, 67, 44, 22)  # completeness of a coordination-call note with 5, 4, 3, 2 and 1 fields filled
NOTE_FIELDS = [k for k, _label, _req in TEMPLATES["care_coordination_call"]]
FIELD_TEXT = {
    "reason": "Monthly check-in on blood pressure and medications",
    "patient_status": "Feeling well; home readings within range",
    "actions": "Reviewed readings, reinforced low-salt diet",
    "next_steps": "RN calls in four weeks; patient logs readings",
    "care_plan_goal": "Blood pressure below 140/90",
}


def _fields_for(level: int) -> dict:
    """Fields filled for a note of that completeness: the required ones first, the optional goal last."""
    keep = {100: 5, 89: 4, 67: 3, 44: 2, 22: 1}[level]
    return {k: FIELD_TEXT[k] for k in NOTE_FIELDS[:keep]}


def _month_start(months_ago: int, zone: str) -> dt.datetime:
    first = months_before(timezone.localdate().replace(day=1), months_ago)
    return month_window(f"{first:%Y-%m}", zone).start


def make_ready(patient: Patient, practitioner: Practitioner, by: User, started: dt.datetime) -> None:
    """Initiating visit (3 days before `started`), consent (2 days before) and an approved, shared care plan (the
    day before); the enrollment becomes active at `started`. At the visit the practitioner confirmed the ICD-10-CM
    codes of the patient's SNOMED CT problems (R-DX-3): the crosswalk's suggestion, where it is billable. Used by
    the demo seed too."""
    crosswalk = table().snomed
    for condition in patient.conditions.filter(system="snomed", confirmed_code=""):
        suggested = claim_status(condition)
        qualifying = (crosswalk.get(condition.code) or (None,))[0] is not None  # a finding such as BMI 30+ is not
        if qualifying and suggested["state"] == "confirm" and suggested["code"]:
            confirm_diagnosis(condition=condition, code=suggested["code"], by=practitioner.user)
    record_visit(
        patient=patient,
        day=(started - dt.timedelta(days=3)).date(),
        kind="em",
        code="99214",
        practitioner=practitioner,
        care_management_discussed=True,
        by=practitioner.user,
    )
    record_consent(
        patient=patient,
        program="ccm",
        practitioner=practitioner,
        method="verbal",
        documented_at=started - dt.timedelta(days=2),
        elements=["cost_sharing", "one_practitioner_per_month", "right_to_stop"],
        obtained_by=by,
    )
    plan = create_from_template(patient=patient, program="ccm", by=by)
    content = {
        **plan.latest.content,
        "expected_outcomes": "Conditions stable at target; no avoidable ED visits or admissions.",
        "prognosis": "Fair to good with monthly follow-up and adherence.",
        "community_services": "Area Agency on Aging: transport to appointments.",
        "coordination": "Specialists receive the approved plan; pharmacy reconciles quarterly.",
    }
    save_version(
        plan=plan, content=content, by=by, expected_lock=plan.lock_version, change_summary="Completed with the patient"
    )
    plan.refresh_from_db()
    version = approve(version=plan.latest, by=practitioner.user, expected_lock=plan.lock_version)
    CarePlanVersion.objects.filter(pk=version.pk).update(approved_at=started - dt.timedelta(days=1))
    CarePlanShare.objects.create(
        practice_id=patient.practice_id,
        version=version,
        method="printed",
        shared_at=started - dt.timedelta(days=1),
        recorded_by=by,
    )
    # Set the enrollment history back to the days it happened (the services stamp "now").
    events = list(EnrollmentEvent.objects.filter(enrollment__patient=patient).order_by("id"))
    for k, event in enumerate(events):
        EnrollmentEvent.objects.filter(pk=event.pk).update(at=started - dt.timedelta(hours=len(events) - k))
    Enrollment.objects.filter(patient=patient).update(status_since=started)


def _cohort_patients(practice: Organization, spec: world.CohortSpec, admin: User) -> list[Patient]:
    """Import a generated population into the practice, screen it and take the first eligible patients."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bulk"
        population = spec.population or spec.patients * 4
        generate_population(out, patients=population, seed=spec.seed, as_of=timezone.localdate())
        import_source(practice=practice, source=Source("bulk", out, f"demo-history-{spec.seed}"), by=admin)
    screen_practice(practice=practice)
    ids = list(
        ScreeningResult.objects.filter(practice=practice, ccm="eligible", patient__mrn__startswith=f"G{spec.seed}-")
        .order_by("-risk_score", "patient_id")
        .values_list("patient_id", flat=True)[: spec.patients]
    )
    return list(Patient.objects.filter(id__in=ids).order_by("id"))


def _call(patient: Patient, staff: User, party_id: int, at: dt.datetime, outcome: str) -> None:
    """A monthly phone call, as the worklist's call log records it."""
    OutreachAttempt.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        purpose="monthly",
        program="ccm",
        at=at,
        channel="phone",
        outcome=outcome,
        by=staff,
        party_id=party_id,
    )


def _happen(event: world.EventSpec, patient: Patient, start: dt.datetime, staff: User, gone: dict, months_ago: int):
    """An event of the month (world.EVENTS), recorded through the service a person would use, dated in the month:
    the patient's later months carry no CCM work once she has left the program."""
    first_day = timezone.localtime(start, timezone=start.tzinfo).date()
    if event.kind == "billed_elsewhere":
        record_known_service(
            patient=patient,
            code="99490",
            date_of_service=first_day + dt.timedelta(days=9),
            practitioner_npi=world.ELSEWHERE_NPI,
            source=event.detail,
            by=staff,
        )
    elif event.kind == "medicare_advantage":
        record_coverage(
            patient=patient, payer="medicare_advantage", start=first_day, end=None, source=event.detail, by=staff
        )
        _disenroll(patient, start + dt.timedelta(days=20, hours=9), event.detail, staff)
        gone[patient.id] = months_ago
    elif event.kind == "died":
        record_death(patient=patient, on=first_day + dt.timedelta(days=11), source=event.detail, by=staff)
        _disenroll(patient, start + dt.timedelta(days=13, hours=9), event.detail, staff)
        gone[patient.id] = months_ago
    elif event.kind == "revoked":
        consent = Consent.objects.filter(patient=patient, program="ccm").order_by("-documented_at").first()
        revoked_at = start + dt.timedelta(days=8, hours=10)
        revoke_consent(consent=consent, revoked_at=revoked_at, reason=event.detail, by=staff)
        gone[patient.id] = months_ago
    else:
        raise ValueError(f"unknown demo event {event.kind!r}")


def _disenroll(patient: Patient, at: dt.datetime, reason: str, by: User) -> None:
    """The care manager ends the patient's CCM enrollment, dated when it happened (the service stamps now)."""
    enrollment = change_status(patient=patient, program="ccm", to="disenrolled", by=by, reason=reason)
    EnrollmentEvent.objects.filter(pk=enrollment.events.latest("id").pk).update(at=at)
    Enrollment.objects.filter(pk=enrollment.pk).update(status_since=at)


def _resolve_holds(practice: Organization, month: str, resolved: dict[int, str], by: User) -> None:
    """The biller's review of a closed month: each held patient-month not billed, for the reason its event gives
    (`resolved`: patient id -> reason) or the one its finding calls for (world.HOLD_RESOLUTIONS); a hold with
    neither stays in the review queue."""
    for decision in PatientMonthDecision.objects.filter(practice=practice, month=month, review="needs_review"):
        reason = resolved.get(decision.patient_id) or next(
            (world.HOLD_RESOLUTIONS[r["code"]] for r in decision.reasons if r["code"] in world.HOLD_RESOLUTIONS), ""
        )
        if reason:
            override(decision=decision, action="do_not_bill", reason=reason, by=by)


def _spread(count: int, share: float, offset: int) -> set[int]:
    """`round(share * count)` indexes out of range(count), rotated by offset so patients take turns."""
    k = round(share * count)
    return {(offset + j) % count for j in range(k)}


def seed_history(users: dict[str, User]) -> None:
    """Seed every cohort once (a practice that already has recorded time is left as it is)."""
    admin = users[world.ADMIN_USERNAME]
    for spec in world.COHORTS:
        practice = Organization.objects.get(slug=spec.practice)
        if TimeEntry.objects.filter(practice=practice, patient__mrn__startswith=f"G{spec.seed}-").exists():
            continue
        _seed_cohort(practice, spec, users, admin)


def _seed_cohort(practice: Organization, spec: world.CohortSpec, users: dict[str, User], admin: User) -> None:
    practitioner = Practitioner.objects.get(npi=spec.practitioner_npi)
    patients = _cohort_patients(practice, spec, admin)
    months = world.HISTORY_MONTHS
    zone = practice.time_zone
    # Most patients were active before the window; a few joined during its first months (the funnel moves).
    joined = {}
    for j, patient in enumerate(patients):
        joined[patient.id] = months + 1 if j % 4 else (months - (j // 4) % 2)
        first_staff = (spec.practice_staff or spec.partner_staff)[j % len(spec.practice_staff or spec.partner_staff)]
        started = _month_start(joined[patient.id], zone) + dt.timedelta(days=3, hours=15)
        make_ready(patient, practitioner, users[first_staff], started)
    # The care team today: the current owner of the monthly work designates its care managers; a few patients
    # are left waiting for one, so the workspace has assignments to make.
    today_owner = (owners_in_force([practice.id], timezone.localdate()).get(practice.id) or {}).get(
        Function.MONTHLY_OUTREACH, practice.id
    )
    team = spec.partner_staff if today_owner != practice.id else spec.practice_staff
    for j, patient in enumerate(patients):
        if team and j % 5 != 4:
            Patient.objects.filter(pk=patient.pk).update(care_manager=users[team[j % len(team)]])
    now = timezone.now()
    cutoff = now - dt.timedelta(minutes=30)  # the month in progress: only work already done
    events = [e for e in world.EVENTS if e.practice == spec.practice]
    minute = 7 * (spec.seed % 7) if spec.minute is None else spec.minute
    gone: dict[int, int] = {}  # patient -> the last history month (months ago) with CCM work
    for month_index in range(months + 1):
        months_ago = months - month_index
        i = min(month_index, months - 1)  # the month in progress continues the latest month's profile
        start = _month_start(months_ago, zone)
        first_day = timezone.localtime(start, timezone=start.tzinfo).date()
        owner_id = (owners_in_force([practice.id], first_day).get(practice.id) or {}).get(
            Function.MONTHLY_OUTREACH, practice.id
        )
        partner_month = owner_id != practice.id
        staff_names = spec.partner_staff if partner_month else spec.practice_staff
        profile = world.PROFILES[spec.partner_profile if partner_month else spec.practice_profile]
        party_id = owner_id
        active = [p for p in patients if joined[p.id] >= months_ago and gone.get(p.id, -1) < months_ago]
        happening = {e.patient: e for e in events if e.months_ago == months_ago}
        for index, event in happening.items():
            _happen(event, patients[index], start, users[staff_names[0]], gone, months_ago)
        n = len(active)
        touched = _spread(n, profile["touched"][i], i)
        billable = {x for x in sorted(touched, key=lambda x: (x - i) % n)[: round(profile["billable"][i] * n)]}
        live_share = profile["live"][i]
        carry = 0.0
        mean = profile["completeness"][i]
        reached = [x for x in touched if x not in billable]
        billed = 89 if mean < 89 else mean
        other_target = (
            max(22.0, (mean * len(touched) - billed * len(billable & set(touched))) / len(reached)) if reached else mean
        )
        entries = 0
        attempts_total = round(len(touched) / profile["reach"][i]) if touched else 2
        failed = max(0, attempts_total - len(touched))
        for j, patient in enumerate(active):
            staff = users[staff_names[j % len(staff_names)]]
            # One slot per patient and cohort, so no staff member's minutes overlap across practices.
            day = start + dt.timedelta(days=2 + (j * 2) % 18, hours=9 + j % 10, minutes=minute)
            tries = failed // n + (1 if j < failed % n else 0)
            for t in range(tries):
                if day - dt.timedelta(days=1 + t, hours=2) > cutoff:
                    continue
                _call(patient, staff, party_id, day - dt.timedelta(days=1 + t, hours=2), "no_answer")
            if j not in touched or day > cutoff or (patient.deceased_on and day.date() >= patient.deceased_on):
                continue
            _call(patient, staff, party_id, day, "reached")
            # A billable month is one call long enough for 99490, documented by one note (signed: R-DOC-1); other
            # touched patients get a short call.
            parts = (26,) if j in billable else (8,)
            for k, minutes in enumerate(parts):
                begin = day + dt.timedelta(days=7 * k, minutes=5)
                end = begin + dt.timedelta(minutes=minutes + (j % 3))
                if end > cutoff:
                    break
                live = int((entries + 1) * live_share) > int(entries * live_share)
                entries += 1
                if live:
                    entry = create_entry(
                        patient=patient,
                        staff=staff,
                        program="ccm",
                        activity="care_coordination_call",
                        segments=[(begin, end)],
                        source="timer",
                        entered_at=end,
                    )
                else:
                    lag = dt.timedelta(hours=profile["lag_hours"][i])
                    entry = add_manual_entry(
                        patient=patient,
                        staff=staff,
                        program="ccm",
                        activity="care_coordination_call",
                        start=begin,
                        minutes=int((end - begin).total_seconds() // 60),
                        reason="Entered from the call log",
                        now=min(end + lag, now),
                    )
                if k == 0:
                    # A billed month's note is signed, so it has every required field (89 or more); the other
                    # notes of the month carry the rest of the profile's mean completeness.
                    if j in billable and mean < 89:
                        level = 89
                    else:
                        target = (mean if j in billable else other_target) + carry
                        level = min(NOTE_LEVELS, key=lambda v: abs(v - target))
                        level = max(level, 89) if j in billable else level
                        carry = target - level
                # Every entry of a month that bills is documented by a signed note (R-DOC-1: the month would be
                # held otherwise); the others keep the profile's drafts, which hold nothing billable.
                signed = level >= 89
                note = save_note(
                    patient=patient,
                    author=staff,
                    program="ccm",
                    activity="care_coordination_call",
                    fields=_fields_for(level),
                    party_id=party_id,
                    time_entry=entry,
                    sign=signed,
                )
                Note.objects.filter(pk=note.pk).update(created_at=end, signed_at=end if signed else None)
        if months_ago >= 2:
            month = f"{first_day:%Y-%m}"
            biller = admin
            close_month(practice=practice, month=month, by=biller)
            resolved = {patients[e.patient].id: e.resolution for e in happening.values() if e.resolution}
            if spec.reviewed:
                _resolve_holds(practice, month, resolved, biller)
            try:
                approve_and_close(practice=practice, month=month, by=biller)
            except Conflict:  # something awaits review: left in the biller's queue
                continue
            if months_ago == 2 and billable and spec.practice == world.CEDAR:
                # The slipping practice: a call found in a paper log after the close goes to the adjustment
                # queue, where its biller sees the add-on unit it would earn; the claim as closed does not change.
                j = min(billable)
                add_manual_entry(
                    patient=active[j],
                    staff=users[staff_names[j % len(staff_names)]],
                    program="ccm",
                    activity="care_coordination_call",
                    start=start + dt.timedelta(days=27, hours=17, minutes=7 * (spec.seed % 7)),
                    minutes=15,
                    reason="Call found in the paper log after the month was closed",
                    now=now,
                )
                # And a draft note of that month, finished and signed only now: queued too (it changes no code,
                # but the claim went out without it).
                draft = (
                    Note.objects.filter(
                        practice=practice,
                        signed_at__isnull=True,
                        time_entry__start__gte=start,
                        time_entry__start__lt=_month_start(months_ago - 1, zone),
                    )
                    .exclude(patient=active[j])
                    .select_related("author", "time_entry")
                    .order_by("id")
                    .first()
                )
                if draft is not None:
                    save_note(
                        patient=draft.patient,
                        author=draft.author,
                        program="ccm",
                        activity=draft.activity,
                        fields=_fields_for(100),
                        note=draft,
                        sign=True,
                    )
