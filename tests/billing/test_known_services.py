"""Services billed outside the practice's care-management claims and known to it (another practitioner's CCM, a
TCM, a PCM of the same practitioner): each goes into its month's decision as an `other_services` fact, is
withdrawn rather than deleted, and — for a closed month — is queued for the biller, who cannot wave a possible
duplicate through as "no change"."""

import datetime as dt

import pytest
from django.core.management import call_command
from tests.factories.billing import evaluate_and_bill, previous_month  # noqa: F401 - the fixture

from ccmops.billing.adjustments import open_impacts, resolve, resolve_unchanged
from ccmops.billing.approval import approve_and_close
from ccmops.billing.evaluation import changed_since_evaluation, close_month
from ccmops.billing.known import import_known_services, record_known_service, withdraw_known_service
from ccmops.billing.models import KnownService, PatientMonthDecision
from ccmops.billing.packets import packet_context, render_packet
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput
from ccmops.months.models import Adjustment
from ccmops.organizations.models import User

ELSEWHERE_NPI = "1234567893"  # valid check digit; no practitioner of the demo


def codes(patient, month) -> set[str]:
    """The finding codes of the patient's month as decided at the last evaluation."""
    return {f["code"] for f in PatientMonthDecision.objects.get(patient=patient, month=month).reasons}


def a_day_of(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 12)


def test_another_practitioners_ccm_holds_the_month_until_withdrawn(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    assert "CCM.DUPLICATE.OTHER_PRACTITIONER" not in codes(twyla, month)

    known = record_known_service(
        patient=twyla,
        code="99490",
        date_of_service=a_day_of(month),
        practitioner_npi=ELSEWHERE_NPI,
        source="Denial CO-B13 on claim 2610-77",
        by=ben,
    )
    assert (known.same_group, known.month, known.family) == (False, month, "Chronic care management (CCM)")
    # recorded after the evaluation: approval is refused until the month is evaluated again
    assert changed_since_evaluation(twyla.practice, month) == [twyla]
    close_month(practice=twyla.practice, month=month, by=ben)
    decision = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert decision.review == "needs_review" and "CCM.DUPLICATE.OTHER_PRACTITIONER" in codes(twyla, month)
    event = AuditEvent.objects.filter(object_type="billing.KnownService", object_id=str(known.id)).get()
    assert event.detail["npi"] == ELSEWHERE_NPI and event.detail["source"] == "Denial CO-B13 on claim 2610-77"

    # A service of another month does not touch this one; a withdrawn one counts nowhere (and is kept).
    record_known_service(
        patient=twyla,
        code="99490",
        date_of_service=a_day_of(month) - dt.timedelta(days=40),
        source="EOB of the month before",
        by=ben,
    )
    withdraw_known_service(service=known, reason="The denial was for another patient", by=ben)
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw_known_service(service=known, reason="Twice by mistake", by=ben)
    close_month(practice=twyla.practice, month=month, by=ben)
    assert "CCM.DUPLICATE.OTHER_PRACTITIONER" not in codes(twyla, month)
    kept = KnownService.objects.get(id=known.id)
    assert kept.withdrawn_by == ben and kept.withdraw_reason == "The denial was for another patient"


def test_the_same_practitioners_pcm_refuses_ccm(month_world):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben, approve=False)
    assert PatientMonthDecision.objects.get(patient=twyla, month=month).decision["lines"]
    record_known_service(
        patient=twyla,
        code="99426",
        date_of_service=a_day_of(month),
        practitioner_npi=twyla.billing_practitioner.npi,
        source="Billed from the practice's PM system",
        by=ben,
    )
    assert KnownService.objects.get(patient=twyla).same_group is True
    close_month(practice=twyla.practice, month=month, by=ben)
    decision = PatientMonthDecision.objects.get(patient=twyla, month=month)
    assert "CCM.CONFLICT.PCM_SAME_PRACTITIONER" in codes(twyla, month)
    assert not [line for line in decision.decision["lines"] if line["code"] in ("99490", "99439")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "99213"}, "code"),
        ({"practitioner_npi": "1234567890"}, "practitioner_npi"),
        ({"source": "EOB"[:2]}, "source"),
        ({"date_of_service": dt.date.today() + dt.timedelta(days=3)}, "date_of_service"),
    ],
)
def test_bad_input_names_the_field_and_records_nothing(month_world, change, field):
    twyla, month, ben = month_world
    given = {
        "code": "99495",
        "date_of_service": a_day_of(month),
        "practitioner_npi": "",
        "source": "Discharge summary from the hospital",
        **change,
    }
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        record_known_service(patient=twyla, by=ben, **given)
    assert not KnownService.objects.exists()


