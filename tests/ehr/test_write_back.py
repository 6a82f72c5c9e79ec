"""Write-back to the practice's EHR (issue 34), against a local FHIR server standing in for the EHR
(`tests/ehr/fhir_server.py`): the practice connects (a key pair ccmops generates, its JWKS published, a token for
a signed assertion, the CapabilityStatement read); every signed note is owed to the EHR in the transaction that
signs it and delivered as a US Core DocumentReference exactly once — across a server error, a 429 with Retry-After,
a dropped connection and a lost answer — while what the EHR refuses waits for a person, with its words, until
resent."""

import base64
import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from ccmops.documentation.services import save_note
from ccmops.ehr.deliver import deliver
from ccmops.errors import Conflict
from ccmops.organizations.models import Organization, User
from ccmops.outbox.models import EhrConnection, Outgoing
from ccmops.patients.models import Patient

FIELDS = {"reason": "Monthly check-in", "patient_status": "Home BP 128-136, no dizziness",
          "actions": "Reviewed the log", "next_steps": "Call in four weeks"}  # fmt: skip


def sign(twyla, *, draft: bool = False):
    return save_note(patient=twyla, author=User.objects.get(username="nora.rn"), program="ccm",
                     activity="care_coordination_call", fields=FIELDS, sign=not draft)  # fmt: skip


def test_the_practice_connects_and_the_test_says_what_works(connected, ehr):
    maple, _, owner = connected
    connection = EhrConnection.objects.get(practice=maple)
    assert "PRIVATE KEY" not in connection.private_key  # encrypted at rest
    jwks = owner.get(f"/ehr/{maple.id}/jwks.json").json()
    assert jwks["keys"][0]["alg"] == "ES384" and "d" not in jwks["keys"][0]  # the public half only
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "The connection works." in page and "Access token issued" in page
    assert "Conditional create: supported" in page and "Patient search by identifier (MRN): supported" in page
    assert "Bulk Data export of a Group: supported" in page
    ehr.offers_bulk = False
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "Bulk Data export of a Group: not supported — choose search by patient for the sync" in page
    ehr.allowed_scopes.discard("system/DocumentReference.write")  # the EHR's administrator granted read only
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "Scope refused by the EHR: system/DocumentReference.write" in page
    ehr.capability_resources["DocumentReference"] = False
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "DocumentReference create: not supported" in page
    form = {"org": maple.slug, "action": "save", "base_url": "ehr.example", "client_id": "x", "note_type": "11506-3"}
    bad = owner.post("/settings/ehr/", form)
    assert bad.status_code == 422 and "base_url: expected the EHR&#x27;s https address" in bad.content.decode()


def test_a_signed_note_is_written_back_exactly_once(connected, ehr, login):
    maple, twyla, _ = connected
    draft = sign(twyla, draft=True)
    assert not Outgoing.objects.exists()  # a draft is not the chart's
    note = sign(twyla)
    row = Outgoing.objects.get()
    assert (row.kind, row.object_id, row.status) == ("note", note.id, "queued")
    assert deliver(maple.id) == {"delivered": 1, "retrying": 0, "parked": 0}
    (document,) = ehr.documents.values()
    assert document["subject"]["reference"] == "Patient/p-1" and document["type"]["coding"][0]["code"] == "11506-3"
    assert document["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": row.identifier}]
    text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
    assert "How the patient is doing: Home BP 128-136" in text and "By Nora Lindqvist" in text
    row.refresh_from_db()
    assert row.status == "sent" and row.location == "1"
    assert deliver(maple.id) == {"delivered": 0, "retrying": 0, "parked": 0} and len(ehr.documents) == 1
    save_note(patient=twyla, author=draft.author, program="ccm", activity="care_coordination_call", fields=FIELDS,
              note=draft, sign=True)  # fmt: skip
    deliver(maple.id)
    assert len(ehr.documents) == 2  # the draft, once signed
    page = login("nora.rn").get(f"/patients/{twyla.id}/").content.decode()
    assert page.count("in the EHR") >= 2


def test_an_event_rolled_back_owes_the_ehr_nothing(connected):
    _, twyla, _ = connected
    with pytest.raises(RuntimeError), transaction.atomic():
        sign(twyla)
        raise RuntimeError("the request failed after signing")
    assert not Outgoing.objects.exists()


