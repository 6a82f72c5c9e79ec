"""Run a model-fit assessment for a practice (optionally from its measured figures) and apply its model."""

from __future__ import annotations

import datetime as dt
import statistics
import zoneinfo

from django.db import transaction
from django.utils import timezone

from ccmops.access.operating_model import PARTNER, PRESETS, Function, Preset
from ccmops.access.policy import OrgKind
from ccmops.assessment.fit import assess
from ccmops.assessment.models import ModelFitAssessment
from ccmops.assessment.questionnaire import QuestionnaireError, parse_questionnaire
from ccmops.compliance.audit import record_audit
from ccmops.compliance.models import AuditAction
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Engagement, Membership, Organization, ResponsibilityMatrix
from ccmops.organizations.services import record_matrix_version
from ccmops.patients.models import Patient, ScreeningResult
from ccmops.reporting.metrics import program_health
from ccmops.rules.calendar import month_window
from ccmops.timetracking.models import TimeEntry

DEFAULT_COST_PER_HOUR = 38.0  # loaded cost of an RN/LPN hour when the practice has not said (questionnaire default)


def run(*, practice: Organization, questionnaire: dict, by, source: str = "questionnaire") -> ModelFitAssessment:
    """Parse, assess and keep the result. Raises InvalidInput naming every bad field."""
    try:
        q = parse_questionnaire(questionnaire)
    except QuestionnaireError as exc:
        raise InvalidInput("questionnaire: " + "; ".join(exc.problems)) from None
    result = assess(q).as_dict()
    with transaction.atomic():
        record = ModelFitAssessment.objects.create(
            practice=practice,
            source=source,
            questionnaire=q.model_dump(mode="json"),
            result=result,
            recommended=result["recommended"],
            created_by=by,
            created_at=timezone.now(),
        )
        record_audit(
            action=AuditAction.CREATE,
            user=by,
            practice_id=practice.id,
            obj=record,
            detail={"recommended": result["recommended"], "source": source},
        )
    return record


MEASURED_MONTHS = 3  # completed months, each with work recorded, before measured figures replace assumptions


def measured_figures(practice: Organization, *, months: int = 6) -> dict:
    """What the practice's own data says, for prefilling the questionnaire and for `measured`."""
    patients = Patient.objects.filter(practice=practice)
    total = patients.count()
    medicare = patients.filter(medicare_coverage__in=["medicare", "dual_eligible"]).count()
    eligible = ScreeningResult.objects.filter(practice=practice, ccm__in=["eligible", "review", "enrolled"]).count()
    staff = [
        {
            "role": m.credential or "staff",
            "hours_per_week": float(m.committed_hours_per_week),
            "cost_per_hour": DEFAULT_COST_PER_HOUR,
        }
        for m in Membership.objects.filter(
            organization=practice, active=True, is_clinical_staff=True, committed_hours_per_week__gt=0
        )
    ]
    out: dict = {"panel_patients": total, "staff": staff}
    if total:
        out["medicare_share"] = round(medicare / total, 3) if medicare else None
    if eligible:
        out["eligible_patients"] = eligible
    health = program_health(practice, months=months)
    done = [m for m in health.completed if m.enrolled]
    latest = done[-MEASURED_MONTHS:]
    idle = [m.month for m in latest if not (m.live_seconds or m.late_seconds)]
    if len(done) < MEASURED_MONTHS:
        out["measured_withheld"] = (
            f"Measured figures are not used: {len(done)} completed month{'s' if len(done) != 1 else ''} with enrolled "
            f"patients on record, {MEASURED_MONTHS} needed. The assessment uses the answers below."
        )
    elif idle:
        out["measured_withheld"] = (
            f"Measured figures are not used: no work is recorded in {', '.join(idle)} (of the latest "
            f"{MEASURED_MONTHS} completed months) — time kept elsewhere, or no program that month, cannot be told "
            "apart. The assessment uses the answers below; record the work in ccmops and they will count."
        )
    else:
        last = done[-1].month
        owner = next((p for p in health.parties if "monthly_outreach" in p.functions_by_month.get(last, [])), None)
        party = "partner" if owner and owner.organization.kind == OrgKind.PARTNER else "practice"
        window_start, window_end = _window(practice, done[0].month, last)
        seconds = sum(
            TimeEntry.objects.filter(
                practice=practice, start__gte=window_start, start__lt=window_end, voided_at__isnull=True
            ).values_list("seconds", flat=True)
        )
        patient_months = sum(m.enrolled for m in done)
        out["measured"] = {
            "months": len(done),
            "enrolled": done[-1].enrolled,
            # What execution is now: the mean of the latest three completed months (a drifting program's
            # older, better months would flatter it).
            "billable_share": round(statistics.fmean(m.billable_share for m in done[-3:]), 3),
            "hours_per_patient_month": round(seconds / 3600 / patient_months, 3) if seconds else None,
            "by_party": party,
        }
    return out


def _window(practice, first: str, last: str) -> tuple[dt.datetime, dt.datetime]:
    return month_window(first, practice.time_zone).start, month_window(last, practice.time_zone).end


def partner_for(practice: Organization, on: dt.date) -> Organization | None:
    """The partner with an engagement active on `on` (the one a partner model would go to)."""
    e = (
        Engagement.objects.filter(practice=practice, starts_on__lte=on)
        .exclude(ends_on__lt=on)
        .select_related("partner")
        .order_by("-starts_on")
        .first()
    )
    return e.partner if e else None


def apply(
    *, assessment: ModelFitAssessment, model: Preset, effective_from: dt.date, by, partner: Organization | None = None
) -> ResponsibilityMatrix:
    """Write a new responsibility-matrix version for the model, citing the assessment; history is kept."""
    if model.value not in assessment.result["models"]:
        raise InvalidInput(f"model: expected one of {', '.join(assessment.result['models'])}, got {model.value!r}")
    if effective_from < timezone.localdate():
        raise InvalidInput(f"effective_from: {effective_from} is in the past; a new model applies from today on.")
    needs = any(p == PARTNER for f, p in PRESETS[model].items() if f is not Function.CLINICAL_OVERSIGHT)
    if needs and partner is None:
        partner = partner_for(assessment.practice, effective_from)
        if partner is None:
            raise InvalidInput(
                f"partner: {model.label} gives functions to a partner, and no partner has an engagement with "
                f"{assessment.practice} active on {effective_from}; record the engagement first."
            )
    figures = assessment.result["models"][model.value]
    zone = zoneinfo.ZoneInfo(assessment.practice.time_zone)
    assessed_on = f"{timezone.localtime(assessment.created_at, zone):%Y-%m-%d}"  # the practice's day, not UTC's
    reason = (
        f"Applied from model-fit assessment #{assessment.id} of {assessed_on} "
        f"({'recommended' if model.value == assessment.recommended else 'chosen over the recommendation'}): "
        f"median {round(100 * figures['consistency']['p50'])} % of the planned program billed a month, "
        f"projected margin ${figures['margin']['p50']:,.0f}."
    )
    with transaction.atomic():
        matrix = record_matrix_version(
            practice=assessment.practice,
            preset=model,
            effective_from=effective_from,
            reason=reason,
            by=by,
            partner=partner,
        )
        ModelFitAssessment.objects.filter(pk=assessment.pk).update(applied_matrix=matrix)
    return matrix
