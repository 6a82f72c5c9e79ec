"""In Chromium: while a big import is part written (its process died between chunks), the biller's "Evaluate the
month" is refused with the file's name and how far it got, and nothing is evaluated (security review item 11)."""

import pytest
from tests.factories.billing import previous_month
from tests.worlds import demo_world

from ccmops.demo import world
from ccmops.interop.models import ImportRun
from ccmops.months.models import MonthClose
from ccmops.organizations.models import Organization

pytestmark = pytest.mark.browser


def test_evaluating_waits_for_a_part_written_import(page, sign_in, live_demo, screenshot):
    demo_world(with_activity=True)
    month, _mid = previous_month()
    riverbend = Organization.objects.get(slug=world.RIVERBEND)
    ImportRun.objects.create(
        practice=riverbend, kind="bulk", file_name="ehr-export-2026-11", sha256="a" * 64, status="interrupted",
        total=262_345, done=40_000, chunked=True,
    )  # fmt: skip
    before = MonthClose.objects.filter(practice=riverbend, month=month).count()

    sign_in("rick.biller")
    page.goto(f"{live_demo.url}/practices/{riverbend.id}/months/{month}/")
    page.click("button:has-text('Evaluate the month')")
    page.wait_for_load_state("networkidle")
    text = page.inner_text("main")
    assert "import of ehr-export-2026-11 stopped part way (40,000 of 262,345 records written)" in text, text
    assert "Import the same file again to resume it." in text
    assert MonthClose.objects.filter(practice=riverbend, month=month).count() == before
    screenshot("evaluate-waits-for-import")
