"""837P batches: a month's claims stand as sent at most once (by constraint), a front-end rejection lets the month
be sent again, and remittance is recorded by hand, by CSV or through the API — through the month page too."""

import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ccmops.billing.exports import export_837p
from ccmops.billing.models import ClaimBatch, ClaimLine
from ccmops.billing.remittance import (
    import_remittance,
    mark_rejected,
    mark_submitted,
    record_line_remittance,
    sent_batch,
)
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput


def test_a_months_claims_cannot_be_sent_twice_until_the_front_end_rejects_them(closed):
    twyla, month, ben = closed
    practice = twyla.practice
    first = export_837p(practice=practice, month=month, by=ben)
    second = export_837p(practice=practice, month=month, by=ben)  # produced again before sending: allowed
    assert second.control_number == first.control_number + 1
    mark_submitted(batch=first, by=ben)
    assert sent_batch(practice, month) == first and first.state == "submitted"
    with pytest.raises(Conflict, match=f"were sent in 837P #{first.control_number}"):
        export_837p(practice=practice, month=month, by=ben)
    with pytest.raises(Conflict, match="would bill the month twice"):
        mark_submitted(batch=second, by=ben)
    # The database refuses it too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimBatch.objects.filter(pk=second.pk).update(submitted_at=timezone.now())
    assert ClaimBatch.objects.filter(submitted_at__isnull=False).count() == 1

    with pytest.raises(InvalidInput, match="rejection"):
        mark_rejected(batch=first, reason="no", by=ben)
    with pytest.raises(Conflict, match="not marked submitted"):
        mark_rejected(batch=second, reason="999 IK5*R", by=ben)
    mark_rejected(batch=first, reason="999 IK3*NM1*R: submitter not on file", by=ben)
    first.refresh_from_db()
    assert first.state == "rejected" and sent_batch(practice, month) is None
    third = export_837p(practice=practice, month=month, by=ben)
    mark_submitted(batch=third, by=ben)
    assert sent_batch(practice, month) == third
    with pytest.raises(Conflict, match="was rejected"):
        mark_submitted(batch=first, by=ben)
    assert AuditEvent.objects.filter(object_type="billing.ClaimBatch", detail__rejected=True).count() == 1

    # Once remittance is recorded, the claims were processed: no "rejection" can reopen the month for sending.
    line = ClaimLine.objects.get(patient=twyla, code="99490")
    record_line_remittance(line=line, status="paid", paid_amount="41.27", note="", by=ben)
    with pytest.raises(Conflict, match="remittance recorded"):
        mark_rejected(batch=third, reason="999 IK5*R later", by=ben)


def test_remittance_by_hand_and_by_csv_names_each_problem_and_records_nothing_then(closed):
    twyla, month, ben = closed
    line = ClaimLine.objects.get(patient=twyla, code="99439")
    with pytest.raises(InvalidInput, match="paid_amount: expected an amount"):
        record_line_remittance(line=line, status="paid", paid_amount="12,5", note="", by=ben)
    with pytest.raises(InvalidInput, match="status: expected paid, denied or adjusted"):
        record_line_remittance(line=line, status="ok", paid_amount="1", note="", by=ben)
    line = record_line_remittance(line=line, status="denied", paid_amount="", note="CO-97", by=ben)
    assert (line.remit_status, line.paid_amount, line.remit_note) == ("denied", 0, "CO-97")
    # A paid line may carry $0: the Part B deductible took it.
    line = record_line_remittance(line=line, status="paid", paid_amount="0", note="PR-1 deductible", by=ben)
    assert (line.remit_status, line.paid_amount) == ("paid", 0)

    header = "claim_id,code,status,paid_amount,note\n"
    with pytest.raises(InvalidInput, match=r"era\.csv: no rows after the header"):
        import_remittance(practice=twyla.practice, text=header, file_label="era.csv", by=ben)
    bad = header + f"{twyla.id}-{month},99490,paid,-3,\n{twyla.id}-2019-01,99490,paid,1,\n"
    with pytest.raises(InvalidInput) as exc:
        import_remittance(practice=twyla.practice, text=bad, file_label="era.csv", by=ben)
    assert "era.csv, line 2: paid_amount" in str(exc.value) and "era.csv, line 3: no claim line" in str(exc.value)
    assert ClaimLine.objects.get(patient=twyla, code="99490").remit_status == ""


