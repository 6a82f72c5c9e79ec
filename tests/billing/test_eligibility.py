"""Eligibility before the close (issue 35, R-COV-1, R-COV-2): a 270 for a month's patients follows 005010X279A1
(checked with pyx12 and the 270/271 maps ccmops keeps); the 271 read back becomes the coverage facts the claims
review decides on — a Medicare Advantage enrolment holds the patient with the reason, Medicare as secondary payer
holds, a date of death and QMB are recorded, a patient the payer could not find changes nothing — read once."""

import datetime as dt

import pytest
from tests.factories.billing import previous_month
from tests.factories.payer import eligibility_271

from ccmops.billing.eligibility import answers, meaning, write_inquiry
from ccmops.billing.evaluation import close_month, patients_in_month
from ccmops.billing.models import EligibilityResult, PatientMonthDecision, PayerFile
from ccmops.billing.payer_files import import_x12
from ccmops.billing.x12_read import read_interchange, validate_with_guide
from ccmops.demo import world
from ccmops.errors import InvalidInput
from ccmops.organizations.models import Organization, User
from ccmops.patients.coverage import record_coverage
from ccmops.patients.models import CoverageRecord, Patient, QmbPeriod
from ccmops.worklist.models import FollowUpTask


@pytest.fixture
def asked(demo_activity):
    maple = Organization.objects.get(slug=world.MAPLE)
    ben = User.objects.get(username="ben.biller")
    month, _ = previous_month()
    inquiry = write_inquiry(practice=maple, month=month, by=ben)
    pids = [int(s.split("*")[2].partition("-")[0]) for s in inquiry.content.replace("\n", "").split("~")
            if s.startswith("TRN*")]  # fmt: skip
    return maple, month, inquiry, ben, pids


def codes(patient, month) -> set[str]:
    return {f["code"] for f in PatientMonthDecision.objects.get(patient=patient, month=month).reasons}


def test_the_270_asks_about_every_patient_of_the_month_with_an_mbi_and_follows_its_guide(asked):
    maple, month, inquiry, _, pids = asked
    with_mbi = [p.id for p in Patient.objects.filter(id__in=patients_in_month(maple, month)) if p.medicare_id]
    assert sorted(pids) == sorted(with_mbi) and inquiry.patients == len(with_mbi) >= 3
    text = inquiry.content
    assert "GS*HS*" in text and "ST*270*0001*005010X279A1" in text and text.count("EQ*30") == len(pids)
    assert f"DTP*291*RD8*{month.replace('-', '')}01-" in text
    # the map really checks: a subscriber named by another kind of id than the Member Identification Number is
    # refused with the element named
    broken = text.replace("****MI*", "****ZZ*", 1)
    with pytest.raises(InvalidInput, match=r"implementation guide.*NM108"):
        validate_with_guide(broken, "broken 270")


def test_a_271_marking_one_patient_medicare_advantage_holds_that_patient_with_the_reason(asked):
    maple, month, inquiry, ben, pids = asked
    ma, others = pids[0], pids[1:]
    first = dt.date.fromisoformat(f"{month}-01")
    answer = {ma: ["EB*1**30*MA", "DTP*291*D8*20150101", "EB*1**30*MB", "DTP*291*D8*20150101", "EB*R**30*HN",
                   f"DTP*290*D8*{first - dt.timedelta(days=61):%Y%m%d}", "LS*2120",
                   "NM1*PRP*2*SUNRISE MEDICARE ADVANTAGE PLAN*****PI*H1234", "LE*2120"]}  # fmt: skip
    text = eligibility_271(inquiry, control=501, answers=answer)
    assert read_interchange(text, "271").kind == "271"
    file, read = import_x12(practice=maple, text=text, name="elig.271", by=ben)
    assert read and file.kind == "271"
    result = EligibilityResult.objects.get(payer_file=file, patient_id=ma)
    assert result.outcome == "medicare_advantage" and result.changed
    assert "Medicare Advantage (Part C) (SUNRISE MEDICARE ADVANTAGE PLAN)" in result.words
    task = FollowUpTask.objects.get(patient_id=ma, kind="coverage", status="open")
    assert "Medicare Advantage" in task.title and month in task.title
    assert {r.outcome for r in EligibilityResult.objects.filter(payer_file=file, patient_id__in=others)} == {"part_b"}
    assert file.summary["patients"] == len(pids) and file.summary["changed"][0] == ma

    close_month(practice=maple, month=month, by=ben)
    ma_decision = PatientMonthDecision.objects.get(patient_id=ma, month=month)
    assert ma_decision.status != "ready" and "COVERAGE.MEDICARE_ADVANTAGE" in codes(ma_decision.patient, month)
    assert "Medicare Advantage plan" in next(
        f["message"] for f in ma_decision.reasons if f["code"] == "COVERAGE.MEDICARE_ADVANTAGE"
    )
    for pid in others:  # Part B for the whole month, from the response: no coverage finding at all
        assert not {c for c in codes(Patient.objects.get(pk=pid), month) if c.startswith("COVERAGE.")}

    # the same file again changes nothing
    again, read = import_x12(practice=maple, text=text, name="elig again.271", by=ben)
    assert again.pk == file.pk and not read
    assert EligibilityResult.objects.filter(patient_id=ma).count() == 1
    assert FollowUpTask.objects.filter(patient_id=ma, kind="coverage").count() == 1


