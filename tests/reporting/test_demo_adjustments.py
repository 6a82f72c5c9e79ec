"""The demo's history leaves a call recorded, and a note signed, after a close in the slipping practice's
adjustment queue."""

from ccmops.billing.adjustments import open_impacts
from ccmops.billing.models import ClaimLine
from ccmops.demo import world
from ccmops.months.models import MonthClose


def test_the_slipping_practice_has_a_late_call_that_would_earn_an_add_on_and_a_note_signed_late(history):
    cedar = history[world.CEDAR]
    (closed,) = MonthClose.objects.filter(practice=cedar, status="closed").order_by("-month")[:1]
    impacts = {i.adjustments[0].kind: i for i in open_impacts(cedar, closed.month)}
    assert sorted(impacts) == ["note", "time"]
    note = impacts["note"].adjustments[0].note
    assert note.signed_at is not None and note.month == closed.month and impacts["note"].changes == []
    impact = impacts["time"]
    assert impact.minutes == 15 and "after the month was closed" in impact.adjustments[0].time_entry.late_reason
    assert [(c["code"], c["billed_units"], c["now_units"]) for c in impact.changes] == [("99439", 0, 1)]
    assert sorted(b.code for b in impact.billed) == sorted(
        ClaimLine.objects.filter(patient=impact.patient, month=closed.month).values_list("code", flat=True)
    )
    for other in (world.LAKESIDE, world.RIVERBEND):
        assert not open_impacts(history[other], closed.month)


def test_a_history_month_of_the_demo_produces_an_837p_its_patients_have_mbis_and_addresses(history):
    from ccmops.billing.exports import export_837p

    cedar = history[world.CEDAR]
    (closed,) = MonthClose.objects.filter(practice=cedar, status="closed").order_by("-month")[:1]
    batch = export_837p(practice=cedar, month=closed.month)  # refused if pyx12 or a missing field objected
    billed = ClaimLine.objects.filter(practice=cedar, month=closed.month)
    assert batch.claims == billed.values("patient").distinct().count() > 0
    assert batch.lines == billed.count()
