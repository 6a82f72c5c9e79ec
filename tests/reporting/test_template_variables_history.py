"""The pages of months with history — closed, sent, with queued and resolved adjustments, remittance — name no
variable their views do not pass (tests/test_template_variables.py walks the freshly seeded demo)."""

from tests.conftest import mfa_done
from tests.test_template_variables import marked_templates, unresolved_names

from ccmops.billing.adjustments import open_impacts, resolve
from ccmops.billing.exports import export_837p
from ccmops.billing.models import MonthClose
from ccmops.billing.remittance import mark_submitted
from ccmops.demo import world
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
    paths = [f"/practices/{cedar.id}/months/{month}/", f"/practices/{cedar.id}/health/", "/"]
    paths += [f"/patients/{p}/packets/{month}/" for p in patients] + [f"/patients/{p}/" for p in patients]
    client.force_login(cora)
    mfa_done(client)
    with marked_templates():
        responses = {path: client.get(path, follow=True) for path in paths}
    assert {p: r.status_code for p, r in responses.items()} == dict.fromkeys(paths, 200)
    assert {p: unresolved_names(r) for p, r in responses.items()} == {p: [] for p in paths}
