"""The merge review as an operator does it: Chromium, driven by Playwright, against a
live server on the test database (both databases)."""

import pytest
from django.contrib.auth.models import User

from patterns.models import Pattern
from patterns.tests.factories import PatternFactory

pytestmark = pytest.mark.browser
PASSWORD = "review-in-a-browser-1"


@pytest.fixture
def operator(transactional_db):
    return User.objects.create_superuser("operator", "operator@example.com", PASSWORD)


def test_operator_merges_one_pair_and_declines_another_in_the_browser(
    live_server, browser_page, operator
):
    page = browser_page
    often = PatternFactory(
        pattern_id="truncated_often",
        occurrences=9,
        template="Output was truncated (stop_reason=max_tokens)",
    )
    rarely = PatternFactory(
        pattern_id="truncated_rarely",
        occurrences=2,
        template="Truncation detected (stop_reason=max_tokens)",
    )
    imports = PatternFactory(pattern_id="no_module", occurrences=4, template="No module named <*>")
    cannot = PatternFactory(
        pattern_id="no_module_found",
        occurrences=1,
        template="ModuleNotFoundError: No module named <*> found",
    )

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
