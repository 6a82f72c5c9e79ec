"""The biller's list of a practice's months: each with its state in the close and its totals, linked to its page;
reached from the home page's "Months and claims"."""

import re

from tests.factories.billing import previous_month

from ccmops.billing.evaluation import close_month
from ccmops.demo import world
from ccmops.months.month import Month
from ccmops.organizations.models import Organization


def test_the_months_list_shows_each_months_state_and_totals(demo_activity, login):
    maple = Organization.objects.get(slug=world.MAPLE)
    last, _ = previous_month()
    summary = close_month(practice=maple, month=last)
    ben = login("ben.biller")
    assert f'href="/practices/{maple.id}/months/"' in ben.get("/", follow=True).content.decode()  # from home
    page = ben.get(f"/practices/{maple.id}/months/").content.decode()
    row = page[page.index(f'href="/practices/{maple.id}/months/{last}/"') :].split("</tr>")[0]
    assert "In review" in row and f"<td>{summary.patient_months}</td>" in row
    assert f"<td>{summary.lines}</td>" in row and f"${summary.allowed}" in row
    this = Month.current(maple.time_zone)
    assert f'href="/practices/{maple.id}/months/{this}/"' in page and "In progress" in page
    # The month in progress, evaluated as the nightly preview does, is still in progress (it cannot be closed), and
    # its allowed total is in cents (SQLite sums decimals as floats: "$529.040000000000" was shown).
    close_month(practice=maple, month=str(this))
    page = ben.get(f"/practices/{maple.id}/months/").content.decode()
    row = page[page.index(f'href="/practices/{maple.id}/months/{this}/"') :].split("</tr>")[0]
    assert "In progress" in row and "In review" not in row
    amounts = re.findall(r"\$([0-9.,]+)</td>", page)
    assert amounts and all(re.fullmatch(r"[0-9,]+\.[0-9]{2}", a) for a in amounts), amounts
    before = this.previous().previous()
    if f"/months/{before}/" in page:  # a month with recorded work before last month
        assert "Ended, not evaluated" in page[page.index(f"/months/{before}/") :].split("</tr>")[0]
    assert 3 <= page.count("<tr>") <= 13  # a header, and at most the last twelve months with work
    assert ben.get(f"/practices/{maple.id}/months/?month={last}")["Location"].endswith(f"/months/{last}/")
    assert ben.get(f"/practices/{maple.id}/months/?month=2026-13").status_code == 422
    assert login("nora.rn").get(f"/practices/{maple.id}/months/").status_code == 403
