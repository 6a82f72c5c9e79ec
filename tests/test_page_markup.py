"""Every page's markup holds up: a title of plain text, element ids unique on the page, and every form control
with an accessible name (a label, aria-label or title) — a screen reader or a click on a label depends on them.
The walk is the one of test_template_variables: every page route as users of each role in both demo practices."""

import collections
from html.parser import HTMLParser

from tests.test_route_isolation import world_ids  # noqa: F401 - the fixture
from tests.test_template_variables import is_page, page_responses

UNNAMED_TYPES = ("hidden", "submit", "button", "reset", "image")


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title = ""
        self.ids = collections.Counter()
        self.label_targets = set()
        self.controls = []  # (tag, attributes, inside a <label>)
        self._in_title = False
        self._labels_open = 0
        self._svg_open = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "svg":
            self._svg_open += 1
        if tag == "title" and not self._svg_open:  # an SVG <title> is a chart's tooltip, not the page's
            self._in_title = True
        elif tag == "label":
            self._labels_open += 1
            if a.get("for"):
                self.label_targets.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in UNNAMED_TYPES:
            self.controls.append((tag, a, self._labels_open > 0))
        elif self._in_title:
            self.title += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_open -= 1
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._labels_open -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def unnamed_controls(self) -> list[str]:
        return [
            f"{tag} {a.get('name')!r}"
            for tag, a, wrapped in self.controls
            if not (wrapped or a.get("aria-label") or a.get("aria-labelledby") or a.get("title"))
            and a.get("id") not in self.label_targets
        ]


def markup_problems(response) -> list[str]:
    """What is wrong with a page's title, ids and form controls (none: [])."""
    page = Markup()
    page.feed(response.content.decode())
    problems = [f"id {i!r} used {n} times" for i, n in page.ids.items() if n > 1]
    problems += [f"{c} has no label" for c in page.unnamed_controls()]
    if "<" in page.title or not page.title.strip():
        problems.append(f"title {page.title.strip()!r}")
    return problems


def test_every_page_has_a_plain_title_unique_ids_and_named_controls(world_ids, client):  # noqa: F811
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
