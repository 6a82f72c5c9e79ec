"""What a clearinghouse and a Medicare contractor check in an 837P (R-CLM-FORM-1, R-CLM-FORM-2, R-CLM-CHG-1):
the practice's charges, each claim checked before the file is built and held out (not the whole file) when it
fails, entity types, loop 2310B only when needed, base line first, local times, test files, taxonomy, at most
5,000 claims per transaction set, control numbers per submitter, and no 837P for RHC/FQHC practices."""

import zoneinfo

import pytest
from django.utils import timezone

from ccmops.billing import x12
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.models import ClaimBatch, ClaimLine
from ccmops.billing.remittance import mark_submitted
from ccmops.billing.x12 import validate
from ccmops.errors import Conflict, InvalidInput
from ccmops.organizations.charges import set_charges
from ccmops.organizations.models import Practitioner


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_claims_carry_the_practices_charges_not_the_allowed_amount(closed):
    """R-CLM-CHG-1: SV1-02 is the charge × units, CLM02 their sum; the charge CSV says both, the allowed amount
    as an estimate."""
    twyla, month, ben = closed
    set_charges(org=twyla.practice, values={"99490": "92.50", "99439": "70"}, by=ben)
    twyla.practice.refresh_from_db()
    batch = export_837p(practice=twyla.practice, month=month, by=ben)
    segs = segments(batch.content)
    assert any(s.startswith("SV1*HC:99490*92.50*UN*1***1:") for s in segs)
    assert any(s.startswith("SV1*HC:99439*70.00*UN*1") for s in segs)
    assert any(s.startswith(f"CLM*{twyla.id}-{month}*162.50*") for s in segs)
    assert str(batch.total) == "162.50"
    rows = charges_csv(practice=twyla.practice, month=month, by=ben).splitlines()
    assert rows[0].split(",")[8:10] == ["charge", "allowed_estimate"]
    line = next(r for r in rows if ",99490," in r)
    assert ",92.50,66.13," in line


def test_a_claim_without_a_charge_or_with_an_old_medicare_id_is_held_out_and_the_rest_produced(closed):
    """A failing claim is held out with its reason; when every claim fails nothing is produced, naming each."""
    twyla, month, ben = closed
    set_charges(org=twyla.practice, values={"99439": ""}, by=ben)
    twyla.practice.refresh_from_db()
    with pytest.raises(InvalidInput, match=r"no charge for 99439 in Settings \(Charges\)"):
        export_837p(practice=twyla.practice, month=month, by=ben)
    set_charges(org=twyla.practice, values={"99439": "65.00"}, by=ben)
    twyla.practice.refresh_from_db()
    twyla.medicare_id = "123456789A"  # a pre-2020 HICN: claims must carry the MBI
    twyla.save()
    with pytest.raises(InvalidInput, match="is not an MBI in CMS's format"):
        export_837p(practice=twyla.practice, month=month, by=ben)
    assert not ClaimBatch.objects.exists()


def test_one_failing_claim_does_not_stop_the_file(closed):
    """Two patients billed; one has no diagnosis on its lines (R-DX-3): it is held out, the other goes."""
    from ccmops.patients.models import Patient

    twyla, month, ben = closed
    other = Patient.objects.exclude(pk=twyla.pk).filter(practice=twyla.practice).first()
    other.medicare_id, other.address_line, other.city, other.state = "2EG4TE5MK74", "1 Elm St", "Springfield", "IL"
    other.postal_code = "62704"
    other.save()
    for line in ClaimLine.objects.filter(patient=twyla):
        ClaimLine.objects.create(
            practice=line.practice,
            patient=other,
            month=month,
            code=line.code,
            decision=line.decision,
            billing_practitioner=line.billing_practitioner,
            units=line.units,
            date_of_service=line.date_of_service,
            diagnosis_codes=[],
            allowed_amount=line.allowed_amount,
            patient_share=line.patient_share,
        )
    batch = export_837p(practice=twyla.practice, month=month, by=ben)
    assert batch.claims == 1 and f"CLM*{twyla.id}-{month}*" in batch.content and f"CLM*{other.id}-" not in batch.content
    (held,) = batch.held_out
    assert held["patient_id"] == other.id and any("no diagnosis" in r for r in held["reasons"])


def test_base_before_add_on_no_2310b_for_the_billing_npi_and_local_times(closed):
    twyla, month, ben = closed
    practice = twyla.practice
    rendering = ClaimLine.objects.filter(patient=twyla).first().billing_practitioner
    segs = segments(export_837p(practice=practice, month=month, by=ben).content)
    sv1 = [s.split("*")[1] for s in segs if s.startswith("SV1")]
    assert sv1 == ["HC:99490", "HC:99439"]  # base first (ENGINE POLICY under R-CLM-FORM-1)
    assert any(s.startswith("NM1*82*1*") for s in segs)  # rendering NPI differs from the group's: 2310B sent
    local = timezone.now().astimezone(zoneinfo.ZoneInfo(practice.time_zone))
    isa = segs[0].split("*")
    assert isa[9] == f"{local:%y%m%d}" and abs(int(isa[10]) - int(f"{local:%H%M}")) <= 1
    # a solo practitioner billing under their own NPI: entity type 1, and no 2310B (rendering = billing)
    practice.npi, practice.billing_provider_type = rendering.npi, "person"
    practice.save()
    ClaimBatch.objects.all().delete()
    segs = segments(export_837p(practice=practice, month=month, by=ben).content)
    assert f"NM1*85*1*{rendering.last_name}*{rendering.first_name}****XX*{rendering.npi}" in segs
    assert not any(s.startswith("NM1*82") for s in segs)


