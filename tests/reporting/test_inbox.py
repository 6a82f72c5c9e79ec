"""The inbox: what waits for each person, linking to where it is done, and nothing from practices or functions
that are not theirs."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone
from tests.factories.billing import previous_month

from ccmops.billing.evaluation import close_month
from ccmops.careplans.models import CarePlan, CarePlanVersion
from ccmops.demo import world
from ccmops.documentation.models import Note
from ccmops.organizations.models import Organization, User
from ccmops.patients.models import Patient
from ccmops.patients.scope import scope_for
from ccmops.reporting.inbox import inbox
from ccmops.worklist.models import FollowUpTask
from ccmops.worklist.services import add_business_days


def items_of(username: str) -> list:
    user = User.objects.get(username=username)
    return inbox(scope_for(user), user)


def test_a_care_manager_finds_her_unsigned_notes_and_follow_ups_due_within_two_business_days(demo_activity, db, login):
    nora = User.objects.get(username="nora.rn")
    drafts = Note.objects.filter(author=nora, signed_at__isnull=True)
    patient = Patient.objects.filter(care_manager=nora).first()
    today = timezone.localdate(timezone=ZoneInfo(patient.practice.time_zone))  # the practice's day, not the server's
    soon = FollowUpTask.objects.create(
        practice=patient.practice, patient=patient, kind="other", title="Check the new inhaler",
        due_on=add_business_days(today, 2), created_at=timezone.now(),
    )  # fmt: skip
    FollowUpTask.objects.create(
        practice=patient.practice, patient=patient, kind="other", title="Annual review",
        due_on=add_business_days(today, 6), created_at=timezone.now(),
    )  # fmt: skip
    items = items_of("nora.rn")
    kinds = [i.kind for i in items]
    assert kinds.count("note_to_sign") == drafts.count() > 0
    follow_ups = [i for i in items if i.kind == "follow_up"]
    assert [i.title for i in follow_ups] == [f"{soon.title}: {patient}"]  # the one in six days waits
    assert follow_ups[0].url == f"/patients/{patient.id}/" and follow_ups[0].detail.startswith("due ")
    page = login("nora.rn").get("/inbox/").content.decode()
    assert "Check the new inhaler" in page and "Annual review" not in page
    home = login("nora.rn").get("/home/care_manager/").content.decode()
    assert 'id="inbox-title"' in home and f'<span class="badge" aria-label="{len(items)} waiting">' in home
    api = login("nora.rn").get("/api/inbox").json()
    assert api["count"] == len(items) and {i["kind"] for i in api["items"]} == set(kinds)


def test_the_billing_practitioner_finds_care_plans_awaiting_approval(demo_activity, db):
    patel = User.objects.get(username="dr.patel")
    patient = Patient.objects.filter(billing_practitioner__user=patel).first()
    plan = CarePlan.objects.create(practice=patient.practice, patient=patient, kind="comprehensive", program="pcm")
    CarePlanVersion.objects.create(
        practice=patient.practice, care_plan=plan, number=1, content={}, status="reviewed",
        created_by=User.objects.get(username="nora.rn"), created_at=timezone.now() - dt.timedelta(days=1),
    )  # fmt: skip
    waiting = [i for i in items_of("dr.patel") if i.kind == "care_plan_approval"]
    assert f"Care plan to approve: {patient}" in [i.title for i in waiting]
    assert f"/care-plans/{plan.id}/" in [i.url for i in waiting]
    assert not [i for i in items_of("ben.biller") if i.kind == "care_plan_approval"]  # not the biller's to sign


def test_a_biller_finds_the_month_to_review_and_nothing_of_another_practice(demo_activity, db):
    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    close_month(practice=maple, month=month)
    mine = [i for i in items_of("ben.biller") if i.kind in ("month_review", "month_approval")]
    assert [i.url for i in mine] == [f"/practices/{maple.id}/months/{month}/"]
    assert mine[0].practice == maple.name
    others = items_of("rick.biller")  # Riverbend's biller
    assert all(i.practice != maple.name for i in others)


def test_last_months_held_patients_come_from_its_evaluation(demo_activity, db):
    month, _ = previous_month()
    close_month(practice=Organization.objects.get(slug=world.MAPLE), month=month)
    held = [i.title for i in items_of("nora.rn") if i.kind == "held_patient" and month in i.detail]
    kohler, moen = Patient.objects.get(family_name="Kohler"), Patient.objects.get(family_name="Moen")
    assert held == [f"{kohler}: Minutes without a signed note: write or sign it"]  # Moen's month is ready
    assert str(moen) not in " ".join(held)


def test_the_billers_home_charts_last_months_patient_months_as_evaluated(demo_activity, db, client):
    from tests.factories.session import mfa_done

    month, _ = previous_month()
    maple = Organization.objects.get(slug=world.MAPLE)
    summary = close_month(practice=maple, month=month)
    assert summary.ready and summary.needs_review  # Kohler's draft note holds her month
    client.force_login(User.objects.get(username="ben.biller"))
    page = mfa_done(client).get("/home/biller/").content.decode()
    assert 'id="last-month-chart"' in page and f"as evaluated ({month})" in page
    assert f"{maple.name[:28]} · ready: {summary.ready}" in page
    assert f"{maple.name[:28]} · held for review: {summary.needs_review}" in page
