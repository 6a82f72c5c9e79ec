"""Everything the patient page shows, gathered in one place (read-only)."""

from __future__ import annotations

from django.utils import timezone

from ccmops.careplans.models import CarePlan
from ccmops.enrollment.activation import readiness
from ccmops.enrollment.consents import consent_status
from ccmops.enrollment.forms import OutreachForm, StatusForm
from ccmops.enrollment.models import Consent, Enrollment, EnrollmentEvent, OutreachAttempt

PROGRAM_LABELS = {"ccm": "CCM", "pcm": "PCM", "apcm": "APCM"}


def chart(patient) -> dict:
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
    return {
        "programs": rows,
        "events": EnrollmentEvent.objects.filter(enrollment__patient=patient).select_related(
            "by", "party", "enrollment"
        )[:30],
        "attempts": OutreachAttempt.objects.filter(patient=patient).select_related("by")[:20],
        "consents": Consent.objects.filter(patient=patient).select_related("practitioner", "revocation"),
        "visits": patient.encounters.exclude(visit_kind="").order_by("-start")[:10],
        "outreach_form": OutreachForm(initial={"program": programs[0]}),
        "status_form": StatusForm(initial={"program": programs[0]}),
        "today": timezone.localdate(),
    }
