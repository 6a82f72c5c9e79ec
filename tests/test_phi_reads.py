"""Security review item 4 (ONC 170.315(d)(2)–(3)): every route that returns PHI leaves an audit event per
request — the packet as PDF, the 837P re-downloaded, care plans, consents, time entries, on the web and the API."""

from django.urls import resolve
from tests.factories.pages import fill, routes
from tests.factories.session import mfa_done

from ccmops.compliance.models import AuditEvent
from ccmops.compliance.phi_reads import API_PHI_PREFIXES, PHI_ROUTES, RECORD_KWARGS
from ccmops.demo import world
from ccmops.organizations.models import User

READS = ("read", "print", "export")


def holds_phi(path: str) -> bool:
    match = resolve(path.split("?")[0])
    return (
        any(k in match.kwargs for k in RECORD_KWARGS)
        or (match.url_name or "") in PHI_ROUTES
        or path.startswith(API_PHI_PREFIXES)
    )


def test_every_route_that_returns_phi_audits_each_read(world_ids, client):
    ids = world_ids[world.MAPLE]
    client.force_login(User.objects.get(username="ben.biller"))
    mfa_done(client)
    checked = []
    for route in routes():
        path = fill(route, ids)
        if "logout" in path or not holds_phi(path):
            continue
        before = AuditEvent.objects.filter(action__in=READS).count()
        response = client.get(path)
        if response.status_code != 200:
            continue
        after = AuditEvent.objects.filter(action__in=READS).count()
        assert after > before, path
        checked.append(path)
    must = {f"/patients/{ids['patient_id']}/", f"/api/care-plans/{ids['plan_id']}", f"/consents/{ids['consent_id']}/"}
    assert must <= set(checked), sorted(set(checked))[:40]
    assert len(checked) >= 20
