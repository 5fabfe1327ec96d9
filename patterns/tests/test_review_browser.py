"""The merge review as an operator does it: Chromium, driven by Playwright, against a
live server on the test database (both databases)."""

import os
import shutil

import pytest
from django.contrib.auth.models import User
from django.db import connections

from patterns.models import Pattern
from patterns.tests.factories import PatternFactory

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI sets AUTOPACK_REQUIRE_BROWSER=1: there a missing Chromium fails the test instead.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and os.environ.get("AUTOPACK_REQUIRE_BROWSER") != "1",
                       reason="needs Chromium; .ci/run installs Debian's"),
]
PASSWORD = "review-in-a-browser-1"


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes between page actions are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()
            # The test's own queries ran while Playwright's loop was current, which gives
            # them connections of their own: close them, or PostgreSQL cannot drop the
            # test database ("being accessed by other users").
            connections.close_all()


@pytest.fixture
def operator(transactional_db):
    return User.objects.create_superuser("operator", "operator@example.com", PASSWORD)


def test_operator_merges_one_pair_and_declines_another_in_the_browser(live_server, page,
                                                                      operator):
    often = PatternFactory(pattern_id="truncated_often", occurrences=9,
                           template="Output was truncated (stop_reason=max_tokens)")
    rarely = PatternFactory(pattern_id="truncated_rarely", occurrences=2,
                            template="Truncation detected (stop_reason=max_tokens)")
    imports = PatternFactory(pattern_id="no_module", occurrences=4,
                             template="No module named <*>")
    cannot = PatternFactory(pattern_id="no_module_found", occurrences=1,
                            template="ModuleNotFoundError: No module named <*> found")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/patterns/pattern/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("text=Review merge suggestions")
    page.fill("#id_min_score", "0.1")
    page.click("#review-threshold button")

    truncation = page.locator("tr.suggestion", has_text="truncated_rarely")
    truncation.get_by_role("button", name="Same cause: merge").click()
    page.wait_for_load_state()
    rarely.refresh_from_db()
    assert rarely.merged_into == often
    # The answer keeps the operator's threshold, and the merged pair is gone.
    assert page.input_value("#id_min_score") == "0.1"
    assert page.locator("tr.suggestion", has_text="truncated_rarely").count() == 0

    modules = page.locator("tr.suggestion", has_text="no_module_found")
    modules.get_by_role("button", name="Different causes").click()
    page.wait_for_load_state()
    assert set(imports.distinct_from.all()) == {cannot}
    assert Pattern.objects.get(pattern_id="no_module_found").merged_into is None
    assert page.locator("tr.suggestion", has_text="no_module_found").count() == 0
