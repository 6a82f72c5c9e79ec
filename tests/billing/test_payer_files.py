"""The payer loop read from X12 (issue 35): for a demo practice's closed month, its 837P, then a 999 and a 277CA
accepting all but one claim, then an 835 paying some lines, denying one as furnished by another provider and one
for coverage — posted automatically by the line item control number, each denial triaged to its next step — and
each file read twice without posting twice. Every test file passes pyx12 against its implementation guide; bad
files are refused whole with the segment named."""

from decimal import Decimal

import pytest
from tests.factories.billing import close_last_month
from tests.factories.payer import ack_277ca, ack_999, remit_835

from ccmops.billing.exports import export_837p
from ccmops.billing.models import ClaimLine, KnownService, PayerFile, RemitLine
from ccmops.billing.payer_files import import_x12
from ccmops.billing.x12_read import read_interchange
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.months.month import Month
from ccmops.organizations.models import Organization, User


@pytest.fixture
def sent(demo_activity):
    """Last month of Maple Street closed — every held patient-month billed on review, as a biller would after
    checking — and its 837P produced (not yet marked sent)."""
    maple = Organization.objects.get(slug=world.MAPLE)
    ben = User.objects.get(username="ben.biller")
    month = close_last_month(maple, ben)
    batch = export_837p(practice=maple, month=month, by=ben)
    assert batch.lines >= 3
    return maple, batch, ben


def test_the_factory_files_follow_their_guides(sent):
    maple, batch, _ = sent
    first = sorted(ClaimLine.objects.filter(practice=maple, month=batch.month), key=lambda x: x.id)[0]
    for text, kind in (
        (ack_999(batch, control=11), "999"),
        (ack_277ca(batch, control=12, reject=(f"{first.patient_id}-{batch.month}",)), "277ca"),
        (remit_835(batch, control=13), "835"),
    ):
        assert read_interchange(text, kind).kind == kind


def lines_of(batch) -> list[ClaimLine]:
    return list(ClaimLine.objects.filter(practice=batch.practice, month=batch.month).order_by("id"))


def test_acknowledgments_and_a_remittance_posted_once(sent):
    maple, batch, ben = sent
    lines = lines_of(batch)
    # 999: the interchange accepted — it was received, so it is sent; read twice, changes nothing the second time
    file, read = import_x12(practice=maple, text=ack_999(batch, control=101), name="ack.999", by=ben)
    assert read and file.kind == "999" and file.summary["verdict"] == "A"
    batch.refresh_from_db()
    assert batch.state == "acknowledged" and batch.submitted_at is not None
    again, read = import_x12(practice=maple, text=ack_999(batch, control=101), name="ack-copy.999", by=ben)
    assert not read and again.id == file.id and PayerFile.objects.count() == 1
    # 277CA: all accepted for adjudication but one claim, rejected with the payer's words
    rejected = f"{lines[0].patient_id}-{batch.month}"
    file, _ = import_x12(practice=maple, text=ack_277ca(batch, control=102, reject=(rejected,)), name="ack.277", by=ben)
    assert file.summary["rejected"] == [rejected] and file.summary["unmatched"] == []
    for line in lines_of(batch):
        if f"{line.patient_id}-{line.month}" == rejected:
            assert line.ack_status == "rejected" and "rejected for invalid information (A7:21)" in line.ack_note
            assert "INVALID PATIENT MEMBER ID" in line.ack_note
        else:
            assert line.ack_status == "accepted" and "accepted for adjudication" in line.ack_note
    # 835: one line denied as another provider's, one for coverage, one left out, the rest paid
    other, coverage, skipped = lines[1], lines[2], lines[0]
    text = remit_835(batch, control=103, outcomes={other.id: ("deny", "CO", "B20"), coverage.id: ("deny", "CO", "27"),
                                                    skipped.id: ("skip",)})  # fmt: skip
    file, _ = import_x12(practice=maple, text=text, name="remit.835", by=ben)
    assert file.summary["posted"] == len(lines) - 1 and file.summary["denied"] == 2 and not file.summary["unmatched"]
    posted = {x.id: x for x in lines_of(batch)}
    assert posted[other.id].remit_status == "denied" and "CO-B20 (furnished" in posted[other.id].remit_note
    assert "Another practitioner billed this service" in RemitLine.objects.get(claim_line=other).next_step
    known = KnownService.objects.get(patient_id=other.patient_id, code=other.code)
    assert known.date_of_service == other.date_of_service and "CO-B20" in known.source
    assert posted[coverage.id].remit_status == "denied" and "coverage ended" in posted[coverage.id].remit_note
    assert RemitLine.objects.get(claim_line=coverage).denial == "coverage"
    assert posted[skipped.id].remit_status == "" and posted[skipped.id].paid_amount is None
    for line in posted.values():
        if line.id in (other.id, coverage.id, skipped.id):
            continue
        coinsurance = (line.allowed_amount * 2 / 10).quantize(Decimal("0.01"))
        assert line.remit_status == "paid" and line.paid_amount == line.allowed_amount - coinsurance
        remit = RemitLine.objects.get(claim_line=line)
        assert remit.patient_responsibility == coinsurance and remit.control_number == str(line.id)
    for remit in RemitLine.objects.all():  # every line balances: charge = paid + adjustments
        assert remit.charge == remit.paid + sum(Decimal(a["amount"]) for a in remit.adjustments)
    # the same 835 again posts nothing twice
    before = {x.id: (x.paid_amount, x.remit_status) for x in lines_of(batch)}
    _, read = import_x12(practice=maple, text=text, name="remit-again.835", by=ben)
    assert not read and RemitLine.objects.count() == len(lines) - 1
    assert {x.id: (x.paid_amount, x.remit_status) for x in lines_of(batch)} == before


