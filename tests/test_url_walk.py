"""Every URL pattern, web and API, with each of its parameters replaced in turn by a malformed or absent value
(a month 13, letters for an id, an id no record has, a number too big for the database, a NUL): the answer is a
404 or a 4xx that says what was wrong — never a server error."""

import re

from django.test import Client
from tests.factories.pages import fill, routes
from tests.factories.session import mfa_done

from ccmops.demo import world
from ccmops.organizations.models import User

BAD = ["0", "99999999", "9" * 30, "abc", "2026-13", "2026-00", "-1", "%00", "1e3", "..%2F"]
WHO = ["ben.biller", "olivia.owner", "nora.rn", "sam.lead"]


def test_no_malformed_url_parameter_gives_a_server_error(world_ids):
    ids = world_ids[world.MAPLE]
    clients = []
    for username in WHO:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=username))
        clients.append(mfa_done(client))
    failures, tried = [], 0
    for route in routes():
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        for name in names:
            for bad in BAD:
                url = fill(route, {**ids, name: bad})
                for client in clients:
                    tried += 1
                    status = client.get(url).status_code
                    if status >= 500:
                        failures.append(f"{url} as {client.session.get('_auth_user_id')}: {status}")
    assert tried > 1000
    assert not failures, "\n".join(failures[:30])


def test_an_address_that_matches_no_page_gets_the_products_own_404_even_in_debug_mode(client, settings, db):
    settings.DEBUG = True  # the demo runs in debug mode: Django would show its technical page, URL list and all
    page = client.get("/practices/1/no-such-page/")
    assert page.status_code == 404 and b"There is no page at this address" in page.content
    assert b"NONE,NOARCHIVE" not in page.content and len(page.content) < 10_000
    assert client.get("/no-such-page/").status_code == 404