@pytest.mark.parametrize(
    ("fault", "wait_at_least"),
    [(("status", 503, "maintenance"), 60), (("429", 600), 600), (("drop",), 60), (("drop-after",), 60)],
)
def test_faults_are_retried_until_delivered_once(connected, ehr, fault, wait_at_least):
    maple, twyla, _ = connected
    sign(twyla)
    ehr.faults.append(fault)
    now = timezone.now()
    assert deliver(maple.id, now=now) == {"delivered": 0, "retrying": 1, "parked": 0}
    row = Outgoing.objects.get()
    assert row.status == "queued" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at >= now + dt.timedelta(seconds=wait_at_least)
    assert deliver(maple.id, now=now) == {"delivered": 0, "retrying": 0, "parked": 0}  # not before its time
    assert deliver(maple.id, now=row.next_attempt_at) == {"delivered": 1, "retrying": 0, "parked": 0}
    assert len(ehr.documents) == 1  # a lost answer is found again by its identifier, never made twice


def test_what_the_ehr_refuses_waits_for_a_person_and_is_resent(connected, ehr, login):
    maple, twyla, owner = connected
    del ehr.patients["p-1"]  # the EHR does not know her MRN
    sign(twyla)
    assert deliver(maple.id) == {"delivered": 0, "retrying": 0, "parked": 1}
    row = Outgoing.objects.get()
    assert row.status == "parked" and f"the EHR has no patient with MRN {twyla.mrn}" in row.last_error
    page = owner.get(f"/practices/{maple.id}/integration/").content.decode()
    assert "Needs a person" in page and f"no patient with MRN {twyla.mrn}" in page
    ehr.patients["p-7"] = twyla.mrn  # fixed in the EHR
    ehr.faults.append(("status", 422, "DocumentReference.type: code 11506-3 is not allowed here"))
    owner.post(f"/practices/{maple.id}/integration/act/", {"action": "resend", "row": row.id})
    deliver(maple.id)
    row.refresh_from_db()
    assert row.status == "parked" and "code 11506-3 is not allowed here" in row.last_error  # the server's words
    owner.post(f"/practices/{maple.id}/integration/act/", {"action": "resend", "row": row.id})
    deliver(maple.id)
    row.refresh_from_db()
    assert row.status == "sent" and len(ehr.documents) == 1
    assert login("nora.rn").get(f"/practices/{maple.id}/integration/").status_code == 403  # program leads only


def test_a_refused_token_leaves_everything_waiting(connected, ehr):
    maple, twyla, _ = connected
    ehr.jwks.clear()  # the EHR lost ccmops's registration
    sign(twyla)
    with pytest.raises(Conflict, match=r"refused ccmops's authorization.*invalid_client"):
        deliver(maple.id)
    row = Outgoing.objects.get()
    assert row.status == "queued" and row.attempts == 0 and not ehr.documents


def test_a_practice_without_write_back_owes_nothing(demo):
    riverbend = Patient.objects.exclude(practice__slug="maple-street-family-medicine").first()
    sign(riverbend)
    assert not Outgoing.objects.exists()


def test_signing_starts_the_delivery_after_it_commits(connected, ehr, django_capture_on_commit_callbacks, settings):
    _, twyla, _ = connected
    settings.CCMOPS_JOBS_INLINE = True
    with django_capture_on_commit_callbacks(execute=True):
        sign(twyla)
    assert Outgoing.objects.get().status == "sent" and len(ehr.documents) == 1


def documents_of(ehr, code: str) -> list[tuple[dict, str]]:
    return [(d, base64.b64decode(d["content"][0]["attachment"]["data"]).decode()) for d in ehr.documents.values()
            if d["type"]["coding"][0]["code"] == code]  # fmt: skip


