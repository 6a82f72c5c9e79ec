"""Every page renders every variable it names. Django renders a name the view never passed as an empty string,
silently: the month page's revenue and 837P batches sections once rendered empty that way. Here the templates run
with a marker for unresolved variables over every page route, as users of each role in both demo practices."""

import re

from django.conf import settings
from django.test import override_settings
from tests.conftest import mfa_done
from tests.test_route_isolation import fill, routes, world_ids  # noqa: F401 - the fixture

from ccmops.demo import world
from ccmops.organizations.models import User

MARK = "\u00a7unresolved:%s\u00a7"
USERS = [
    ("nora.rn", world.MAPLE),
    ("ben.biller", world.MAPLE),
    ("olivia.owner", world.MAPLE),
    ("carl.compliance", world.MAPLE),
    ("pat.rn", world.RIVERBEND),
    ("sam.lead", world.RIVERBEND),
]


def marked_templates():
    """The project's templates with unresolved names rendered as a marker (`unresolved_names` finds them)."""
    templates = [dict(t) for t in settings.TEMPLATES]
    templates[0]["OPTIONS"] = {**templates[0].get("OPTIONS", {}), "string_if_invalid": MARK}
    return override_settings(TEMPLATES=templates)


def unresolved_names(response) -> list[str]:
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    return re.findall("\u00a7unresolved:([^\u00a7]*)\u00a7", response.content.decode())


def page_responses(client, ids):
    """(username, route, response) for every page route (a GET) as each of USERS."""
    pages = [r for r in routes() if not r.startswith("api/") and "logout" not in r]
    for username, slug in USERS:
        client.force_login(User.objects.get(username=username))
        mfa_done(client)
        for route in pages:
            yield username, route, client.get(fill(route, ids[slug]))


def is_page(response) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


def test_no_page_names_a_variable_its_view_does_not_pass(world_ids, client):  # noqa: F811
    unresolved, rendered = {}, set()
    with marked_templates():
        for username, route, response in page_responses(client, world_ids):
            if is_page(response):
                rendered.add(route)
            for name in unresolved_names(response):
                unresolved.setdefault(f"{route} {name}", username)
    assert {  # the walk reached the pages
        "patients/<int:patient_id>/",
        "practices/<int:practice_id>/months/<month:month>/",
        "patients/<int:patient_id>/packets/<month:month>/",
        "consents/<int:consent_id>/",
        "care-plans/<int:plan_id>/",
        "practices/<int:practice_id>/candidates/",
        "staff/",
        "settings/",
        "account/password/",
    } <= rendered
    assert unresolved == {}