def test_the_future_is_the_practices(month_world, monkeypatch):
    """At 20:00 UTC it is already tomorrow on Kiritimati (UTC+14): a service on the practice's today is not in
    the future, one on its tomorrow is, wherever the server's clock is."""
    import django.utils.timezone

    twyla, _month, ben = month_world
    practice = twyla.practice
    practice.time_zone = "Pacific/Kiritimati"
    practice.save(update_fields=["time_zone"])
    monkeypatch.setattr(django.utils.timezone, "now", lambda: dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC))
    given = {"code": "99495", "practitioner_npi": "", "source": "Discharge summary from the hospital", "by": ben}
    known = record_known_service(patient=twyla, date_of_service=dt.date(2026, 12, 6), **given)
    assert known.month == "2026-12"
    with pytest.raises(InvalidInput, match=r"^date_of_service: 2026-12-07 is in the future"):
        record_known_service(patient=twyla, date_of_service=dt.date(2026, 12, 7), **given)
    rows = [("services.csv, line 2", {"mrn": twyla.mrn, "code": "99496", "date_of_service": "2026-12-06"})]
    from ccmops.billing.known import record_known_services

    assert len(record_known_services(practice=practice, rows=rows, by=ben).created) == 1


def test_a_service_known_after_the_close_is_queued_and_not_waved_through(month_world, login):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben)
    known = record_known_service(
        patient=twyla,
        code="99490",
        date_of_service=a_day_of(month),
        practitioner_npi=ELSEWHERE_NPI,
        source="Patient says the cardiology practice calls monthly",
        by=ben,
    )
    (queued,) = Adjustment.objects.filter(patient=twyla, month=month)
    assert queued.kind == "service" and queued.known_service == known
    assert f"NPI {ELSEWHERE_NPI}" in queued.description and "after" in queued.description
    (impact,) = open_impacts(twyla.practice, month)
    assert impact.changes == [] and impact.held_by_known_service
    page = login("ben.biller").get(f"/practices/{twyla.practice_id}/months/{month}/").content.decode()
    assert "A service that became known after the close holds this month" in page
    assert "Resolve the" not in page  # nothing to resolve in one step
    assert impact.as_dict()["adjustments"][0]["known_service_id"] == known.id
    # the one-step resolution leaves it, and "no change" is refused: a possible second payee is the biller's call
    assert resolve_unchanged(practice=twyla.practice, month=month, by=ben) == []
    with pytest.raises(Conflict, match="holds the month"):
        resolve(practice=twyla.practice, month=month, adjustment_ids=[queued.id], outcome="no_change", by=ben)
    resolve(
        practice=twyla.practice,
        month=month,
        adjustment_ids=[queued.id],
        outcome="not_billed",
        note="Ours is the practice of record; the cardiology claim was refunded",
        by=ben,
    )
    assert Adjustment.objects.get(id=queued.id).outcome == "not_billed"
    packet = packet_context(twyla, month)
    (shown,) = packet["known_services"]
    assert shown == known and shown.adjustment == queued
    assert f"after the month was closed (adjustment {queued.id})" in render_packet(twyla, month)

    # Withdrawn after the close: queued again, as what it takes back; it holds nothing now.
    withdraw_known_service(service=known, reason="The patient meant remote monitoring", by=ben)
    withdrawn = Adjustment.objects.filter(patient=twyla, month=month, resolved_at__isnull=True).get()
    assert withdrawn.kind == "service withdrawn" and withdrawn.voids
    (impact,) = open_impacts(twyla.practice, month)
    assert not impact.held_by_known_service
    assert len(resolve_unchanged(practice=twyla.practice, month=month, by=ben)) == 1


