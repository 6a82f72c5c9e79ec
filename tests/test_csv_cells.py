"""Security review item 11: CSV exports neutralise formulas (=, +, -, @ at a cell's start) and keep numbers."""

import io

import pytest

from ccmops.platform.csv_cells import safe_cell, writer


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-12.50", "-12.50"),  # a negative amount is data
        ("Moen, Twyla", "Moen, Twyla"),
        (42, 42),
    ],
)
def test_cells(value, written):
    assert safe_cell(value) == written


def test_an_export_of_a_patient_named_like_a_formula(login):
    from ccmops.patients.models import Patient

    twyla = Patient.objects.get(family_name="Moen")
    Patient.objects.filter(pk=twyla.pk).update(family_name='=HYPERLINK("http://evil","x")')
    out = io.StringIO()
    writer(out).writerow(["=1+1", "ok"])
    assert out.getvalue().startswith("'=1+1,ok")
    client = login("olivia.owner")
    body = client.get(f"/practices/{twyla.practice_id}/candidates/?format=csv").content.decode()
    assert "=HYPERLINK" not in body.replace("'=HYPERLINK", "")