def test_month_page_and_api_for_batches_and_remittance(closed, login):
    twyla, month, _ben = closed
    practice = twyla.practice
    web = login("ben.biller")
    assert web.get(f"/practices/{practice.id}/months/{month}/837p/").status_code == 405  # producing is a POST
    produced = web.post(f"/practices/{practice.id}/months/{month}/837p/")
    assert produced.status_code == 302 and "produced" in produced["Location"]
    batch = ClaimBatch.objects.get()
    page = web.get(f"/practices/{practice.id}/months/{month}/").content.decode()
    assert "Claim batches" in page and f"#{batch.control_number}" in page and "Mark submitted" in page
    kept = web.get(f"/practices/{practice.id}/months/{month}/batches/{batch.control_number}.x12")
    assert kept.content.decode() == batch.content
    marked = web.post(f"/practices/{practice.id}/months/{month}/remittance/", {"batch": batch.id})
    assert marked.status_code == 302 and "error" not in marked["Location"]
    page = web.get(f"/practices/{practice.id}/months/{month}/").content.decode()
    assert f"837P #{batch.control_number} as sent" in page and "Record rejection" in page
    again = web.post(f"/practices/{practice.id}/months/{month}/837p/")
    assert again.status_code == 302 and "were+sent" in again["Location"] and ClaimBatch.objects.count() == 1

    line = ClaimLine.objects.get(patient=twyla, code="99490")
    by_hand = web.post(
        f"/practices/{practice.id}/months/{month}/remittance/",
        {"line": line.id, "status": "paid", "paid_amount": "41.27", "note": ""},
    )
    assert by_hand.status_code == 302 and "error" not in by_hand["Location"]
    line.refresh_from_db()
    assert (line.remit_status, str(line.paid_amount)) == ("paid", "41.27")

    api = login("ben.biller")
    (listed,) = api.get(f"/api/practices/{practice.id}/months/{month}/batches").json()
    assert listed["state"] == "submitted" and listed["control_number"] == batch.control_number
    url = f"/api/practices/{practice.id}/remittance"
    lines = [
        {"claim_id": f"{twyla.id}-{month}", "code": "99439", "status": "adjusted", "paid_amount": "20.00"},
        {"claim_id": f"{twyla.id}-{month}", "code": "99999", "status": "paid", "paid_amount": "1"},
    ]
    refused = api.post(url, json.dumps({"lines": lines}), "application/json")
    assert refused.status_code == 422 and "lines[1]: no claim line" in refused.content.decode()
    ok = api.post(url, json.dumps({"lines": lines[:1]}), "application/json")
    assert ok.status_code == 200 and ok.json() == {"lines": 1}
    assert ClaimLine.objects.get(patient=twyla, code="99439").remit_status == "adjusted"
    rejected = api.post(
        f"/api/practices/{practice.id}/months/{month}/batches/{batch.control_number}/rejected",
        json.dumps({"reason": "999 IK5*R"}),
        "application/json",
    )
    assert rejected.status_code == 409 and "remittance recorded" in rejected.content.decode()
    assert login("nora.rn").get(f"/api/practices/{practice.id}/months/{month}/batches").status_code == 403
    packet = web.get(f"/patients/{twyla.id}/packets/{month}/").content.decode()
    assert f"sent in 837P #{batch.control_number} on" in packet and "99490: paid $41.27" in packet


def test_cli_lists_and_marks_batches(closed, capsys):
    from django.core.management import call_command

    twyla, month, _ben = closed
    batch = export_837p(practice=twyla.practice, month=month)
    args = ["month", "--practice", twyla.practice.slug, "--month", month, "--user", "ben.biller"]
    with pytest.raises(SystemExit):
        call_command(*args[:1], "mark-submitted", *args[1:], "--control-number", str(batch.control_number + 9))
    assert f"no 837P #{batch.control_number + 9}" in capsys.readouterr().err
    call_command(*args[:1], "mark-submitted", *args[1:], "--control-number", str(batch.control_number))
    assert f"837P #{batch.control_number} {month}: submitted" in capsys.readouterr().out
    call_command(
        *args[:1], "mark-rejected", *args[1:], "--control-number", str(batch.control_number), "--reason", "999 IK5*R"
    )
    capsys.readouterr()
    call_command(*args[:1], "batches", *args[1:])
    listed = capsys.readouterr().out
    assert f"837P #{batch.control_number}: 1 claims, 2 lines" in listed and "rejected" in listed
    assert "(999 IK5*R)" in listed
