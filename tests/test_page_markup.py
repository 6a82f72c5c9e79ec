"""Every page's markup holds up: a title of plain text, element ids unique on the page, and every form control
with an accessible name (a label, aria-label or title) — a screen reader or a click on a label depends on them.
The walk is the one of test_template_variables: every page route as users of each role in both demo practices."""

import collections

from tests.factories.pages import is_page, markup_problems, page_responses


def test_every_page_has_a_plain_title_unique_ids_and_named_controls(world_ids, client):
    found, rendered = collections.defaultdict(set), set()
    for _username, route, response in page_responses(client, world_ids):
        if not is_page(response):
            continue
        rendered.add(route)
        found[route].update(markup_problems(response))
    assert {  # the walk reached the pages with the most forms
        "patients/<int:patient_id>/",
        "patients/<int:patient_id>/notes/new/",
        "practices/<int:practice_id>/operating-model/",
        "practices/<int:practice_id>/assessments/new/",
        "practices/<int:practice_id>/months/<month:month>/",
        "care-plans/<int:plan_id>/",
    } <= rendered
    assert {route: sorted(problems) for route, problems in found.items() if problems} == {}
