"""Django answers some requests itself (no route, a refused Host, an unhandled
exception): the machine paths still get JSON, the admin keeps Django's pages."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/no-such-endpoint",
        "/runs/a/b/c/d",
        "/health/nope",
        "/api/v1/runs/%00/",
        "/api/schema/nope",
    ],
)
def test_an_unknown_machine_route_is_a_json_404(authed_client, url):
    response = authed_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("url", ["/no-such-page/", "/dashboard/nope/"])
def test_an_unknown_page_elsewhere_keeps_django_html_404(client, url):
    # /dashboard/ holds the operators' HTML pages beside Autopack's JSON routes.
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url, json_answer", [("/api/v1/runs/", True), ("/admin/", False)])
def test_a_refused_host_is_a_400_json_on_machine_paths(client, url, json_answer):
    response = client.get(url, HTTP_HOST="attacker.example")
    assert response.status_code == 400
    if json_answer:
        assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
    else:
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("autopack_site.tests.urls_with_failure")
def test_an_unhandled_exception_is_a_json_500_that_tells_nothing(caplog):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/failing")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error.", "code": "server_error"}
    assert "a bug that no view handles" in caplog.text  # logged on the server side only
    html = client.get("/failing")
    assert html.status_code == 500 and html["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url", ["/admin/patterns/pattern/?status=%00", "/admin/metrics/run/?id__in=a,%00"]
)
def test_a_null_character_in_an_admin_filter_is_a_400(admin_client, url):
    # PostgreSQL cannot hold NUL in text: the admin's query used to fail with a 500.
    assert admin_client.get(url).status_code == 400


def test_a_null_character_in_an_api_query_names_the_parameters(authed_client):
    response = authed_client.get("/api/v1/runs/?state=%00&has_failures=true&x%00=1")
    assert response.status_code == 400
    assert response.json() == {
        "state": ["Null characters are not allowed."],
        "x\x00": ["Null characters are not allowed."],
    }
