"""Browser tests: Playwright (Python) driving Debian's Chromium against a live server."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import connections
from tests.factories.pages import INTERNAL_CODES
from tests.worlds import demo_world

from ccmops.demo import world

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests are still
# synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("CCMOPS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: run `apt-get install chromium` (./dev test does it).")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # While Playwright runs, its event loop counts as running in this thread, and Django keeps this thread's
    # connections in a second place (asgiref's Local). Closing them on the way in and on the way out leaves no
    # connection open in the place the rest of the run does not see (the test database's drop would find it).
    connections.close_all()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()
        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    blocked: list[str] = []
    pg.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked something on a page: {blocked}"


@pytest.fixture
def live_demo(live_server, transactional_db):
    demo_world()  # committed, for the live server's own connection
    return live_server


@pytest.fixture
def sign_in(page, live_demo):
    def _sign_in(username: str):
        page.goto(f"{live_demo.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", world.DEMO_PASSWORD)
        with page.expect_navigation():  # the form's answer loaded (not half a second of network quiet after it)
            page.click("button[type=submit]")
        return page

    return _sign_in


# What a person must never see on a page (issue 32's defects, found by looking): template placeholders, Python's
# None, raw field keys of the note templates, internal codes and ids (tests/factories/pages.py).
NEVER_SHOWN = (
    re.compile(r"\{\{|\}\}|\{%|%\}"),  # a template tag left unrendered
    re.compile(r"\{[a-z_]+\}"),  # a message's {placeholder}
    re.compile(r"(?m)^\s*None\s*$"),  # Python's None rendered as a value (a text of its own: not "None yet.")
    re.compile(r"\b(?:Patient_status|Next_steps|Care_plan_goal)\b"),
    INTERNAL_CODES,
)


# The page's text as a person reads it: each text node on its own line, leaving out the choices of a closed select
# (a "None" option is a word there), scripts and styles.
VISIBLE_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("select, script, style, template, noscript")) out.push(node.textContent);
  }
  return out.join("\\n");
}"""


def look_at(page, path: Path, words: bool = True) -> None:
    """What a screenshot is checked for, as a person looking at it would: a page drawn (not blank: many colours,
    and ink over a good part of it), nothing wider than the window, and none of the words a person must never
    see in its visible text."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").resize((64, max(1, 64 * image.height // image.width)))
        colours = small.getcolors(maxcolors=64 * 64 * 4) or []
        background = max(colours)[0] if colours else 0
    assert len(colours) >= 8, f"screenshot {path.name}: {len(colours)} colours, the page looks blank"
    assert background / max(1, sum(n for n, _ in colours)) < 0.97, f"screenshot {path.name}: almost all background"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"screenshot {path.name}: the page is {overflow}px wider than the window"
    text = page.evaluate(VISIBLE_TEXT) if words else ""
    for pattern in NEVER_SHOWN:
        found = pattern.search(text)
        assert found is None, (
            f"screenshot {path.name} shows {found.group(0)!r}: …{text[max(0, found.start() - 60) : found.end() + 60]}…"
        )


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(name: str, words: bool = True) -> Path:
        """`words=False`: a page whose text is code, not words for a person (the API docs' paths)."""
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        look_at(page, path, words)
        return path

    return _shot
