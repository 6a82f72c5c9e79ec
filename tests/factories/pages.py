"""Every page of the product in tests: the routes with real ids filled in, each page rendered, and what a page
must not show (markup problems, unresolved template variables)."""

from __future__ import annotations

import collections
import datetime as dt
import re
from html.parser import HTMLParser

from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from tests.factories.session import mfa_done

from ccmops.demo import world
from ccmops.organizations.models import Engagement, Organization, User

# What a person should never read on a page: access-rule IDs, stored choice keys, the engine's contract ids of
# practitioners, entries, notes and people (they may stay in a title attribute for auditors).
INTERNAL_CODES = re.compile(
    r"\bA-(?:PRACTICE|PARTNER|OVERSIGHT)[A-Z-]*\b|\bdo_not_bill\b|\bnpi-\d{10}\b|\bnpi-unknown[\w-]*|\bno_answer\b"
    r"|\bwrong_number\b|\bnothing_billable\b|\bneeds_review\b|\bte-\d+-\d+\b|\bnote-\d+\b|\buser-\d+\b"
)


def markup_problems(response) -> list[str]:
    """What is wrong with a page's title, ids and form controls (none: [])."""
    page = Markup()
    page.feed(response.content.decode())
    problems = [f"id {i!r} used {n} times" for i, n in page.ids.items() if n > 1]
    problems += [f"{c} has no label" for c in page.unnamed_controls()]
    if "<" in page.title or not page.title.strip():
        problems.append(f"title {page.title.strip()!r}")
    shown = " ".join(page.text)
    problems += [f"internal code shown: {m!r}" for m in sorted(set(INTERNAL_CODES.findall(shown)))]
    return problems


def routes():
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return [r for r in out if not r.startswith(("admin/", "static/"))]


def fill(route: str, ids: dict) -> str | None:
    import re

    def sub(m):
        name = m.group(2)
        if name not in ids:
            raise KeyError(f"route {route!r}: teach the isolation test a value for {name!r}")
        return str(ids[name])

    path = re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)
    return "/" + path.lstrip("^").rstrip("$")


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


QUESTIONNAIRE = {
    "panel_patients": 900,
    "medicare_share": 0.4,
    "expected_enrollment_rate": 0.4,
    "discipline": dict.fromkeys(
        ("dedicated_roles", "documentation_habits", "time_tracking_habits", "leadership_focus"), 3
    ),
    "desire_for_control": 3,
    "pricing": {
        "managed_per_patient_month": 45,
        "hybrid_monthly_per_patient_month": 32,
        "hybrid_outreach_per_patient_month": 24,
    },
    "runs": 20,
}


def engagement_for(practice):
    """The practice's engagement (Riverbend's with Summit; for Maple, one with a partner no attacker works for)."""
    found = Engagement.objects.filter(practice=practice).first()
    if found is None:
        harbor = Organization.objects.create(slug="harbor-partners", kind="partner", name="Harbor Partners")
        found = Engagement.objects.create(practice=practice, partner=harbor, starts_on=dt.date(2027, 1, 1))
    return found


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
        self._script_open = False
        self.text: list[str] = []  # what a person reads (not attributes, not scripts)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._script_open = True
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
        if tag in ("script", "style"):
            self._script_open = False
        if tag == "svg":
            self._svg_open -= 1
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._labels_open -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if not self._script_open:
            self.text.append(data)

    def unnamed_controls(self) -> list[str]:
        return [
            f"{tag} {a.get('name')!r}"
            for tag, a, wrapped in self.controls
            if not (wrapped or a.get("aria-label") or a.get("aria-labelledby") or a.get("title"))
            and a.get("id") not in self.label_targets
        ]


MARK = "\u00a7unresolved:%s\u00a7"


USERS = [
    ("nora.rn", world.MAPLE),
    ("ben.biller", world.MAPLE),
    ("olivia.owner", world.MAPLE),
    ("carl.compliance", world.MAPLE),
    ("pat.rn", world.RIVERBEND),
    ("sam.lead", world.RIVERBEND),
]


UNNAMED_TYPES = ("hidden", "submit", "button", "reset", "image")
