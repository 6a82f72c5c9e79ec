"""837P for a closed month, accepted by pyx12; the CSV charge export; refusal when data are missing."""

import pytest

from ccmops.billing.evaluation import close_month
from ccmops.billing.exports import charges_csv, export_837p
from ccmops.billing.models import ClaimBatch
from ccmops.billing.x12 import build_837p, validate
from ccmops.errors import Conflict, InvalidInput


def test_837p_is_accepted_by_pyx12_and_matches_the_decision(closed):
    twyla, month, ben = closed
    batch = export_837p(practice=twyla.practice, month=month, by=ben)
    text = batch.content
    assert "ST*837*" in text and "005010X222A1" in text
    assert "SV1*HC:99490*66.13*UN*1***" in text or "SV1*HC:99490*" in text
    assert "SV1*HC:99439*" in text and "NM1*IL*1*Moen*Twyla****MI*1EG4TE5MK73" in text
    assert "HI*ABK:" in text and f"CLM*{twyla.id}-{month}*" in text
    assert "PER*IC*Ben Arnaud*TE*2175550142~" in text  # the practice's own billing contact
    assert "*ZZ*DEMO0MAPLE1    *ZZ*06102          *" in text  # ISA: its EDI submitter ID, not its TIN
    assert "GS*HC*DEMO0MAPLE1*06102*" in text and "NM1*41*2*Maple Street Family Medicine*****46*DEMO0MAPLE1~" in text
    assert (batch.claims, batch.lines) == (1, 2)
    validate(text)  # raises if pyx12 does not accept it
    assert ClaimBatch.objects.get().control_number == batch.control_number


def test_a_file_pyx12_rejects_is_never_produced(closed):
    twyla, month, _ben = closed
    good = build_837p(twyla.practice, month, control_number=7).text
    broken = "".join(
        seg for seg in good.splitlines(keepends=True) if not seg.startswith("NM1*85")
    )  # no billing provider
    with pytest.raises(InvalidInput, match="pyx12 rejected"):
        validate(broken)


def test_missing_data_are_named_and_nothing_is_produced(closed):
    twyla, month, ben = closed
    twyla.medicare_id = ""
    twyla.save()
    with pytest.raises(InvalidInput, match="Medicare Beneficiary Identifier missing"):
        export_837p(practice=twyla.practice, month=month, by=ben)
    assert not ClaimBatch.objects.exists()


def test_an_837p_needs_the_practices_edi_submitter_id_and_billing_contact(closed):
    from ccmops.billing.fhir_claims import claims_bundle

    twyla, month, ben = closed
    practice = twyla.practice
    practice.edi_submitter_id, practice.billing_contact_name, practice.billing_contact_phone = "", "", ""
    practice.save()
    with pytest.raises(
        InvalidInput, match=r"EDI submitter ID is missing.*\n.*billing contact name is missing.*\n.*phone"
    ):
        export_837p(practice=practice, month=month, by=ben)
    assert not ClaimBatch.objects.exists()
    assert claims_bundle(practice=practice, month=month, by=ben)["entry"]  # FHIR Claims carry no submitter contact


def test_a_billing_partner_named_as_claims_submitter_sends_the_837p_for_the_practice(closed, orgs):
    from django.core.exceptions import ValidationError

    from ccmops.demo import world

    twyla, month, ben = closed
    practice, summit = twyla.practice, orgs[world.SUMMIT]
    practice.claims_submitter = summit
    practice.save()
    with pytest.raises(InvalidInput, match="claims submitter Summit Care Partners: EDI submitter ID is missing"):
        export_837p(practice=practice, month=month, by=ben)
    summit.edi_submitter_id, summit.billing_contact_name, summit.billing_contact_phone = (
        "SUMMITCLH01",
        "Dana Reyes",
        "3125550199",
    )
    summit.save()
    text = export_837p(practice=practice, month=month, by=ben).content  # pyx12 accepted it
    assert "*ZZ*SUMMITCLH01    *ZZ*06102          *" in text and "GS*HC*SUMMITCLH01*06102*" in text
    assert "NM1*41*2*Summit Care Partners*****46*SUMMITCLH01~" in text and "PER*IC*Dana Reyes*TE*3125550199~" in text
    assert f"NM1*85*2*{practice.name}*****XX*{practice.npi}~" in text  # the billing provider is still the practice
    assert f"REF*EI*{practice.tin}~" in text

    practice.claims_submitter = orgs[world.RIVERBEND]  # a practice cannot send another practice's claims
    with pytest.raises(ValidationError, match="billing partner"):
        practice.full_clean()


