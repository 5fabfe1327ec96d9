"""The dashboard's A/B pages: per-test counts and statistics from the summary
selector the API uses, rendered by the admin summary's own template."""

import re

import pytest

from abtests import selectors
from abtests.tests.factories import ABTestResultFactory
from autopack_site.tests.dashboard_support import queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_tests():
    for delta in (-300, -100, 50):
        ABTestResultFactory(test_id="exp-a", base_tokens_delta=delta)
    ABTestResultFactory(test_id="exp-a", invalid=True, base_tokens_delta=10_000)
    ABTestResultFactory(test_id="exp-b", base_tokens_delta=7)


def test_the_test_list_counts_valid_and_invalid_pairs(staff_client, two_tests):
    page = staff_client.get("/dashboard/ab/").content.decode()
    rows = dict(re.findall(r'<tr data-test="([^"]+)">.*?data-valid="(\d+)"', page, re.S))
    assert rows == {"exp-a": "3", "exp-b": "1"}
    assert re.search(r'<tr data-test="exp-a">.*?data-invalid="1"', page, re.S)
    # The mean of the valid pairs only: (-300 - 100 + 50) / 3.
    assert "-116.7" in page


def test_a_test_page_shows_the_summary_and_its_chart(staff_client, two_tests, admin_client):
    page = staff_client.get("/dashboard/ab/exp-a/").content.decode()
    summary = selectors.experiment_summary("exp-a")
    assert "3 valid pairs" in page and "1 invalid" in page
    mean = summary.token_deltas["token_delta"]["mean"]
    assert f"{mean:.1f}" in page
    bars = re.findall(r'<rect class="bar"[^>]*><title>([^<]+)</title>', page)
    assert sorted(int(title.rsplit(": ", 1)[1]) for title in bars) == [-300, -100, 50]
    assert 'class="ci"' in page  # the mean's 95% interval
    assert len(re.findall(r"<tr data-pair=", page)) == 4
    # One rendering: the admin's summary shows the same statistics and chart.
    admin_page = admin_client.get("/admin/abtests/abtestresult/summary/exp-a/").content.decode()
    chart = page[
        page.index('<svg id="ab-delta-chart"') : page.index(
            "</svg>", page.index('<svg id="ab-delta-chart"')
        )
    ]
    assert chart in admin_page


def test_an_unknown_test_is_a_404(staff_client):
    assert staff_client.get("/dashboard/ab/nope/").status_code == 404


def test_the_ab_pages_cost_the_same_queries_whatever_the_data(staff_client):
    def queries(url: str) -> int:
        return queries_of(staff_client, url)

    ABTestResultFactory(test_id="exp-a", base_tokens_delta=1)
    small = queries("/dashboard/ab/"), queries("/dashboard/ab/exp-a/")
    for index in range(12):
        ABTestResultFactory(test_id=f"exp-{index % 4}", base_tokens_delta=index)
        ABTestResultFactory(test_id="exp-a", base_tokens_delta=index)
    assert (queries("/dashboard/ab/"), queries("/dashboard/ab/exp-a/")) == small