def test_secondary_payer_death_qmb_and_a_patient_not_found(asked):
    maple, month, inquiry, ben, pids = asked
    msp, died, missing = pids[:3]
    qmb = died
    first = dt.date.fromisoformat(f"{month}-01")
    mbi_before = list(CoverageRecord.objects.filter(patient_id=missing).values_list("payer", "source_id"))
    answer = {
        msp: ["EB*1**30*MB", "DTP*291*D8*20150101", "EB*R**30*12", "DTP*290*D8*20200101", "LS*2120",
              "NM1*PRP*2*ACME EMPLOYER HEALTH PLAN", "LE*2120"],
        died: ["DTP*442*D8*" + f"{first + dt.timedelta(days=14):%Y%m%d}", "EB*1**30*MB", "DTP*291*D8*20150101",
               "EB*1**30*QM", "DTP*291*D8*20240101"],
        missing: ["AAA*N**75*C"],
    }  # fmt: skip
    file, _ = import_x12(practice=maple, text=eligibility_271(inquiry, control=502, answers=answer), name="e",
                         by=ben)  # fmt: skip
    results = {r.patient_id: r for r in EligibilityResult.objects.filter(payer_file=file)}
    assert results[msp].outcome == "secondary" and "secondary to ACME EMPLOYER HEALTH PLAN" in results[msp].words
    assert results[died].outcome == "deceased"
    assert Patient.objects.get(pk=died).deceased_on == first + dt.timedelta(days=14)
    assert QmbPeriod.objects.filter(patient_id=qmb, start=dt.date(2024, 1, 1)).exists()
    assert results[missing].outcome == "not_verified" and not results[missing].changed
    assert results[missing].words == "Not verified: subscriber not found (correct it and check again)"
    assert list(CoverageRecord.objects.filter(patient_id=missing).values_list("payer", "source_id")) == mbi_before

    close_month(practice=maple, month=month, by=ben)
    assert "COVERAGE.MEDICARE_SECONDARY" in codes(Patient.objects.get(pk=msp), month)
    died_findings = PatientMonthDecision.objects.get(patient_id=died, month=month).decision["findings"]
    assert "PATIENT.DIED_THIS_MONTH" in {f["code"] for f in died_findings}


def test_a_later_response_replaces_the_earlier_one_and_supersedes_imported_coverage(asked):
    maple, month, inquiry, ben, pids = asked
    pid = pids[0]
    patient = Patient.objects.get(pk=pid)
    # an imported record saying Part B for ever would otherwise keep the month billable
    CoverageRecord.objects.create(practice=maple, patient=patient, source_id="fhir:cov-1", payer="medicare",
                                  source="the EHR's Coverage")  # fmt: skip
    first = dt.date.fromisoformat(f"{month}-01")
    ended = {pid: ["EB*6**30*MB", f"DTP*291*RD8*20150101-{first - dt.timedelta(days=1):%Y%m%d}",
                   "EB*1**30*MA", "DTP*291*D8*20150101"]}  # fmt: skip
    import_x12(practice=maple, text=eligibility_271(inquiry, control=503, answers=ended), name="a", by=ben)
    assert list(CoverageRecord.objects.filter(patient=patient, source_id__startswith="271:").values_list("payer")) == [
        ("part_a_only",)
    ]
    record_coverage(patient=patient, payer="private", start=None, end=None, source="the card", by=ben)
    close_month(practice=maple, month=month, by=ben)
    assert "COVERAGE.NO_PART_B" in codes(patient, month)

    import_x12(practice=maple, text=eligibility_271(inquiry, control=504), name="b", by=ben)
    assert list(CoverageRecord.objects.filter(patient=patient, source_id__startswith="271:").values_list("payer")) == [
        ("medicare",)
    ]
    latest = EligibilityResult.objects.filter(patient=patient).order_by("-id").first()
    assert latest.outcome == "part_b" and latest.changed
    assert PayerFile.objects.filter(practice=maple, kind="271").count() == 2


def test_reading_a_271_answer_in_words():
    segments = read_interchange(
        _fixture_271(["EB*1**30*MB", "DTP*291*RD8*20200101-20261130", "EB*R**30*42", "DTP*290*RD8*20260101-20260630"]),
        "x",
    ).segments
    (answer,) = answers(segments)
    found = meaning(answer)
    assert found.coverage == [("medicare", dt.date(2026, 1, 1), dt.date(2026, 6, 30), True, "Veterans Affairs")]