def test_consents_care_plans_and_revocations_go_to_the_chart_too(connected, ehr):
    from tests.factories.enrollment import ALL, an_hour_ago, complete

    from ccmops.careplans.models import CarePlan
    from ccmops.careplans.services import approve, create_from_template, save_version
    from ccmops.enrollment.consents import record_consent, revoke_consent
    from ccmops.organizations.models import Practitioner

    maple, twyla, owner = connected
    nora, patel = User.objects.get(username="nora.rn"), Practitioner.objects.get(npi="1003000019")
    consent = record_consent(patient=twyla, program="ccm", practitioner=patel, method="verbal",
                             documented_at=an_hour_ago(), elements=ALL, obtained_by=nora)  # fmt: skip
    CarePlan.objects.filter(patient=twyla).delete()
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    save_version(plan=plan, content=complete(plan.latest.content), by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    approve(version=plan.latest, by=patel.user, expected_lock=plan.lock_version)
    revoke_consent(consent=consent, revoked_at=timezone.now(), reason="Moving to her daughter's in Ohio", by=nora)
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
                                  "note_type": "11506-3", "write_back": "on", "send_pdf": "on"})  # fmt: skip
    assert deliver(maple.id) == {"delivered": 3, "retrying": 0, "parked": 0}
    (_, text), (_, why) = sorted(documents_of(ehr, "59284-0"), key=lambda d: d[0]["date"])
    assert "CCM consent, verbal" in text and "billing practitioner Anika Patel" in text and "cost sharing" in text
    assert "revoked on" in why and "Moving to her daughter's in Ohio" in why
    ((care_plan, plan_text),) = documents_of(ehr, "18776-5")
    assert plan_text.startswith("Comprehensive") and "Planned interventions:" in plan_text
    assert care_plan["content"][1]["attachment"]["contentType"] == "application/pdf"  # the practice asks for PDFs
    assert base64.b64decode(care_plan["content"][1]["attachment"]["data"]).startswith(b"%PDF")


def test_a_closed_month_sends_each_billed_patient_its_summary(demo_activity, ehr, login):
    from tests.factories.billing import close_last_month

    from ccmops.billing.models import ClaimLine

    maple = Organization.objects.get(slug="maple-street-family-medicine")
    owner = login("olivia.owner")
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
                                  "note_type": "11506-3", "write_back": "on"})  # fmt: skip
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "generate_key"})
    ehr.jwks["ccmops-maple"] = owner.get(f"/ehr/{maple.id}/jwks.json").json()
    ben = User.objects.get(username="ben.biller")
    month = close_last_month(maple, ben)
    billed = {(pid, mrn) for pid, mrn in ClaimLine.objects.filter(practice=maple, month=month)
              .values_list("patient_id", "patient__mrn")}  # fmt: skip
    for n, (_, mrn) in enumerate(sorted(billed)):
        ehr.patients[f"p-{n}"] = mrn
    assert Outgoing.objects.filter(kind="month_summary").count() == len(billed) >= 1
    assert deliver(maple.id)["delivered"] == len(billed)
    summaries = documents_of(ehr, "34133-9")
    assert len(summaries) == len(billed)
    document, text = summaries[0]
    assert f"Chronic care management, {month}: monthly summary" in text and "Services billed: 99490" in text
    assert "Total: " in text and document["context"]["period"]["start"].startswith(month[:4])


def test_the_enrollment_is_an_episode_of_care_that_follows_it(connected, ehr):
    from tests.factories.monthly import activate

    from ccmops.enrollment.models import Enrollment
    from ccmops.enrollment.services import change_status

    maple, twyla, _ = connected
    nora = User.objects.get(username="nora.rn")
    activate(twyla, nora)  # consent, approved plan: active in CCM
    assert Enrollment.objects.get(patient=twyla, program="ccm").status == "active"
    assert deliver(maple.id)["delivered"] >= 1
    ((rid, episode),) = ehr.episodes.items()
    assert episode["status"] == "active" and "end" not in episode["period"]
    change_status(patient=twyla, program="ccm", to="paused", by=nora, reason="In hospital")
    deliver(maple.id)
    episode = ehr.episodes[rid]
    assert episode["status"] == "onhold" and episode["type"] == [{"text": "Chronic Care Management"}]
    assert episode["patient"]["reference"] == "Patient/p-1" and "end" not in episode["period"]
    change_status(patient=twyla, program="ccm", to="active", by=nora, reason="Home again")
    change_status(patient=twyla, program="ccm", to="disenrolled", by=nora, reason="Moved away")
    assert Outgoing.objects.get(kind="episode").status == "queued"  # owed again: it changed
    deliver(maple.id)
    assert list(ehr.episodes) == [rid]  # the same episode, replaced — never a second one
    assert ehr.episodes[rid]["status"] == "finished" and ehr.episodes[rid]["period"]["end"]


def test_a_month_close_starts_one_delivery_not_one_per_patient(
    demo_activity, ehr, login, django_capture_on_commit_callbacks
):
    from tests.factories.billing import close_last_month

    from ccmops.jobs.models import Job

    maple = Organization.objects.get(slug="maple-street-family-medicine")
    owner = login("olivia.owner")
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
                                  "note_type": "11506-3", "write_back": "on"})  # fmt: skip
    with django_capture_on_commit_callbacks() as callbacks:
        close_last_month(maple, User.objects.get(username="ben.biller"))
    summaries = Outgoing.objects.filter(kind="month_summary").count()
    assert summaries >= 2 and len(callbacks) == 1  # one delivery kicked for the month's summaries
    for callback in callbacks:
        callback()
    assert Job.objects.filter(kind="ehr-deliver", practice=maple).count() == 1


