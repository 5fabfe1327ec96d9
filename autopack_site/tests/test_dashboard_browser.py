"""The dashboard as an operator sees it: Chromium, driven by Playwright, against a
live server on the test database, its figures checked against the API's."""

import json
import os
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework_api_key.models import APIKey

from autopack_site.tests.dashboard_support import log_in
from autopack_site.tests.test_dashboard import _estate

pytestmark = pytest.mark.browser
PASSWORD = "dashboard-in-a-browser-1"
ARTIFACTS = Path(os.environ.get("AUTOPACK_TEST_ARTIFACTS", settings.BASE_DIR / "test-artifacts"))


def _api(live_server, path: str) -> dict:
    _, key = APIKey.objects.create_key(name="dashboard-browser-test")
    request = urllib.request.Request(f"{live_server.url}{path}", headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def test_an_operator_logs_in_and_reads_the_overview(live_server, browser_page, transactional_db):
    User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    made = _estate(scale=2)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/dashboard/")  # sent to the admin's login first
    assert "/admin/login/" in page.url
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Overview"

    # Each category's bars add up to the daily API's figures over the same days.
    days = _api(live_server, "/api/v1/metrics/daily/")["results"]
    chart = page.locator('svg[data-chart="tokens-chart"]')
    for category, label in [("base_tokens", "base"), ("retrieval_tokens", "retrieval")]:
        drawn = chart.locator(f'rect[data-series="{label}"]')
        values = [int(drawn.nth(i).get_attribute("data-value")) for i in range(drawn.count())]
        assert sum(values) == sum(day[category] for day in days)
        first_title = drawn.first.locator("title").text_content()
        assert first_title.endswith(f" {label}") and ":" in first_title
    runs_chart = page.locator('svg[data-chart="runs-chart"]')
    assert int(runs_chart.get_attribute("data-total")) == sum(made.values())
    assert page.locator('[data-figure="runs-failed"]').inner_text() == str(made["failed"])
    assert page.locator("tr[data-pattern]").count() == 5
    assert page.locator("tr[data-approval]").count() == 3

    # The links lead into the admin for edits.
    page.locator("tr[data-pattern] th a").first.click()
    page.wait_for_load_state()
    assert "/admin/patterns/pattern/" in page.url
    page.go_back()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)
    # A phone's width: still one page, no horizontal scroll of the whole page.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Overview → the failed runs → one run's page, its chart against the API.
    page.get_by_role("link", name="Failed runs in the window").click()
    page.wait_for_load_state()
    assert page.locator("#id_has_failures").is_checked()
    assert page.locator("tr[data-run]").count() == made["failed"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-runs.png"), full_page=True)
    page.select_option("#id_state", ["DONE_SUCCESS"])
    page.locator("#id_has_failures").uncheck()
    page.get_by_role("button", name="Show runs").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-run]").count() == made["succeeded"]
    run_id = page.locator("tr[data-run]").first.get_attribute("data-run")
    page.locator("tr[data-run] th a").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"Run {run_id}"
    ledger = _api(live_server, f"/api/v1/runs/{run_id}/metrics/")["results"]
    bars = page.locator('svg[data-chart="phase-tokens-chart"] rect[data-series="base"]')
    drawn = sum(int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count()))
    assert drawn == sum(row["base_tokens"] for row in ledger)
    page.screenshot(path=str(ARTIFACTS / "dashboard-run.png"), full_page=True)


def test_an_operator_approves_and_rejects_from_the_approvals_page(
    live_server, browser_page, transactional_db
):
    from django.contrib.auth.models import Permission

    from autopack_site.tests.test_dashboard_approvals import _ask
    from metrics.models import ApprovalRequest

    user = User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_approvalrequest"))
    first, second = _ask(hours=1, context="rename module"), _ask(hours=2, context="drop table")
    page = browser_page
    log_in(page, live_server.url, "/dashboard/approvals/", "operator", PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-approvals.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name=f"Approve #{first.pk}").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == f"Approval {first.pk}: approved."
    # A rejection needs its reason: the browser will not send the form without one.
    page.get_by_role("button", name=f"Reject #{second.pk}").click()
    assert ApprovalRequest.objects.get(pk=second.pk).status == "pending"
    page.get_by_label("Reason (required)").fill("drops live data")
    page.get_by_role("button", name=f"Reject #{second.pk}").click()
    page.wait_for_load_state()
    assert "Nothing awaits a decision" in page.content()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.decided_by) == ("approved", "operator")
    assert (second.status, second.rejected_reason) == ("rejected", "drops live data")


