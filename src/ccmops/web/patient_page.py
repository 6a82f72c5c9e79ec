"""Everything the patient page shows, gathered in one place (read-only): the interfaces layer, since the page
brings together every layer below it."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from ccmops.billing.month import standings
from ccmops.billing.wording import humanizer
from ccmops.careplans.models import CarePlan
from ccmops.clinical.instruments import INSTRUMENTS
from ccmops.clinical.models import AssessmentResponse
from ccmops.clinical.picture import MEASURES, TREND_MONTHS, clinical_picture, unit_words
from ccmops.documentation.assess import SUGGESTIONS
from ccmops.documentation.models import Note
from ccmops.enrollment.activation import readiness
from ccmops.enrollment.consent_status import consent_status
from ccmops.enrollment.forms import OutreachForm, StatusForm
from ccmops.enrollment.models import Consent, Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.months.month import Month
from ccmops.outbox.models import Outgoing
from ccmops.platform.charts import trend_chart
from ccmops.timetracking.models import ACTIVITIES
from ccmops.timetracking.queries import time_months
from ccmops.worklist.models import WEEKDAYS, CareTransition, ContactWindow, FollowUpTask, ScheduledContact

PROGRAM_LABELS = {"ccm": "CCM", "pcm": "PCM", "apcm": "APCM"}


def chart(patient, user=None, *, earlier: str | None = None) -> dict:
    """`earlier`: a month (YYYY-MM) before last month whose time entries to show as well."""
    enrollments = {e.program: e for e in Enrollment.objects.filter(patient=patient)}
    programs = list(enrollments) or ["ccm"]
    plans = {p.program: p for p in CarePlan.objects.filter(patient=patient)}
    rows = []
    for program in programs:
        ready = readiness(patient, program)
        rows.append(
            {
                "program": program,
                "label": PROGRAM_LABELS[program],
                "enrollment": enrollments.get(program),
                "consent": consent_status(patient, program),
                "readiness": ready,
                "plan": plans.get(program),
            }
        )
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(patient.practice.time_zone))
    standing = standings([patient], {e.patient_id: e.program for e in enrollments.values()}, today)[patient.id]
    # What would keep this month from billing, said with the entry's time, the note and the person (not the
    # contract's ids: te-…, note-…, user-…).
    warnings = [f.message for f in (standing.decision.findings if standing.decision else ()) if f.severity != "info"]
    say = humanizer(warnings, patient.practice.time_zone)
    return {
        "standing": standing,
        "warnings": [say(m) for m in warnings],
        "clinical": (picture := clinical_picture(patient, today)),
        "clinical_charts": _trend_charts(picture, today),
        "assessments": _assessments(patient),
        "assessment_choices": [(key, spec.title.split(" (")[0].split(":")[0]) for key, spec in INSTRUMENTS.items()],
        "time_months": _with_notes(time_months(patient, earlier=earlier)),
        "notes": _with_delivery(
            Note.objects.filter(patient=patient)
            .select_related("author", "time_entry")
            .prefetch_related("addenda__author")[:15]
        ),
        "tasks": FollowUpTask.objects.filter(patient=patient, status="open"),
        "transitions": CareTransition.objects.filter(patient=patient)[:5],
        "next_call": ScheduledContact.objects.filter(patient=patient, status="scheduled").first(),
        "windows": ContactWindow.objects.filter(patient=patient),
        "activities": ACTIVITIES,
        "transition_kinds": CareTransition.KINDS,
        "outcomes": OutreachAttempt.OUTCOMES,
        "channels": OutreachAttempt.CHANNELS,
        "weekdays": WEEKDAYS,
        "programs": rows,
        "events": EnrollmentEvent.objects.filter(enrollment__patient=patient).select_related(
            "by", "party", "enrollment"
        )[:30],
        "attempts": OutreachAttempt.objects.filter(patient=patient).select_related("by")[:20],
        "consents": Consent.objects.filter(patient=patient).select_related("practitioner", "revocation"),
        "visits": patient.encounters.exclude(visit_kind="").order_by("-start")[:10],
        # two forms on one page: their field ids are prefixed apart (the names posted stay the same)
        "outreach_form": OutreachForm(initial={"program": programs[0]}, auto_id="outreach_%s"),
        "status_form": StatusForm(initial={"program": programs[0]}, auto_id="status_%s"),
        "today": today,
    }


def _with_notes(months):
    """Each listed entry with the signed note that documents it (`signed_note_id`, None when none does yet): the
    page offers "Write note" only for entries still undocumented."""
    ids = [e.id for _month, _label, entries in months for e in entries]
    signed = dict(
        Note.objects.filter(time_entry_id__in=ids, signed_at__isnull=False)
        .order_by("-signed_at")
        .values_list("time_entry_id", "id")
    )
    for _month, _label, entries in months:
        for e in entries:
            e.signed_note_id = signed.get(e.id)
    return months


# The trend charts of the clinical picture: (title, the measures drawn, the usual range shaded).
TREND_CHARTS = (
    ("Blood pressure (mm[Hg])", ("systolic", "diastolic"), (60, 139)),
    ("Hemoglobin A1c (%)", ("a1c",), (None, 6.9)),
    ("Weight (kg)", ("weight",), None),
    ("eGFR (mL/min/{1.73_m2})", ("egfr",), (60, None)),
    ("LDL cholesterol (mg/dL)", ("ldl",), (None, 189)),
)


def _trend_charts(picture, today) -> list[dict]:
    """The charts of the measures with two readings or more in the TREND_MONTHS months to the latest reading
    (today's window when there are recent readings; an older record shows its own last two years, and says so
    by its dates), each with its points as text (the chart's text alternative)."""
    labels = {m.key: m.label for m in MEASURES}
    out = []
    for title, keys, band in TREND_CHARTS:
        latest = max((d for k in keys for d, _ in picture.trends.get(k, [])), default=None)
        if latest is None:
            continue
        end = today if (today - latest).days <= 31 * 3 else latest
        start = Month.of(end).back(TREND_MONTHS).first_day
        # one series: its label is the chart's title; more: each named by its first word (Systolic, Diastolic)
        series = [
            (labels[k] if len(keys) == 1 else labels[k].split()[0], [(d, v) for d, v in picture.trends.get(k, [])])
            for k in keys
        ]
        series = [(name, [(d, v) for d, v in points if start <= d <= end]) for name, points in series]
        if not any(len(points) >= 2 for _, points in series):
            continue
        unit = unit_words(title.split("(")[-1].rstrip(")"))
        svg = trend_chart(title.split(" (")[0] + f" ({unit})", series, start=start, end=end, band=band, unit=unit)
        text = [(name, [f"{d:%Y-%m-%d} {float(v):g}" for d, v in points]) for name, points in series if points]
        out.append({"title": title, "svg": svg, "points": text})
    return out


def _assessments(patient) -> list[dict]:
    """Each instrument given: its latest result and the earlier scores (its trend), newest first."""
    by_instrument: dict[str, list] = {}
    for a in AssessmentResponse.objects.filter(patient=patient).select_related("performed_by")[:60]:
        by_instrument.setdefault(a.instrument, []).append(a)

    def said(a) -> str:  # a domain-scored screen (social needs) is read by its needs, not a number
        by_domain = any(item.domain for item in INSTRUMENTS[a.instrument].items)
        return a.band if by_domain else f"{a.score} — {a.band}"

    return [
        {
            "title": INSTRUMENTS[key].title,
            "latest": given[0],
            "said": said(given[0]),
            "earlier": [(said(a).split(" — ")[0], a) for a in given[1:6]],
            "suggestion": SUGGESTIONS.get(key, ""),
        }
        for key, given in by_instrument.items()
        if key in INSTRUMENTS
    ]


def _with_delivery(notes) -> list:
    """Each note with what the EHR has of it (`ehr`: its outbox row, None when the practice sends nothing)."""
    notes = list(notes)
    rows = {o.object_id: o for o in Outgoing.objects.filter(kind="note", object_id__in=[n.id for n in notes])}
    for n in notes:
        n.ehr = rows.get(n.id)  # a note's id is its own: one row per note
    return notes