def test_a_practice_sends_care_plans_and_consents_as_fhir_resources_where_its_ehr_takes_them(connected, ehr):
    """Per practice (`structured`): the care plan as a US Core CarePlan with its PDF as a document beside it, the
    consent as a Consent made inactive by its revocation — once each, across a retry — and only where the EHR's
    connection test found it can create them; an EHR without Consent write gets the consent as a document."""
    from tests.factories.enrollment import ALL, an_hour_ago, complete

    from ccmops.careplans.models import CarePlan
    from ccmops.careplans.services import approve, create_from_template, save_version
    from ccmops.enrollment.consents import record_consent, revoke_consent
    from ccmops.organizations.models import Practitioner

    maple, twyla, owner = connected
    nora, patel = User.objects.get(username="nora.rn"), Practitioner.objects.get(npi="1003000019")
    ehr.capability_resources.update(CarePlan=True, Consent=False)
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "save", "base_url": ehr.url, "client_id": "ccmops-maple",
                                  "note_type": "11506-3", "write_back": "on", "sends_shown": "1",
                                  "sends": ["note", "care_plan", "consent", "revocation"],
                                  "structured": ["care_plan", "consent"]})  # fmt: skip
    page = owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"}).content.decode()
    assert "CarePlan create: supported" in page and "Consent create: not supported — consents go as documents" in page
    consent = record_consent(patient=twyla, program="ccm", practitioner=patel, method="verbal",
                             documented_at=an_hour_ago(), elements=ALL, obtained_by=nora)  # fmt: skip
    assert deliver(maple.id)["delivered"] == 1
    CarePlan.objects.filter(patient=twyla).delete()
    plan = create_from_template(patient=twyla, program="ccm", by=nora)
    save_version(plan=plan, content=complete(plan.latest.content), by=nora, expected_lock=plan.lock_version)
    plan.refresh_from_db()
    approve(version=plan.latest, by=patel.user, expected_lock=plan.lock_version)
    ehr.faults = [("drop-after",)]  # the CarePlan is made but its answer is lost: the retry must not make another
    assert deliver(maple.id) == {"delivered": 0, "retrying": 1, "parked": 0}
    assert len(ehr.careplans) == 1 and not documents_of(ehr, "18776-5")
    later = timezone.now() + dt.timedelta(hours=2)
    assert deliver(maple.id, now=later) == {"delivered": 1, "retrying": 0, "parked": 0}
    (care_plan,) = ehr.careplans.values()
    assert care_plan["category"][0]["coding"][0]["code"] == "assess-plan" and care_plan["status"] == "active"
    assert care_plan["subject"] == {"reference": "Patient/p-1", "display": str(twyla)}
    assert "Planned interventions" in care_plan["text"]["div"] and care_plan["activity"]
    ((plan_document, _),) = documents_of(ehr, "18776-5")
    assert plan_document["content"][1]["attachment"]["contentType"] == "application/pdf"  # the PDF beside it
    assert len(documents_of(ehr, "59284-0")) == 1 and not ehr.consents  # no Consent write: a document

    # an EHR that takes Consent: one Consent, active, then inactive once revoked
    ehr.capability_resources["Consent"] = True
    owner.post("/settings/ehr/", {"org": maple.slug, "action": "test"})
    Outgoing.objects.filter(kind="consent").update(status="queued", next_attempt_at=timezone.now())
    deliver(maple.id, now=later)
    ((rid, fhir_consent),) = ehr.consents.items()
    assert fhir_consent["status"] == "active" and fhir_consent["scope"]["coding"][0]["code"] == "treatment"
    assert fhir_consent["patient"]["reference"] == "Patient/p-1" and "end" not in fhir_consent["provision"]["period"]
    revoke_consent(consent=consent, revoked_at=timezone.now(), reason="Moving to her daughter's in Ohio", by=nora)
    assert deliver(maple.id, now=later)["delivered"] == 1
    assert list(ehr.consents) == [rid] and ehr.consents[rid]["status"] == "inactive"
    assert ehr.consents[rid]["provision"]["period"]["end"]
    attached = base64.b64decode(ehr.consents[rid]["sourceAttachment"]["data"]).decode()
    assert "Moving to her daughter's in Ohio" in attached
