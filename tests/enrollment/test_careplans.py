"""Care plans: templates, versions, the validator that blocks approval, sign-off, sharing, reviews."""

import pytest
from tests.factories.enrollment import complete

from ccmops.careplans.models import CarePlanVersion
from ccmops.careplans.services import approve, create_from_template, mark_reviewed, record_share, save_version
from ccmops.errors import Conflict, InvalidInput, PermissionDenied
from ccmops.rules.careplan import missing_elements


def test_template_covers_the_patients_chronic_conditions(twyla, nora):
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    problems = [p["condition"] for p in plan.latest.content["problems"]]
    assert {"Hypertension", "Diabetes"} <= set(problems)
    assert any("HbA1c" in g["measure"] for g in plan.latest.content["goals"])
    assert plan.kind == "comprehensive" and plan.latest.status == "draft"


def test_incomplete_plan_cannot_be_approved_and_the_message_lists_what_is_missing(twyla, nora, dr_patel):
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    with pytest.raises(InvalidInput) as info:
        approve(version=plan.latest, by=dr_patel, expected_lock=plan.lock_version)
    message = str(info.value)
    for element in (
        "expected outcomes and prognosis",
        "community and social services",
        "coordination with other practitioners and providers",
    ):
        assert element in message
    assert CarePlanVersion.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (
            lambda c: c.update(goals=[{"description": "Feel better", "measure": "", "target": ""}]),
            "goal 1 needs a description, a measure and a target",
        ),
        (
            lambda c: c.update(interventions=[{"description": "Call monthly", "responsible": ""}]),
            "intervention 1 needs a description and who is responsible",
        ),
        (lambda c: c.update(review_schedule={"interval_months": 0}), "periodic review schedule"),
        (lambda c: c.update(problems=c["problems"][:1]), "two or more"),
        (lambda c: c.update(medication_management=""), "medication management: required"),
    ],
)
def test_validator_names_each_gap(twyla, nora, change, missing):
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    content = complete(plan.latest.content)
    assert missing_elements(content) == []
    change(content)
    assert any(missing in m for m in missing_elements(content))


def test_every_change_is_a_new_version_and_approval_is_by_the_billing_practitioner(twyla, nora, dr_patel):
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    v2 = save_version(
        plan=plan,
        content=complete(plan.latest.content),
        by=nora,
        expected_lock=plan.lock_version,
        change_summary="Outcomes and coordination",
    )
    plan.refresh_from_db()
    mark_reviewed(version=v2, by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    with pytest.raises(PermissionDenied, match="billing practitioner"):
        approve(version=v2, by=nora, expected_lock=plan.lock_version)
    approve(version=v2, by=dr_patel, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    assert [v.number for v in plan.versions.all()] == [1, 2]
    assert plan.in_force.number == 2 and plan.in_force.next_review_due is not None
    v3 = save_version(
        plan=plan, content={**v2.content, "prognosis": "Guarded"}, by=nora, expected_lock=plan.lock_version
    )
    plan.refresh_from_db()
    assert v3.status == "draft" and plan.in_force.number == 2  # the approved version stays in force


def test_two_editors_cannot_overwrite_each_other(twyla, nora, dr_patel):
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    stale = plan.lock_version
    save_version(plan=plan, content=complete(plan.latest.content), by=nora, expected_lock=stale)
    with pytest.raises(Conflict, match="changed since you opened it"):
        save_version(plan=plan, content=plan.latest.content, by=dr_patel, expected_lock=stale)
    assert plan.versions.count() == 2


def test_sharing_is_recorded_for_the_approved_version(approved_plan, nora):
    share = record_share(version=approved_plan.in_force, method="printed", by=nora)
    assert share.version.number == 2
    with pytest.raises(InvalidInput, match="approved plan"):
        record_share(version=approved_plan.versions.get(number=1), method="printed", by=nora)


def test_pcm_plan_is_disease_specific(twyla, nora):
    plan = create_from_template(patient=twyla, program="pcm", by=nora)
    assert plan.kind == "disease_specific" and len(plan.latest.content["problems"]) == 1
    assert missing_elements(complete(plan.latest.content), kind="disease_specific") == []


def test_care_plan_pages(login, twyla):
    client = login("nora.rn")
    client.post(f"/patients/{twyla.id}/care-plans/", {"program": "ccm"})
    plan = twyla.care_plans.get()
    page = client.get(f"/care-plans/{plan.id}/").content.decode()
    assert "Not yet approvable" in page and "expected outcomes and prognosis" in page
    approve_refused = (
        login("dr.patel")
        .post(f"/care-plans/{plan.id}/approve/", {"lock_version": plan.lock_version}, follow=True)
        .content.decode()
    )
    assert "cannot be approved until it is complete" in approve_refused
    pdf = client.get(f"/care-plans/{plan.id}/?format=pdf")
    assert pdf.content.startswith(b"%PDF")
