"""A/B results over HTTP: valid only by default, detail, summary, the dashboard shape."""

import pytest

from abtests.tests.factories import ABTestResultFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/ab-results/"
DASHBOARD = "/dashboard/ab-results"


@pytest.fixture
def results():
    older_valid = ABTestResultFactory(test_id="exp-1", base_tokens_delta=-300)
    invalid = ABTestResultFactory(test_id="exp-1", invalid=True)
    newer_valid = ABTestResultFactory(
        test_id="exp-1", base_tokens_delta=-100, retrieval_tokens_delta=40
    )
    other = ABTestResultFactory(test_id="exp-2")
    return {"older": older_valid, "invalid": invalid, "newer": newer_valid, "other": other}


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_list_hides_invalid_results_by_default(authed_client, results):
    response = authed_client.get(LIST, {"test_id": "exp-1"})
    assert response.status_code == 200
    assert ids(response) == [results["newer"].pk, results["older"].pk]  # newest first
    assert response.json()["count"] == 2


@pytest.mark.parametrize("flag", ["false", "0", "False"])
def test_list_shows_invalid_results_on_request(authed_client, results, flag):
    response = authed_client.get(LIST, {"test_id": "exp-1", "valid_only": flag})
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [
        results["newer"].pk,
        results["invalid"].pk,
        results["older"].pk,
    ]
    invalid = rows[1]
    assert invalid["is_valid"] is False
    assert invalid["validity_errors"][0].startswith("git_commit_sha mismatch")


def test_list_row_names_the_per_category_deltas(authed_client, results):
    row = authed_client.get(LIST, {"test_id": "exp-1"}).json()["results"][0]
    assert {
        row[name]
        for name in (
            "retrieval_tokens_delta",
            "second_opinion_tokens_delta",
            "evidence_request_tokens_delta",
            "base_tokens_delta",
        )
    } == {40, 0, -100}
    assert row["token_delta"] == -60
    assert row["control_run"] == results["newer"].control_run_id


def test_list_without_filter_pages_over_every_test(authed_client, results):
    first = authed_client.get(LIST, {"limit": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = authed_client.get(LIST, {"limit": 2, "offset": 2}).json()
    assert [row["id"] for row in second["results"]] == [results["older"].pk]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"valid_only": "maybe"}, "valid_only"),
        ({"limit": 10_001}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_query_is_400_naming_the_field(authed_client, results, params, field):
    response = authed_client.get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def test_detail_shows_invalid_results_too(authed_client, results):
    response = authed_client.get(f"{LIST}{results['invalid'].pk}/")
    assert response.status_code == 200 and response.json()["is_valid"] is False
    assert authed_client.get(f"{LIST}999999/").status_code == 404


def test_summary_statistics(authed_client, results):
    response = authed_client.get(f"{LIST}summary/", {"test_id": "exp-1"})
    assert response.status_code == 200
    body = response.json()
    assert (body["valid_pairs"], body["invalid_pairs"]) == (2, 1)
    assert body["token_deltas"]["token_delta"]["mean"] == -180  # (-300 + -60) / 2
    assert (
        body["token_deltas"]["token_delta"]["ci_low"]
        < -180
        < body["token_deltas"]["token_delta"]["ci_high"]
    )
    assert [pair["token_delta"] for pair in body["pair_token_deltas"]] == [-300, -60]


def test_summary_needs_a_test_id(authed_client):
    response = authed_client.get(f"{LIST}summary/")
    assert response.status_code == 400 and "test_id" in response.json()


def test_dashboard_shape_and_default(authed_client, results):
    body = authed_client.get(DASHBOARD, {"test_id": "exp-1"}).json()
    assert set(body) == {"count", "filters", "results"}
    assert body["filters"] == {"test_id": "exp-1", "valid_only": True}
    assert body["count"] == 2 and [r["id"] for r in body["results"]] == [
        results["newer"].pk,
        results["older"].pk,
    ]
    everything = authed_client.get(f"{DASHBOARD}/", {"valid_only": "false"}).json()
    assert everything["filters"] == {"test_id": None, "valid_only": False}
    assert everything["count"] == 4


def test_dashboard_bad_flag_is_400(authed_client):
    response = authed_client.get(DASHBOARD, {"valid_only": "perhaps"})
    assert response.status_code == 400 and "valid_only" in response.json()


@pytest.mark.parametrize("url", [LIST, f"{LIST}summary/?test_id=x", DASHBOARD])
def test_anonymous_callers_are_refused(api_client, url):
    assert api_client.get(url).status_code == 401


def test_deleting_a_run_with_results_is_a_conflict_not_a_500(authed_client, results):
    run_id = results["older"].control_run_id
    response = authed_client.delete(f"/api/v1/runs/{run_id}/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot delete: still referenced by 1 A/B test results.",
        "code": "protected",
    }
    assert authed_client.get(f"/api/v1/runs/{run_id}/").status_code == 200
