"""The pages of months with history — closed, sent, with queued and resolved adjustments, remittance, and an
evaluated month with its review queue — name no variable their views do not pass and hold up as markup
(tests/test_template_variables.py and tests/test_page_markup.py walk the freshly seeded demo)."""

from tests.factories.pages import marked_templates, markup_problems, unresolved_names
from tests.factories.session import mfa_done

from ccmops.billing.adjustments import open_impacts, resolve
from ccmops.billing.evaluation import close_month
from ccmops.billing.exports import export_837p
from ccmops.billing.models import PatientMonthDecision
from ccmops.billing.remittance import mark_submitted
from ccmops.demo import world
from ccmops.enrollment.models import Enrollment
from ccmops.months.models import MonthClose
from ccmops.organizations.models import User


def test_pages_of_a_closed_month_with_adjustments_and_remittance(history, client):
    cedar = history[world.CEDAR]
    cora = User.objects.get(username="cora.biller")
    (closed,) = MonthClose.objects.filter(practice=cedar, status="closed").order_by("-month")[:1]
    month = closed.month
    batch = export_837p(practice=cedar, month=month, by=cora)
    mark_submitted(batch=batch, by=cora)
    impacts = open_impacts(cedar, month)
    note_only = next(i for i in impacts if i.adjustments[0].kind == "note")
    resolve(
        practice=cedar,
        month=month,
        adjustment_ids=[a.id for a in note_only.adjustments],
        outcome="no_change",
        by=cora,
    )
    patients = {i.patient.id for i in impacts}
    (latest,) = MonthClose.objects.filter(practice=cedar).order_by("-month")[:1]
    following = f"{int(latest.month[:4]) + int(latest.month[5:]) // 12}-{int(latest.month[5:]) % 12 + 1:02d}"
    close_month(practice=cedar, month=following, by=cora)
    ready = PatientMonthDecision.objects.filter(practice=cedar, month=following, status="ready").first()
    Enrollment.objects.filter(patient_id=ready.patient_id).update(status="enrolled_elsewhere")
    assert close_month(practice=cedar, month=following, by=cora).needs_review > 0  # a review queue to render
    paths = [f"/practices/{cedar.id}/months/{m}/" for m in (month, following)]
    paths += ["/"]
    paths += [f"/patients/{p}/packets/{month}/" for p in patients] + [f"/patients/{p}/" for p in patients]
    client.force_login(cora)
    mfa_done(client)
    with marked_templates():
        responses = {path: client.get(path, follow=True) for path in paths}
    assert {p: r.status_code for p, r in responses.items()} == dict.fromkeys(paths, 200)
    assert {p: unresolved_names(r) for p, r in responses.items()} == {p: [] for p in paths}
    assert {p: markup_problems(r) for p, r in responses.items()} == {p: [] for p in paths}
    # program health, with its revenue, is the program owner's (a biller is refused: security review, item 9)
    assert client.get(f"/practices/{cedar.id}/health/").status_code == 403
    client.force_login(User.objects.get(username="hank.owner"))
    mfa_done(client)
    with marked_templates():
        health = client.get(f"/practices/{cedar.id}/health/")
    assert health.status_code == 200 and unresolved_names(health) == [] and markup_problems(health) == []
