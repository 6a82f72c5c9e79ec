"""No route returns or changes another tenant's patient data. Every route is taken from the URL resolver, so a
new route cannot escape: a route whose parameters this test cannot fill fails the test until it is taught.
Hypothesis picks the attacker, the victim practice's objects and the method."""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import mfa_done

from ccmops.administration.org_settings import PRACTICE_SETTINGS
from ccmops.assessment.models import ModelFitAssessment
from ccmops.assessment.services import run as run_assessment
from ccmops.billing.evaluation import close_month
from ccmops.billing.models import ClaimLine, KnownService, PatientMonthDecision
from ccmops.careplans.models import CarePlan, CarePlanVersion
from ccmops.demo import world
from ccmops.demo.seed import seed_demo
from ccmops.documentation.models import Note
from ccmops.enrollment.models import Consent, Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.interop.models import ImportRun
from ccmops.organizations.models import Engagement, Membership, Organization, Practitioner, User
from ccmops.patients.details import FIELDS as DETAIL_FIELDS
from ccmops.patients.models import CoverageRecord, Patient, PatientCondition, QmbPeriod
from ccmops.timetracking.models import TimeEntry, Timer
from ccmops.worklist.models import CareTransition, FollowUpTask

SETTING_FIELDS = [s.name for s in PRACTICE_SETTINGS]
MODELS = [
    Patient,
    Enrollment,
    EnrollmentEvent,
    OutreachAttempt,
    Consent,
    CarePlan,
    CarePlanVersion,
    TimeEntry,
    Timer,
    Note,
    CareTransition,
    FollowUpTask,
    PatientMonthDecision,
    ClaimLine,
    ImportRun,
    ModelFitAssessment,
    KnownService,
]
QUESTIONNAIRE = {
    "panel_patients": 900,
    "medicare_share": 0.4,
    "expected_enrollment_rate": 0.4,
    "discipline": dict.fromkeys(
        ("dedicated_roles", "documentation_habits", "time_tracking_habits", "leadership_focus"), 3
    ),
    "desire_for_control": 3,
    "pricing": {
        "managed_per_patient_month": 45,
        "hybrid_monthly_per_patient_month": 32,
        "hybrid_outreach_per_patient_month": 24,
    },
    "runs": 20,
}
# attackers and the practice they must not reach
ATTACKERS = [
    ("nora.rn", world.RIVERBEND),
    ("olivia.owner", world.RIVERBEND),
    ("ben.biller", world.RIVERBEND),
    ("carl.compliance", world.RIVERBEND),
    ("dr.patel", world.RIVERBEND),
    ("pat.rn", world.MAPLE),
    ("lee.lpn", world.MAPLE),
    ("sam.lead", world.MAPLE),
    ("rick.biller", world.MAPLE),
]


def routes():
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return [r for r in out if not r.startswith(("admin/", "static/"))]


def fill(route: str, ids: dict) -> str | None:
    import re

    def sub(m):
        name = m.group(2)
        if name not in ids:
            raise KeyError(f"route {route!r}: teach the isolation test a value for {name!r}")
        return str(ids[name])

    path = re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)
    return "/" + path.lstrip("^").rstrip("$")


@pytest.fixture
def world_ids(db):
    """Both demo practices with a running program and last month closed; per practice, the ids to attack with."""
    seed_demo(with_activity=True)
    # A user with memberships in several organizations (security review, item 2): Riverbend's biller is also a
    # care manager at Summit, which serves Riverbend and Lakeside — and still sees nothing of Maple Street.
    Membership.objects.get_or_create(
        user=User.objects.get(username="rick.biller"),
        organization=Organization.objects.get(slug=world.SUMMIT),
        role="care_manager",
        defaults={"is_clinical_staff": True},
    )
    ids = {}
    first = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    month = f"{first.year:04d}-{first.month:02d}"
    for slug in (world.MAPLE, world.RIVERBEND):
        practice = Organization.objects.get(slug=slug)
        close_month(practice=practice, month=month)
        patient = Patient.objects.filter(practice=practice, consents__isnull=False).first()
        ids[slug] = {
            "patient_id": patient.id,
            "practice_id": practice.id,
            "month": month,
            "kind": "837p",
            "role": "care_manager",
            "consent_id": Consent.objects.filter(patient=patient).first().id,
            "plan_id": CarePlan.objects.filter(patient=patient).first().id,
            "decision_id": PatientMonthDecision.objects.filter(patient=patient).first().id,
            "note_id": 0,
            "task_id": 0,
            "run_id": ImportRun.objects.filter(practice=practice).first().id,
            "timer_id": 0,
            "entry_id": TimeEntry.objects.filter(practice=practice).first().id,
            "family": patient.family_name,
            "mrn": patient.mrn,
            "assessment_id": run_assessment(practice=practice, questionnaire=QUESTIONNAIRE, by=None).id,
            "membership_id": practice.memberships.first().id,
            "user_id": practice.memberships.filter(role="care_manager").first().user_id,
            "practitioner_id": practice.practitioners.first().id,
            "engagement_id": engagement_for(practice).id,
            "control_number": 1,  # no 837P yet: the practice check comes first
            "period_id": QmbPeriod.objects.create(
                practice=practice,
                patient=patient,
                start=dt.date(2026, 1, 1),
                source="test",
                recorded_at=dt.datetime.now(dt.UTC),
            ).id,
            "record_id": CoverageRecord.objects.create(
                practice=practice,
                patient=patient,
                source_id="manual:isolation-test",
                payer="medicare",
                source="test",
            ).id,
            "condition_id": patient.conditions.first().id,
            "service_id": KnownService.objects.create(
                practice=practice,
                patient=patient,
                code="99495",
                date_of_service=dt.date(2026, 1, 5),
                same_group=False,
                source="test",
                recorded_at=dt.datetime.now(dt.UTC),
            ).id,
        }
    return ids