def test_an_837p_needs_the_billing_providers_zip_plus_4_and_patient_zips_of_five_or_nine_digits(closed):
    from ccmops.billing.fhir_claims import claims_bundle

    twyla, month, ben = closed
    practice = twyla.practice
    text = export_837p(practice=practice, month=month, by=ben).content
    assert "N4*Springfield*IL*627041248~" in text  # ZIP+4, digits only
    practice.postal_code = "62704"
    practice.save()
    twyla.postal_code = "6270"
    twyla.save()
    with pytest.raises(InvalidInput) as refused:
        export_837p(practice=practice, month=month, by=ben)
    assert "billing address ZIP code must be the nine-digit ZIP+4 (X12 5010, loop 2010AA); got '62704'" in str(
        refused.value
    )
    practice.postal_code = "62704-1248"
    practice.save()
    with pytest.raises(InvalidInput) as refused:  # the patient's claim is held out: the only one, so no file
        export_837p(practice=practice, month=month, by=ben)
    assert "every claim is held out" in str(refused.value)
    assert "ZIP code '6270' is not five or nine digits" in str(refused.value)
    assert ClaimBatch.objects.count() == 1
    assert claims_bundle(practice=practice, month=month, by=ben)["entry"]  # FHIR has no such rule


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("62704", True),
        ("62704-1248", True),
        ("627041248", True),
        ("6270", False),
        ("6270-41248", False),
        ("ABCDE", False),
    ],
)
def test_a_practice_zip_code_is_five_digits_or_zip_plus_4(value, valid):
    from django.core.exceptions import ValidationError

    from ccmops.organizations.validators import validate_us_zip

    if valid:
        validate_us_zip(value)
    else:
        with pytest.raises(ValidationError, match="not a ZIP code"):
            validate_us_zip(value)


def test_open_month_cannot_be_exported(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)
    with pytest.raises(Conflict, match="not closed"):
        build_837p(twyla.practice, month, control_number=1)


def test_charges_csv(closed):
    twyla, month, ben = closed
    text = charges_csv(practice=twyla.practice, month=month, by=ben)
    rows = text.strip().splitlines()
    assert rows[0].startswith("mrn,patient,birth_date")
    assert len(rows) == 3 and "99490" in text and "1EG4TE5MK73" in text


def test_batches_are_marked_submitted_and_remittance_recorded(closed):
    from ccmops.billing.models import ClaimLine
    from ccmops.billing.remittance import import_remittance, mark_submitted

    twyla, month, ben = closed
    batch = export_837p(practice=twyla.practice, month=month, by=ben)
    mark_submitted(batch=batch, by=ben)
    with pytest.raises(Conflict, match="already marked submitted"):
        mark_submitted(batch=batch, by=ben)
    bad = (
        f"claim_id,code,status,paid_amount,note\n{twyla.id}-{month},99490,paid,52.90,\n"
        f"{twyla.id}-{month},99999,paid,1,\n"
    )
    with pytest.raises(InvalidInput, match="line 3: no claim line"):
        import_remittance(practice=twyla.practice, text=bad, file_label="era.csv", by=ben)
    assert not ClaimLine.objects.exclude(remit_status="").exists()
    good = (
        f"claim_id,code,status,paid_amount,note\n{twyla.id}-{month},99490,paid,52.90,\n"
        f"{twyla.id}-{month},99439,denied,0,CO-97 bundled\n"
    )
    assert import_remittance(practice=twyla.practice, text=good, file_label="era.csv", by=ben) == 2
    assert dict(ClaimLine.objects.values_list("code", "remit_status")) == {"99490": "paid", "99439": "denied"}