def test_an_operator_walks_every_page_on_the_demo_data_and_starts_a_dry_run(
    live_server, browser_page, transactional_db, settings, tmp_path
):
    from abtests.models import ABTestResult
    from autopack_site.tests.test_dashboard_demo import load_demo
    from metrics.models import Run
    from replay.models import ReplayCampaign

    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    load_demo()
    User.objects.create_user("operator", password=PASSWORD, is_staff=True)
    page = browser_page
    log_in(page, live_server.url, "/dashboard/", "operator", PASSWORD)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    navigation = page.get_by_role("navigation", name="Dashboard")
    for link, heading, shot in [
        ("Patterns", "Failure patterns", "patterns"),
        ("A/B", "A/B tests", "ab"),
        ("Replays", "Replay campaigns", "replays"),
        ("Approvals", "Pending approvals", "approvals-list"),
        ("Runs", "Runs", "runs-all"),
        ("Overview", "Overview", "overview-demo"),
    ]:
        navigation.get_by_role("link", name=link, exact=True).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert navigation.locator('[aria-current="page"]').inner_text() == link
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{shot}.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways page
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, link
        page.set_viewport_size({"width": 1280, "height": 900})

    # The demo's tokens per category, drawn, against the daily API's figures.
    days = _api(live_server, "/api/v1/metrics/daily/")["results"]
    bars = page.locator('svg[data-chart="tokens-chart"] rect[data-series="base"]')
    drawn = sum(int(bars.nth(i).get_attribute("data-value")) for i in range(bars.count()))
    assert drawn == sum(day["base_tokens"] for day in days if day["date"] >= _window_start())
    assert page.locator("tr[data-pattern]").count() == min(5, _standalone_patterns())

    test_id = ABTestResult.objects.values_list("test_id", flat=True).first()
    navigation.get_by_role("link", name="A/B", exact=True).click()
    page.get_by_role("link", name=test_id, exact=True).click()
    page.wait_for_load_state()
    valid = ABTestResult.objects.filter(test_id=test_id, is_valid=True).count()
    assert page.locator("#ab-delta-chart rect.bar").count() == valid
    page.screenshot(path=str(ARTIFACTS / "dashboard-ab-test.png"), full_page=True)

    campaign = ReplayCampaign.objects.order_by("created_at").first()
    navigation.get_by_role("link", name="Replays", exact=True).click()
    page.get_by_role("link", name=campaign.pk).click()
    page.wait_for_load_state()
    assert page.locator("tr[data-attempt]").count() == campaign.attempts.count()
    page.screenshot(path=str(ARTIFACTS / "dashboard-replay.png"), full_page=True)

    candidate = Run.objects.filter(state__startswith="DONE_FAILED_", replay_of=None).first()
    navigation.get_by_role("link", name="Replays", exact=True).click()
    runs_before = Run.objects.count()
    page.get_by_label("Run ids").fill(candidate.id)
    page.get_by_role("button", name="Show the selection").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-selected]").count() == 1
    assert page.locator("tr[data-selected]").get_attribute("data-selected") == candidate.id
    assert "Nothing has been cloned" in page.content() and Run.objects.count() == runs_before
    page.screenshot(path=str(ARTIFACTS / "dashboard-replay-dry-run.png"), full_page=True)


def _window_start() -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now().date() - timedelta(days=29)).isoformat()


def _standalone_patterns() -> int:
    from patterns.models import Pattern

    return Pattern.objects.filter(merged_into__isnull=True).count()