def engagement_for(practice):
    """The practice's engagement (Riverbend's with Summit; for Maple, one with a partner no attacker works for)."""
    found = Engagement.objects.filter(practice=practice).first()
    if found is None:
        harbor = Organization.objects.create(slug="harbor-partners", kind="partner", name="Harbor Partners")
        found = Engagement.objects.create(practice=practice, partner=harbor, starts_on=dt.date(2027, 1, 1))
    return found


def snapshot(practice_id):
    counts = {m.__name__: m.objects.filter(**({"practice_id": practice_id})).count() for m in MODELS}
    # changes that keep the row count: a voided entry, a withdrawn service
    # coverage, date of death and confirmed diagnosis codes: nobody of another tenant records or removes them
    counts["coverage"] = sorted(
        CoverageRecord.objects.filter(practice_id=practice_id).values_list("id", "payer", "start", "end")
    )
    counts["deceased"] = sorted(Patient.objects.filter(practice_id=practice_id).values_list("id", "deceased_on"))
    counts["confirmed"] = sorted(
        PatientCondition.objects.filter(practice_id=practice_id).values_list("id", "confirmed_code")
    )
    counts["voided"] = TimeEntry.objects.filter(practice_id=practice_id, voided_at__isnull=False).count()
    counts["withdrawn"] = KnownService.objects.filter(practice_id=practice_id, withdrawn_at__isnull=False).count()
    # the practice's people: nobody of another tenant takes them off the staff or resets their password
    counts["staff"] = sorted(
        Membership.objects.filter(organization_id=practice_id).values_list(
            "user_id", "role", "active", "user__is_active", "user__password"
        )
    )
    # the patients' contact details and MBIs: nobody of another tenant rewrites them
    counts["patient_details"] = sorted(
        Patient.objects.filter(practice_id=practice_id).values_list("id", *DETAIL_FIELDS)
    )
    # the practice's engagements: nobody of another tenant engages a partner for it or ends one
    counts["engagements"] = sorted(
        Engagement.objects.filter(practice_id=practice_id).values_list("partner_id", "starts_on", "ends_on")
    )
    # the practice's settings and practitioners: nobody of another tenant rewrites its claim identity
    counts["settings"] = list(Organization.objects.filter(pk=practice_id).values_list(*SETTING_FIELDS))
    counts["practitioners"] = sorted(
        Practitioner.objects.filter(practice_id=practice_id).values_list(
            "npi", "first_name", "last_name", "credential", "active"
        )
    )
    return counts


def test_every_route_can_be_filled(world_ids):
    for r in routes():
        assert fill(r, world_ids[world.MAPLE]) is not None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attacker=st.sampled_from(ATTACKERS), route=st.sampled_from(routes()), method=st.sampled_from(["get", "post"]))
def test_no_route_leaks_or_changes_another_tenant(world_ids, client, attacker, route, method):
    username, victim_slug = attacker
    victim = world_ids[victim_slug]
    client.force_login(__import__("ccmops.organizations.models", fromlist=["User"]).User.objects.get(username=username))
    mfa_done(client)  # past the second factor, so every route is really exercised
    before = snapshot(victim["practice_id"])
    path = fill(route, victim)
    response = getattr(client, method)(
        path, {} if method == "get" else "{}", **({} if method == "get" else {"content_type": "application/json"})
    )
    body = (
        response.content.decode("utf-8", "replace")
        if response.get("Content-Type", "").startswith(("text", "application/json"))
        else ""
    )
    if response.status_code == 200:
        assert victim["mrn"] not in body, (username, path)
        assert f"{victim['family']}," not in body and f'"{victim["family"]}' not in body, (username, path)
    assert snapshot(victim["practice_id"]) == before, (username, method, path)