def test_recorded_after_evaluation_the_month_is_not_approved_until_evaluated_again(month_world):
    twyla, month, ben = month_world
    evaluate_and_bill(twyla, month, ben, approve=False)
    record_known_service(
        patient=twyla, code="99495", date_of_service=a_day_of(month), source="Hospital discharge summary", by=ben
    )
    with pytest.raises(Conflict, match="Moen"):
        approve_and_close(practice=twyla.practice, month=month, by=ben)


def test_page_and_api(month_world, login):
    twyla, month, _ben = month_world
    day = a_day_of(month).isoformat()
    nora, carl = login("nora.rn"), login("carl.compliance")
    page = nora.get(f"/patients/{twyla.id}/").content.decode()
    assert 'id="known-services"' in page and "None recorded." in page and 'name="practitioner_npi"' in page
    # the care manager (care coordination) records one from the page
    nora.post(
        f"/patients/{twyla.id}/known-services/",
        {"code": "99495", "date_of_service": day, "practitioner_npi": "", "source": "Discharge summary, St. Mary's"},
    )
    (tcm,) = KnownService.objects.filter(patient=twyla)
    assert (tcm.code, tcm.recorded_by.username) == ("99495", "nora.rn")
    page = nora.get(f"/patients/{twyla.id}/").content.decode()
    assert "Transitional care management (TCM)" in page and "Discharge summary, St. Mary&#x27;s" in page

    # the API: 422 naming the field, 201, the list, withdrawal, 409 the second time
    bad = nora.post(
        f"/api/patients/{twyla.id}/known-services",
        {"code": "99490", "date_of_service": day, "practitioner_npi": "12", "source": "Denial CO-B13"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "practitioner_npi" in bad.json()["detail"]
    made = nora.post(
        f"/api/patients/{twyla.id}/known-services",
        {"code": "99490", "date_of_service": day, "practitioner_npi": ELSEWHERE_NPI, "source": "Denial CO-B13"},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["month"] == month and made.json()["same_group"] is False
    listed = nora.get(f"/api/patients/{twyla.id}/known-services").json()
    assert [k["code"] for k in listed] == ["99495", "99490"]
    gone = nora.post(
        f"/api/known-services/{made.json()['id']}/withdraw",
        {"reason": "Recorded on the wrong patient"},
        content_type="application/json",
    )
    assert gone.status_code == 200 and gone.json()["withdraw_reason"] == "Recorded on the wrong patient"
    again = nora.post(
        f"/api/known-services/{made.json()['id']}/withdraw", {"reason": "again!"}, content_type="application/json"
    )
    assert again.status_code == 409
    # the compliance reviewer sees them but records none
    assert len(carl.get(f"/api/patients/{twyla.id}/known-services").json()) == 2
    denied = carl.post(
        f"/api/patients/{twyla.id}/known-services",
        {"code": "99490", "date_of_service": day, "source": "Denial CO-B13"},
        content_type="application/json",
    )
    assert denied.status_code == 403
    assert User.objects.get(username="carl.compliance") not in {k.recorded_by for k in KnownService.objects.all()}


def test_a_csv_of_known_services_is_recorded_whole_or_not_at_all(month_world, login, tmp_path, capsys):
    twyla, month, ben = month_world
    kohler = twyla.practice.patients.get(family_name="Kohler")
    day = a_day_of(month).isoformat()
    good = (
        "mrn,code,date_of_service,practitioner_npi,source\n"
        f"{twyla.mrn},99495,{day},,Discharge summary\n"
        f"{kohler.mrn},99490,{day},{ELSEWHERE_NPI},\n"
        f"{kohler.mrn},99490,{day},{ELSEWHERE_NPI},the same row again\n"
    )
    done = import_known_services(practice=twyla.practice, text=good, file_label="pm.csv", by=ben)
    assert [(k.patient, k.code) for k in done.created] == [(twyla, "99495"), (kohler, "99490")]
    assert done.already_on_record == 1
    assert done.created[1].source == "pm.csv, line 3"  # a row without a source is known from its file and line
    again = import_known_services(practice=twyla.practice, text=good, file_label="pm.csv", by=ben)
    assert (again.created, again.already_on_record) == ([], 3)

    bad = (
        "mrn,code,date_of_service,practitioner_npi\n"
        f"{twyla.mrn},99496,{day},\n"  # good, but the file is refused whole
        f"NOPE,99490,{day},\n"
        f"{twyla.mrn},99490,12/10/2026,\n"
        f"{twyla.mrn},99214,{day},\n"
        f"{twyla.mrn},99490,{day},1234567890\n"
    )
    with pytest.raises(InvalidInput) as refused:
        import_known_services(practice=twyla.practice, text=bad, file_label="bad.csv", by=ben)
    assert str(refused.value).splitlines() == [
        f"bad.csv, line 3: mrn: no patient 'NOPE' in {twyla.practice.name}",
        "bad.csv, line 4: date_of_service: expected a date YYYY-MM-DD, got '12/10/2026'",
        "bad.csv, line 5: code: 99214 is not a service weighed against care management; expected one of the CCM, "
        "PCM, APCM, TCM, BHI, care plan oversight, ESRD, remote monitoring or interprofessional codes",
        "bad.csv, line 6: practitioner_npi: '1234567890' is not a valid NPI (10 digits with a correct check digit)",
    ]
    with pytest.raises(InvalidInput, match=r"bad\.csv, line 1: missing column"):
        import_known_services(practice=twyla.practice, text="mrn,code\n1,99490\n", file_label="bad.csv", by=ben)
    assert KnownService.objects.count() == 2

    # the CLI, the month page's upload and the API do the same
    path = tmp_path / "more.csv"
    path.write_text(f"mrn,code,date_of_service\n{twyla.mrn},G0181,{day}\n")
    call_command("services", "import", str(path), "--practice", twyla.practice.slug, "--user", "ben.biller")
    assert f"more.csv: 1 service(s) recorded, 0 already on record; evaluate again: {month}" in capsys.readouterr().out
    call_command("services", "list", "--practice", twyla.practice.slug, "--month", month)
    listed = capsys.readouterr().out
    assert "G0181" in listed and "99495" in listed and "3 known service(s)" in listed
    client = login("ben.biller")
    path.write_text(f"mrn,code,date_of_service\n{twyla.mrn},99457,{day}\n")
    with path.open("rb") as fh:
        back = client.post(f"/practices/{twyla.practice_id}/months/{month}/known-services/", {"file": fh})
    page = client.get(back["Location"]).content.decode()
    assert "more.csv: 1 service(s) recorded, 0 already on record" in page
    api = client.post(
        f"/api/practices/{twyla.practice_id}/known-services",
        {
            "rows": [
                {"mrn": twyla.mrn, "code": "99490", "date_of_service": day},
                {"mrn": "x", "code": "1", "date_of_service": day},
            ]
        },
        content_type="application/json",
    )
    assert api.status_code == 422 and "API request, rows[1]: mrn: no patient 'x'" in api.json()["detail"]
    api = client.post(
        f"/api/practices/{twyla.practice_id}/known-services",
        {"rows": [{"mrn": twyla.mrn, "code": "99490", "date_of_service": day}]},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["created"][0]["source"] == "API request, rows[0]"
    empty = client.post(
        f"/api/practices/{twyla.practice_id}/known-services", {"rows": []}, content_type="application/json"
    )
    assert empty.status_code == 422 and "rows: no services to record" in empty.json()["detail"]
    assert (
        login("nora.rn")
        .post(f"/api/practices/{twyla.practice_id}/known-services", {"rows": []}, content_type="application/json")
        .status_code
        == 403
    )
