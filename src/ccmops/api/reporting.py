"""Program health, workspace capacity and the model-fit assessment over the API."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status

from ccmops.access.operating_model import Preset
from ccmops.access.policy import PROGRAM_LEADS, OrgKind
from ccmops.api.jobs import answer
from ccmops.assessment import services as assessment_services
from ccmops.assessment.fit import assess
from ccmops.assessment.jobs import start_assessment
from ccmops.assessment.models import ModelFitAssessment
from ccmops.assessment.questionnaire import Questionnaire, QuestionnaireError, parse_questionnaire
from ccmops.errors import NOT_FOUND, InvalidInput, NotFound, PermissionDenied
from ccmops.organizations.services import may_change_model
from ccmops.patients.scope import request_scope
from ccmops.reporting import daily
from ccmops.reporting.capacity import workspace
from ccmops.reporting.metrics import program_health
from ccmops.web.roles import memberships_of

router = Router(tags=["program health and assessment"])
LEADS = {"partner_ops_lead", "program_owner"}


@router.get("/practices/{practice_id}/health")
def health(request, practice_id: int, months: int = 6):
    """Month-over-month program health, by responsible party, with drift and the latest model change."""
    if not 2 <= months <= 24:
        raise InvalidInput(f"months: expected 2 to 24, got {months}")
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, PROGRAM_LEADS, "Program health (with revenue)")
    return program_health(practice, months=months).as_dict()


@router.get("/workspace")
def workspace_load(request, org: str = ""):
    """Capacity and hours behind for the caller's organization (partner ops lead or practice program owner)."""
    orgs = [m.organization for m in memberships_of(request.user) if m.role in LEADS]
    if not orgs:
        raise PermissionDenied("The workspace is for partner operations leads and practice program owners.")
    chosen = next((o for o in orgs if o.slug == org), None) if org else orgs[0]
    if chosen is None:
        raise NotFound(f"org: no organization {org!r} among yours")
    scope = request_scope(request)
    practices = list(scope.practices()) if chosen.kind == OrgKind.PARTNER else [scope.practice(chosen.id)]
    today = timezone.localdate()
    ws = workspace(chosen, practices, today)
    days, rows = daily.last_days(
        [s.membership.user for s in ws.staff], [p.id for p in practices], today, timezone.get_current_timezone()
    )
    return {
        **ws.as_dict(),
        "daily": {
            "days": [d.isoformat() for d in days],
            "staff": [{"username": r.user.username, "days": [d.as_dict() for d in r.days]} for r in rows],
        },
    }


QUESTIONNAIRE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "The model-fit questionnaire (docs/operating-models.md, Model-fit assessment)",
                    "required": sorted(name for name, f in Questionnaire.model_fields.items() if f.is_required()),
                }
            }
        },
    }
}


@router.post("/assessments/evaluate", openapi_extra=QUESTIONNAIRE_BODY)
def evaluate(request):
    """Assess a questionnaire (the JSON of `ccmops assess`; docs/operating-models.md, Model-fit assessment);
    nothing is stored."""
    try:
        data = json.loads((request.body or b"null").decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"body: not UTF-8 text (byte {exc.start}); send the questionnaire as JSON in UTF-8"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"body: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        return assess(parse_questionnaire(data)).as_dict()
    except QuestionnaireError as exc:
        raise InvalidInput("questionnaire: " + "; ".join(exc.problems)) from None


class AssessIn(Schema):
    questionnaire: dict
    use_measured: bool = True


@router.post("/practices/{practice_id}/assessments", response={201: dict, 202: dict, 403: dict, 404: dict, 422: dict})
def create_assessment(request, practice_id: int, body: AssessIn, wait_seconds: float = 10.0):
    """Assess for a practice and keep the run (a background job); with use_measured its own program-health figures
    calibrate it when its latest months carry work. 201 with the assessment when done within `wait_seconds`, 202
    with the job while it runs (its result names the assessment's id)."""
    scope = request_scope(request)
    practice = scope.practice(practice_id)
    scope.require_role(practice.id, PROGRAM_LEADS, "The model-fit assessment")
    job = start_assessment(
        practice=practice,
        questionnaire=dict(body.questionnaire),
        source="questionnaire",
        by=request.user,
        use_measured=body.use_measured,
    )

    def created(j) -> dict:
        record = ModelFitAssessment.objects.get(pk=j.result["assessment"])
        return {"id": record.id, **record.result, "job": str(j.id)}

    return answer(job, wait_seconds=wait_seconds, done=created, ok_status=201)


def _record(request, assessment_id: int) -> ModelFitAssessment:
    record = ModelFitAssessment.objects.select_related("practice").filter(id=assessment_id).first()
    if record is None or not request_scope(request).decision.can_view(record.practice_id):
        raise NotFound(NOT_FOUND)
    return record


@router.get("/assessments/{assessment_id}")
def get_assessment(request, assessment_id: int):
    record = _record(request, assessment_id)
    return {"id": record.id, "questionnaire": record.questionnaire, **record.result}


class ApplyIn(Schema):
    model: str
    effective_from: dt.date


@router.post("/assessments/{assessment_id}/apply", response={201: dict})
def apply_assessment(request, assessment_id: int, body: ApplyIn):
    """Write a new responsibility-matrix version for the model (program owner only)."""
    record = _record(request, assessment_id)
    if not may_change_model(request.user, record.practice):
        raise PermissionDenied("Only the practice's program owner changes its operating model.")
    try:
        model = Preset(body.model)
    except ValueError:
        raise InvalidInput(f"model: expected one of {', '.join(record.result['models'])}") from None
    matrix = assessment_services.apply(
        assessment=record, model=model, effective_from=body.effective_from, by=request.user
    )
    return Status(
        201, {"version": matrix.version, "effective_from": matrix.effective_from.isoformat(), "preset": matrix.preset}
    )