def test_a_person_billing_provider_needs_a_practitioner_with_the_billing_npi(closed):
    twyla, month, ben = closed
    practice = twyla.practice
    practice.billing_provider_type = "person"
    practice.save()
    assert not Practitioner.objects.filter(npi=practice.npi).exists()
    with pytest.raises(InvalidInput, match="billing provider is a person, but no practitioner"):
        export_837p(practice=practice, month=month, by=ben)


def test_test_files_taxonomy_and_transaction_sets_of_at_most_5000_claims(closed, monkeypatch):
    twyla, month, ben = closed
    practice = twyla.practice
    practice.taxonomy_code = "207Q00000X"
    practice.save()
    batch = export_837p(practice=practice, month=month, by=ben, test=True)
    segs = segments(batch.content)
    assert segs[0].split("*")[15] == "T" and batch.test
    assert segs[segs.index("HL*1**20*1") + 1] == "PRV*BI*PXC*207Q00000X"
    with pytest.raises(Conflict, match="test file"):
        mark_submitted(batch=batch, by=ben)
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_TRANSACTION", 0 + 1)
    text = x12.build_837p(practice, month, control_number=99).text
    validate(text)
    assert sum(s.startswith("ST*837*") for s in segments(text)) == 1  # one claim: one set
    assert "GE*1*99" in text


def test_control_numbers_count_per_submitter(closed):
    twyla, month, ben = closed
    first = export_837p(practice=twyla.practice, month=month, by=ben)
    second = export_837p(practice=twyla.practice, month=month, by=ben)
    assert (first.submitter, second.control_number) == (twyla.practice, first.control_number + 1)


def test_rhc_and_fqhc_practices_never_get_an_837p(closed):
    """R-CLM-FORM-2, R-RHC-4: institutional claims; refused with the reason, nothing produced."""
    twyla, month, ben = closed
    practice = twyla.practice
    for pos in ("72", "50"):
        practice.place_of_service = pos
        practice.save()
        with pytest.raises(InvalidInput, match="institutional claim"):
            export_837p(practice=practice, month=month, by=ben)
    assert not ClaimBatch.objects.exists()


def test_producing_an_837p_is_a_post_and_the_file_is_downloaded_from_its_batch(closed, client):
    from tests.factories.session import mfa_done

    twyla, month, ben = closed
    client.force_login(ben)
    mfa_done(client)
    base = f"/practices/{twyla.practice_id}/months/{month}"
    assert client.get(f"{base}/837p/").status_code == 405  # a link cannot create a batch
    assert client.get(f"{base}/export/837p/").status_code == 404
    response = client.post(f"{base}/837p/")
    assert response.status_code == 302 and "produced" in response["Location"]
    batch = ClaimBatch.objects.get()
    download = client.get(f"{base}/batches/{batch.control_number}.x12")
    assert download.status_code == 200 and download.content.decode() == batch.content
    assert ClaimBatch.objects.count() == 1  # downloading it again made no new batch
    page = client.get(f"{base}/").content.decode()
    assert f"#{batch.control_number}" in page


@pytest.mark.django_db(transaction=True)
def test_two_billers_exporting_at_once_each_get_a_file_with_its_own_control_number(demo_activity):
    """Security review item 5: the control number was max + 1 over every practice, without a lock; two billers
    exporting at once on PostgreSQL got server errors. The submitter's counter is read with a row lock."""
    import datetime as dt
    import threading
    import zoneinfo

    from django.db import connection

    from ccmops.billing.approval import approve_and_close
    from ccmops.billing.evaluation import close_month
    from ccmops.billing.models import PatientMonthDecision
    from ccmops.billing.review import override
    from ccmops.demo import world
    from ccmops.organizations.models import Organization

    if connection.vendor != "postgresql":
        pytest.skip("row locks: SQLite has one writer at a time")
    maple = Organization.objects.get(slug=world.MAPLE)
    last = dt.datetime.now(zoneinfo.ZoneInfo(maple.time_zone)).replace(day=1) - dt.timedelta(days=1)
    month = f"{last:%Y-%m}"
    close_month(practice=maple, month=month)
    for held in PatientMonthDecision.objects.filter(practice=maple, month=month, review="needs_review"):
        override(decision=held, action="bill", reason="Reviewed with the practitioner", by=None)
    approve_and_close(practice=maple, month=month, by=None)
    results, start = [], threading.Barrier(4)

    def export() -> None:
        try:
            start.wait(10)
            results.append(export_837p(practice=Organization.objects.get(pk=maple.pk), month=month).control_number)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=export) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, int) for r in results) and len(set(results)) == 4, results
