"""The admin is the operators' main view of A/B results: pages render, nothing is editable."""

import pytest

from abtests.tests.factories import ABTestResultFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/abtests/abtestresult/"


@pytest.fixture
def results():
    valid = [
        ABTestResultFactory(test_id="exp-9", base_tokens_delta=delta, success_rate_delta=12.5)
        for delta in (-200, -100, 50)
    ]
    invalid = ABTestResultFactory(test_id="exp-9", invalid=True)
    return valid, invalid


def test_changelist_shows_validity_links_and_deltas(admin_client, results):
    valid, _invalid = results
    page = admin_client.get(CHANGELIST).content.decode()
    assert "✔ valid" in page and "✘ invalid" in page
    assert f"/admin/metrics/run/{valid[0].control_run_id}/change/" in page
    assert "+12.5 pp" in page
    assert "/admin/abtests/abtestresult/summary/exp-9/" in page


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"is_valid__exact": "0"}, 1),
        ({"is_valid__exact": "1"}, 3),
        ({"test_id": "exp-9"}, 4),
        ({"test_id": "nope"}, 0),
        ({"created_at__gte": "2000-01-01 00:00:00+00:00"}, 4),
        ({"created_at__lt": "2000-01-01 00:00:00+00:00"}, 0),
    ],
)
def test_changelist_filters(admin_client, results, params, expected):
    response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


def test_changelist_search_by_test_or_run_id(admin_client, results):
    valid, _ = results
    assert admin_client.get(CHANGELIST, {"q": "exp-9"}).context["cl"].result_count == 4
    response = admin_client.get(CHANGELIST, {"q": valid[1].treatment_run_id})
    assert response.context["cl"].result_count == 1


def test_change_page_shows_errors_and_side_by_side_comparison(admin_client, results):
    _, invalid = results
    page = admin_client.get(f"{CHANGELIST}{invalid.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<li>git_commit_sha mismatch" in html
    assert 'class="ab-comparison"' in html and "evidence_request_tokens" in html
    assert 'name="_save"' not in html


def test_results_cannot_be_added_or_deleted(admin_client, results):
    _, invalid = results
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}{invalid.pk}/delete/").status_code == 403


def test_summary_page_has_statistics_and_chart(admin_client, results):
    page = admin_client.get(f"{CHANGELIST}summary/exp-9/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "3 valid pairs, 1 invalid" in " ".join(html.split())
    assert html.count('class="bar"') == 3  # one bar per valid pair
    assert 'class="ci"' in html and 'class="mean"' in html
    assert "-83.3" in html  # mean of -200, -100, 50


def test_summary_page_needs_staff(client, results):
    response = client.get(f"{CHANGELIST}summary/exp-9/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("test_id", ["%00", "-starts-with-a-dash", "has%20space"])
def test_a_malformed_test_id_never_reaches_the_summary_query(admin_client, test_id):
    # PostgreSQL text cannot hold NUL: the query used to fail with a 500. Now the URL
    # is not the summary's, and the admin answers it as any unknown URL: a redirect.
    assert admin_client.get(f"{CHANGELIST}summary/{test_id}/").status_code == 302
