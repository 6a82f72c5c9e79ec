"""FHIR R4 Claim resources for a closed month: valid R4, the same claims, codes, units, amounts and diagnoses as
the 837P, every reference resolved in the bundle; refused for an open month or missing data; web, API, CLI."""

import json
import re

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle

from ccmops.billing.evaluation import close_month
from ccmops.billing.exports import charges_csv
from ccmops.billing.fhir_claims import CLAIM_ID, claims_bundle
from ccmops.billing.models import ClaimLine, PatientMonthDecision
from ccmops.billing.x12 import build_837p, line_order
from ccmops.compliance.models import AuditEvent
from ccmops.errors import Conflict, InvalidInput
from ccmops.organizations.charges import charge_of


def _of_type(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value) -> list[str]:
    if isinstance(value, dict):
        own = [value["reference"]] if "reference" in value else []
        return own + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_claims_are_valid_r4_and_match_the_837p(closed):
    twyla, month, ben = closed
    bundle = claims_bundle(practice=twyla.practice, month=month, by=ben)
    parsed = Bundle.model_validate_json(json.dumps(bundle))  # what a receiver reads back is valid R4
    assert parsed.type == "collection" and len(parsed.entry) == len(bundle["entry"])
    (claim,) = _of_type(bundle, "Claim")
    assert claim["identifier"] == [{"system": CLAIM_ID, "value": f"{twyla.id}-{month}"}]
    lines = sorted(ClaimLine.objects.filter(patient=twyla, month=month), key=line_order)  # base code first
    assert [(i["productOrService"]["coding"][0]["code"], i["quantity"]["value"]) for i in claim["item"]] == [
        (x.code, x.units) for x in lines
    ]
    # the practice's charges, as the 837P's (R-CLM-CHG-1), not the allowed amounts
    charges = [float(charge_of(twyla.practice, x.code) * x.units) for x in lines]
    assert [i["net"]["value"] for i in claim["item"]] == charges
    assert claim["total"]["value"] == sum(charges)
    assert {i["servicedDate"] for i in claim["item"]} == {x.date_of_service.isoformat() for x in lines}
    x12 = build_837p(twyla.practice, month, control_number=5).text
    hi = re.search(r"^HI\*(.*)~$", x12, re.M).group(1)
    dx = [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claim["diagnosis"]]
    assert [c.replace(".", "") for c in dx] == [part.split(":")[1] for part in hi.split("*")]
    assert f"*{claim['total']['value']:.2f}*" in x12  # the CLM amount
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert _references(bundle) and set(_references(bundle)) <= urls  # every reference resolves in the bundle
    (coverage,) = _of_type(bundle, "Coverage")
    assert coverage["subscriberId"] == "1EG4TE5MK73"
    (patient,) = _of_type(bundle, "Patient")
    assert {"system": "http://hl7.org/fhir/sid/us-mbi", "value": "1EG4TE5MK73"} in patient["identifier"]
    (practitioner,) = _of_type(bundle, "Practitioner")
    assert practitioner["identifier"][0]["value"] == lines[0].billing_practitioner.npi
    assert AuditEvent.objects.filter(object_type="fhir_claims", object_id=month).count() == 1
    again = claims_bundle(practice=twyla.practice, month=month, by=ben)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]  # stable ids


def test_lines_not_to_bill_are_left_out(closed):
    twyla, month, ben = closed
    PatientMonthDecision.objects.filter(patient=twyla).update(override_action="do_not_bill")
    with pytest.raises(InvalidInput, match="no claim lines"):
        claims_bundle(practice=twyla.practice, month=month, by=ben)


def test_missing_data_are_named(closed):
    twyla, month, ben = closed
    twyla.medicare_id = ""
    twyla.save()
    with pytest.raises(InvalidInput, match="Medicare Beneficiary Identifier missing"):
        claims_bundle(practice=twyla.practice, month=month, by=ben)
    assert not AuditEvent.objects.filter(object_type="fhir_claims").exists()


def test_an_open_month_gives_neither_fhir_claims_nor_charges(month_world):
    twyla, month, ben = month_world
    close_month(practice=twyla.practice, month=month, by=ben)  # evaluated, in review, not approved
    assert ClaimLine.objects.filter(patient=twyla).exists()
    with pytest.raises(Conflict, match="not closed"):
        claims_bundle(practice=twyla.practice, month=month, by=ben)
    with pytest.raises(Conflict, match="not closed"):
        charges_csv(practice=twyla.practice, month=month, by=ben)


def test_fhir_claims_through_the_web_api_and_cli(closed, login, tmp_path):
    twyla, month, _ben = closed
    practice = twyla.practice
    client = login("ben.biller")
    page = client.get(f"/practices/{practice.id}/months/{month}/")
    assert f"/practices/{practice.id}/months/{month}/export/fhir/" in page.content.decode()
    download = client.get(f"/practices/{practice.id}/months/{month}/export/fhir/")
    assert download["Content-Type"] == "application/fhir+json"
    assert f'filename="{practice.slug}-{month}-claims.fhir.json"' in download["Content-Disposition"]
    assert len(_of_type(json.loads(download.content), "Claim")) == 1
    api = client.get(f"/api/practices/{practice.id}/months/{month}/claims.fhir.json")
    assert api.status_code == 200 and _of_type(api.json(), "Claim")[0]["use"] == "claim"
    assert login("nora.rn").get(f"/api/practices/{practice.id}/months/{month}/claims.fhir.json").status_code == 403
    target = tmp_path / "claims.json"
    call_command("month", "export-fhir", "--practice", practice.slug, "--month", month, "--out", str(target))
    assert len(_of_type(json.loads(target.read_text()), "Claim")) == 1
