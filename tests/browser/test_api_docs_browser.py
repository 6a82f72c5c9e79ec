"""In Chromium: the API's documentation page renders Swagger UI from assets this installation serves (no CDN),
within the Content-Security-Policy (the page fixture fails on any violation), and the product has its icon."""

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_from_local_assets(page, sign_in, live_demo, screenshot):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_demo.url) else None)
    sign_in("ben.biller")
    page.goto(f"{live_demo.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "ccmops API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20  # the operations are listed
    assert outside == []
    screenshot("api-docs", words=False)  # its text is the API: paths with {placeholders}


def test_pages_and_the_browser_find_the_icon(page, live_demo):
    page.goto(f"{live_demo.url}/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_demo.url}{icon}").status == 200
    answer = page.request.get(f"{live_demo.url}/favicon.ico")
    assert answer.status == 200 and "svg" in answer.headers["content-type"]