def _fixture_271(rest: list[str]) -> str:
    body = ["ST*271*0001*005010X279A1", "BHT*0022*11*1*20261120*1200", "HL*1**20*1", "NM1*PR*2*CMS*****PI*CMS",
            "HL*2*1*21*1", "NM1*1P*2*CLINIC*****XX*1234567893", "HL*3*2*22*0", "TRN*2*1-2026-11*1123456789",
            "NM1*IL*1*DOE*JANE****MI*1EG4TE5MK73", "DMG*D8*19450101", *rest]  # fmt: skip
    body.append(f"SE*{len(body) + 1}*0001")
    isa = "ISA*00*          *00*          *ZZ*CMS            *ZZ*CCMOPS         *261120*1200*^*00501*000000009*0*P*:"
    gs = "GS*HB*CMS*CCMOPS*20261120*1200*9*X*005010X279A1"
    return "~\n".join([isa, gs, *body, "GE*1*9", "IEA*1*000000009"]) + "~\n"


def test_the_biller_checks_eligibility_on_the_web_the_api_and_the_command_line(demo_activity, login, tmp_path,
                                                                                 capsys):  # fmt: skip
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from ccmops.billing.models import EligibilityInquiry

    maple = Organization.objects.get(slug=world.MAPLE)
    month, _ = previous_month()
    client = login("ben.biller")
    page = client.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert f"Write the 270 for {month}" in page
    written = client.post(f"/practices/{maple.id}/months/{month}/eligibility/")
    assert written.status_code == 302
    page = client.get(written["Location"]).content.decode()
    inquiry = EligibilityInquiry.objects.get(practice=maple, month=month)
    assert f"270 #{inquiry.control_number} written for {inquiry.patients} patient(s)" in page
    download = client.get(f"/eligibility-inquiries/{inquiry.id}.x12")
    assert download.status_code == 200 and download.content.decode() == inquiry.content
    assert login("rick.biller").get(f"/eligibility-inquiries/{inquiry.id}.x12").status_code == 404  # Riverbend
    pid = int(inquiry.content.split("TRN*1*")[1].partition("-")[0])
    plan = ["EB*1**30*MB", "DTP*291*D8*20150101", "EB*R**30*HM", "DTP*290*D8*20260101", "LS*2120",
            "NM1*PRP*2*BLUE RIVER MEDICARE HMO", "LE*2120"]  # fmt: skip
    text = eligibility_271(inquiry, control=601, answers={pid: plan})
    read = client.post(f"/practices/{maple.id}/payer-files/", {"file": SimpleUploadedFile("elig.271", text.encode())})
    shown = client.get(read["Location"]).content.decode()
    assert f"271: {inquiry.patients} patient(s) answered, 1 with changed coverage" in shown
    assert "BLUE RIVER MEDICARE HMO" in shown and "changed</span>" in shown
    month_page = client.get(f"/practices/{maple.id}/months/{month}/").content.decode()
    assert "Medicare Advantage</span>" in month_page and "from 2026-01-01" in month_page
    worklist = client.get("/", follow=True).content.decode() + login("nora.rn").get("/inbox/").content.decode()
    assert "Coverage changed for" in worklist  # Medicare Advantage: the month cannot go to Medicare
    # the API
    made = client.post(f"/api/practices/{maple.id}/months/{month}/eligibility-inquiry")
    assert made.status_code == 201 and made.json()["content"].startswith("ISA*")
    listed = client.get(f"/api/practices/{maple.id}/months/{month}/eligibility").json()
    assert listed[0]["patient_id"] == pid and listed[0]["outcome"] == "medicare_advantage" and listed[0]["changed"]
    assert client.get(f"/api/practices/{maple.id}/months/2026-13/eligibility").status_code == 422
    # the command line
    out = tmp_path / "ask.270"
    call_command("x12", "eligibility", "--practice", maple.slug, "--month", month, "--out", str(out))
    assert out.read_text().startswith("ISA*") and "ST*270*0001*005010X279A1" in out.read_text()
    assert f"for {inquiry.patients} patient(s) of {month}" in capsys.readouterr().out


def test_the_response_supersedes_what_imports_say_about_medicare_only():
    from ccmops.patients.coverage import eligibility_first

    day = dt.date(2020, 1, 1)
    rows = [
        (1, "fhir:a", "dual_eligible", day, None, False),  # its Medicaid side stands
        (1, "fhir:b", "medicare", day, None, False),
        (1, "csv:c", "private", day, None, False),
        (1, "manual:d", "medicare_advantage", day, None, False),  # a person's word stands
        (1, "271:9:0", "medicare", day, None, False),
        (2, "fhir:e", "medicare", day, None, False),  # no response for patient 2: as imported
    ]
    assert eligibility_first(rows) == [
        (1, "fhir:a", "medicaid", day, None, False),
        (1, "csv:c", "private", day, None, False),
        (1, "manual:d", "medicare_advantage", day, None, False),
        (1, "271:9:0", "medicare", day, None, False),
        (2, "fhir:e", "medicare", day, None, False),
    ]
