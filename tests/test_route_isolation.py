"""No route returns or changes another tenant's patient data. Every route is taken from the URL resolver, so a
new route cannot escape: a route whose parameters this test cannot fill fails the test until it is taught.
Hypothesis picks the attacker, the victim practice's objects and the method."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories.pages import fill, routes
from tests.factories.session import mfa_done

from ccmops.administration.org_settings import PRACTICE_SETTINGS
from ccmops.assessment.models import ModelFitAssessment
from ccmops.billing.models import ClaimLine, KnownService, PatientMonthDecision
from ccmops.careplans.models import CarePlan, CarePlanVersion
from ccmops.demo import world
from ccmops.documentation.models import Note
from ccmops.enrollment.models import Consent, Enrollment, EnrollmentEvent, OutreachAttempt
from ccmops.interop.models import ImportRun
from ccmops.organizations.models import Engagement, Membership, Organization, Practitioner
from ccmops.patients.details import FIELDS as DETAIL_FIELDS
from ccmops.patients.models import CoverageRecord, Patient, PatientCondition
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
