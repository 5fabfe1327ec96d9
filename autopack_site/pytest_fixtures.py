"""Fixtures shared by every app's tests (loaded with `-p` from pytest.ini).

Django imports happen inside the fixtures: this plugin loads before Django is set up.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def api_client():
    """A client with no credentials."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_key(db) -> str:
    from rest_framework_api_key.models import APIKey

    _, key = APIKey.objects.create_key(name="test-client")
    return key


@pytest.fixture
def authed_client(api_key):
    """A client sending a valid key in the X-API-Key header, as the executor does."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


@pytest.fixture
def phase6_on(monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_PHASE6_METRICS", "1")


@pytest.fixture(autouse=True)
def _kill_switches_unset(monkeypatch):
    """Start every test with the switches unset, whatever the shell exported."""
    monkeypatch.delenv("AUTOPACK_ENABLE_PHASE6_METRICS", raising=False)
    monkeypatch.delenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", raising=False)


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page driven by Playwright (the system's Chromium: Playwright's own
    download needs the internet). Skipped without Chromium, except where
    AUTOPACK_REQUIRE_BROWSER=1 (CI), where a missing Chromium fails the test."""
    if CHROMIUM is None and os.environ.get("AUTOPACK_REQUIRE_BROWSER") != "1":
        pytest.skip("needs Chromium; .ci/run installs Debian's")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between page actions are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()
            # The test's queries ran while Playwright's loop was current, which gives
            # them connections of their own: close them, or PostgreSQL cannot drop the
            # test database ("being accessed by other users").
            connections.close_all()
