"""The API docs render in a real browser from assets this service serves itself:
operators behind a firewall get working docs, and no page asks a CDN for anything."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_every_operation_without_leaving_the_host(live_server, browser_page):
    page = browser_page
    host = urlsplit(live_server.url).netloc
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=15_000)

    schema = page.request.get(f"{live_server.url}/api/schema/?format=json").json()
    operations = sum(
        1
        for methods in schema["paths"].values()
        for method in methods
        if method in ("get", "post", "put", "patch", "delete")
    )
    # Every tag section is expanded on load, so every operation has its block.
    assert page.locator(".opblock").count() == operations > 20
    assert failed == []
    outside = [
        url
        for url in requested
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != host
    ]
    assert outside == []