def test_a_rejected_interchange_can_be_produced_again(sent):
    maple, batch, ben = sent
    file, _ = import_x12(practice=maple, text=ack_999(batch, control=201, reject_all=True), name="no.999", by=ben)
    batch.refresh_from_db()
    assert batch.state == "rejected" and file.summary["verdict"] == "R"
    assert "segment NM1 at position 17 in loop 2010: segment has element errors" in batch.rejection_reason
    assert "element NM109: invalid code value (was 'BADID')" in batch.rejection_reason
    again = export_837p(practice=maple, month=batch.month, by=ben)  # the month's claims, produced again
    assert again.control_number != batch.control_number and again.lines == batch.lines


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t.replace("AK1*HC*", "AK1*HC*9"), "AK1: group control number '9"),
        (lambda t: t.rsplit("IEA", 1)[0], "the interchange is truncated"),
        (lambda t: t.replace("*005010X231A1", "*004010X231A1"), "GS segment: expected a 999"),
        (lambda t: t.replace("IK5*A", "IK5*Q", 1), "IK5"),
        (lambda t: "hello", "not an X12 interchange"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_segment_named(sent, change, problem):
    maple, batch, ben = sent
    with pytest.raises(InvalidInput, match=problem.replace("(", r"\(").replace("*", r"\*")):
        import_x12(practice=maple, text=change(ack_999(batch, control=301)), name="bad.999", by=ben)
    batch.refresh_from_db()
    assert PayerFile.objects.count() == 0 and batch.state == "produced"


def test_a_line_that_matches_nothing_is_kept_and_reported(sent):
    maple, batch, ben = sent
    first = lines_of(batch)[0]
    text = remit_835(batch, control=401).replace(f"REF*6R*{first.id}~", "REF*6R*987654~")
    file, _ = import_x12(practice=maple, text=text, name="odd.835", by=ben)
    (unmatched,) = file.summary["unmatched"]
    assert unmatched["control_number"] == "987654" and "no claim line" in unmatched["why"]
    assert RemitLine.objects.get(control_number="987654").claim_line is None
    first.refresh_from_db()
    assert first.remit_status == ""  # never guessed


def test_the_biller_reads_files_on_the_web_the_api_and_the_command_line(sent, login, tmp_path, capsys):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    maple, batch, _ = sent
    client = login("ben.biller")
    home = client.get("/", follow=True).content.decode()
    assert f"/practices/{maple.id}/payer-files/" in home  # from the biller's home
    page = client.post(f"/practices/{maple.id}/payer-files/",
                       {"file": SimpleUploadedFile("ack.999", ack_999(batch, control=501).encode())})  # fmt: skip
    assert page.status_code == 302
    shown = client.get(page["Location"]).content.decode()
    assert f"999 for 837P #{batch.control_number} ({batch.month}): accepted" in shown
    again = client.post(f"/practices/{maple.id}/payer-files/",
                        {"file": SimpleUploadedFile("copy.999", ack_999(batch, control=501).encode())})  # fmt: skip
    assert "reading it again changed nothing" in client.get(again["Location"]).content.decode()
    bad = client.post(f"/practices/{maple.id}/payer-files/",
                      {"file": SimpleUploadedFile("claims.837", batch.content.encode())})  # fmt: skip
    assert bad.status_code == 422 and "got an 837 claim file" in bad.content.decode()
    month = client.get(f"/practices/{maple.id}/months/{batch.month}/").content.decode()
    assert "acknowledged</strong> by a 999" in month
    # the API: the 835, with its lines
    text = remit_835(batch, control=502, outcomes={lines_of(batch)[0].id: ("deny", "CO", "16", "MA130")})
    made = client.post(f"/api/practices/{maple.id}/x12", {"file": SimpleUploadedFile("remit.835", text.encode())})
    assert made.status_code == 201, made.content
    body = made.json()
    denied = next(x for x in body["lines"] if x["status"] == "denied")
    assert denied["denial"] == "information" and denied["remarks"] == ["MA130"]
    assert client.get(f"/api/practices/{maple.id}/payer-files").json()[0]["kind"] == "835"
    assert login("rick.biller").get(f"/api/payer-files/{body['id']}").status_code == 404  # Riverbend's biller
    page = client.get(f"/payer-files/{body['id']}/").content.decode()
    assert "the claim lacks information or has a billing error" in page and "Next: Correct what" in page
    # the command line: a 277CA, then the same file again
    path = tmp_path / "claims.277"
    path.write_text(ack_277ca(batch, control=503))
    call_command("x12", "import", str(path), "--practice", maple.slug, "--user", "ben.biller")
    call_command("x12", "import", str(path), "--practice", maple.slug)
    out = capsys.readouterr().out
    assert f"claims.277: 277CA: {batch.claims} claim(s) accepted, 0 rejected" in out and "already read on" in out


def test_receivables_add_up_to_the_claims(sent, login):
    import csv
    import io

    from django.utils import timezone

    from ccmops.billing.receivables import receivables

    maple, batch, ben = sent
    lines = lines_of(batch)
    claims = {f"{x.patient_id}-{x.month}" for x in lines}
    expected_total = sum((x.allowed_amount - x.patient_share for x in lines), Decimal(0))
    result = receivables(maple, timezone.localdate())
    assert result.claims == []  # produced, not sent: not owed yet
    import_x12(practice=maple, text=ack_999(batch, control=601), name="a.999", by=ben)
    rejected = f"{lines[0].patient_id}-{batch.month}"
    import_x12(practice=maple, text=ack_277ca(batch, control=602, reject=(rejected,)), name="a.277", by=ben)
    by_claim = {}
    for x in lines:
        by_claim.setdefault(f"{x.patient_id}-{x.month}", []).append(x)
    others = [c for c in by_claim if c != rejected]
    denied_claim, paid_claims = others[0], others[1:]
    outcomes = {x.id: ("skip",) for x in by_claim[rejected]} | {
        x.id: ("deny", "CO", "B20") for x in by_claim[denied_claim]
    }
    import_x12(practice=maple, text=remit_835(batch, control=603, outcomes=outcomes), name="a.835", by=ben)
    result = receivables(maple, timezone.localdate())
    assert {c.claim_id for c in result.claims} == claims
    assert result.by_status["rejected"]["claims"] == 1 and result.by_status["denied"]["claims"] == 1
    assert result.by_status["paid"]["claims"] == len(paid_claims)
    # it adds up: every claim counted once, expected and collected as the lines say, open = expected - collected
    assert sum(v["claims"] for v in result.by_status.values()) == len(claims)
    assert result.total_expected == expected_total == sum(v["expected"] for v in result.by_status.values())
    collected = sum((x.paid_amount or Decimal(0) for x in lines_of(batch)), Decimal(0))
    assert result.total_paid == collected == sum(v["paid"] for v in result.by_status.values())
    open_claims = [c for c in result.claims if c.status in ("rejected", "denied")]
    assert result.total_balance == sum(c.expected for c in open_claims) == sum(result.aging.values())
    assert result.aging["0–30 days"] == result.total_balance  # sent today
    assert result.by_month == [{"month": batch.month, "expected": expected_total, "collected": collected}]
    assert result.denials[0]["reason"] == "CO-B20" and result.denials[0]["lines"] == len(by_claim[denied_claim])
    # the page, its CSV and the API say the same; the program owner reads it too
    page = login("ben.biller").get(f"/practices/{maple.id}/receivables/").content.decode()
    assert f"${result.total_balance}" in page and "CO-B20 (furnished, in part or in full, by another provider)" in page
    rows = list(csv.DictReader(io.StringIO(
        login("ben.biller").get(f"/practices/{maple.id}/receivables/?format=csv").content.decode())))  # fmt: skip
    assert len(rows) == len(claims) and sum(Decimal(r["balance"]) for r in rows) == result.total_balance
    api = login("olivia.owner").get(f"/api/practices/{maple.id}/receivables").json()
    assert api["totals"]["open"] == str(result.total_balance) and api["by_status"]["denied"]["claims"] == 1
    assert login("nora.rn").get(f"/practices/{maple.id}/receivables/").status_code == 403  # a care manager


def test_the_payer_inbox_reads_each_file_once_and_sorts_them(sent, settings, tmp_path, capsys):
    import os
    import time

    from django.core.management import call_command

    from ccmops.billing.payer_inbox import inbox_folder, sweep
    from ccmops.jobs.kinds import SCHEDULES

    maple, batch, ben = sent
    settings.CCMOPS_DATA_DIR = str(tmp_path)
    folder = inbox_folder(maple)
    folder.mkdir(parents=True)
    old = time.time() - 120
    for name, text in (("a.999", ack_999(batch, control=701)), ("b.999", ack_999(batch, control=701)),
                       ("c.835", "ISA*broken"), ("d.277", ack_277ca(batch, control=702))):  # fmt: skip
        (folder / name).write_text(text)
        os.utime(folder / name, (old, old))
    (folder / "e.835").write_text(remit_835(batch, control=703))  # still being written by the drop: left alone
    schedule = next(s for s in SCHEDULES if s.kind == "payer-inbox")
    assert [t[0] for t in schedule.targets(None)] == [maple.id]  # the hourly job finds the inbox
    result = sweep(maple, by=ben)
    assert [r["file"] for r in result["read"]] == ["a.999", "d.277"]
    assert [r["file"] for r in result["already"]] == ["b.999"]  # the same interchange under another name
    assert result["failed"][0]["file"] == "c.835" and "c.835" in result["failed"][0]["reason"]
    assert sorted(p.name for p in (folder / "done").iterdir()) == ["a.999", "b.999", "d.277"]
    assert (folder / "failed" / "c.835.reason.txt").read_text().startswith("c.835:")
    assert [p.name for p in folder.iterdir() if p.is_file()] == ["e.835"]
    os.utime(folder / "e.835", (old, old))
    call_command("x12", "sweep", "--practice", maple.slug)
    assert "e.835: 835 (trace 703" in capsys.readouterr().out
    assert PayerFile.objects.filter(practice=maple).count() == 3 and not [p for p in folder.iterdir() if p.is_file()]


def test_another_providers_paid_service_holds_the_patients_later_months_until_released(sent, login):
    """B20 (R-CONS-2): the month's service is known as billed elsewhere, the patient's later months are held as
    enrolled elsewhere with a task to ask the patient, and a person releases them with what the patient said."""
    from ccmops.billing.evaluation import close_month
    from ccmops.billing.models import PatientMonthDecision
    from ccmops.worklist.models import FollowUpTask

    maple, batch, ben = sent
    other = lines_of(batch)[1]
    import_x12(practice=maple, text=ack_999(batch, control=301), name="ack.999", by=ben)
    import_x12(practice=maple, text=remit_835(batch, control=302, outcomes={other.id: ("deny", "CO", "B20")}),
               name="remit.835", by=ben)  # fmt: skip
    known = KnownService.objects.get(patient_id=other.patient_id, code=other.code)
    assert known.holds_following
    task = FollowUpTask.objects.get(patient_id=other.patient_id, kind="billed_elsewhere", status="open")
    assert f"Another provider was paid {other.code} for {batch.month}" in task.title
    later = Month.parse(batch.month).next()
    close_month(practice=maple, month=str(later), by=ben)

    def codes():
        decision = PatientMonthDecision.objects.get(patient_id=other.patient_id, month=str(later))
        return {f["code"] for f in decision.reasons}

    assert "CCM.ENROLLED_ELSEWHERE" in codes()
    client = login("ben.biller")
    page = client.get(f"/patients/{other.patient_id}/").content.decode()
    assert "Holds every later month as enrolled elsewhere" in page and "Release later months" in page
    assert client.post(f"/known-services/{known.id}/release/", {"reason": "no"}).status_code == 422
    done = client.post(f"/known-services/{known.id}/release/",
                       {"reason": "The patient says ours is their only care manager"})  # fmt: skip
    assert done.status_code == 302
    known.refresh_from_db()
    assert not known.holds_following
    close_month(practice=maple, month=str(later), by=ben)
    assert "CCM.ENROLLED_ELSEWHERE" not in codes()
    # the month of the paid service itself is still decided with it
    assert KnownService.objects.filter(pk=known.pk, withdrawn_at__isnull=True).exists()


def test_a_biller_writes_a_denied_claims_balance_off(sent, login):
    from django.utils import timezone

    from ccmops.billing.receivables import receivables

    maple, batch, ben = sent
    import_x12(practice=maple, text=ack_999(batch, control=701), name="a.999", by=ben)
    denied = lines_of(batch)[0]
    claim = f"{denied.patient_id}-{batch.month}"
    outcomes = {x.id: ("deny", "CO", "27") for x in lines_of(batch) if x.patient_id == denied.patient_id}
    import_x12(practice=maple, text=remit_835(batch, control=702, outcomes=outcomes), name="a.835", by=ben)
    before = receivables(maple, timezone.localdate())
    owed = next(c for c in before.claims if c.claim_id == claim)
    assert owed.status == "denied" and owed.balance > 0
    client = login("ben.biller")
    page = client.get(f"/practices/{maple.id}/receivables/").content.decode()
    assert f"Write off ${owed.balance}" in page
    nurse = login("nora.rn").post(f"/practices/{maple.id}/receivables/write-off/", {"claim_id": claim, "reason": "no"})
    assert nurse.status_code == 403  # a care manager
    refused = client.post(f"/practices/{maple.id}/receivables/write-off/", {"claim_id": claim, "reason": "x"})
    assert "say why the balance is written off" in client.get(refused["Location"]).content.decode()
    why = "Coverage ended before the month; not billable to the patient"
    done = client.post(f"/practices/{maple.id}/receivables/write-off/", {"claim_id": claim, "reason": why})
    shown = client.get(done["Location"]).content.decode()
    assert f"${owed.balance} written off" in shown and "Coverage ended before the month" in shown
    after = receivables(maple, timezone.localdate())
    written = next(c for c in after.claims if c.claim_id == claim)
    assert written.status == "written off" and written.balance == 0
    assert after.total_balance == before.total_balance - owed.balance
    assert after.by_status["written off"]["claims"] == 1 and after.by_status["denied"]["claims"] == 0
    # once only, and the API says so
    again = client.post(f"/api/practices/{maple.id}/claims/{claim}/write-off", {"reason": "Again, by mistake"},
                        content_type="application/json")  # fmt: skip
    assert again.status_code == 409 and "was written off on" in again.json()["detail"]
    api = client.get(f"/api/practices/{maple.id}/receivables").json()
    row = next(c for c in api["claims"] if c["claim_id"] == claim)
    assert row["status"] == "written off" and row["written_off"]["amount"] == str(owed.balance)
